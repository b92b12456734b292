/**
 * RabbitMQ's list query parameters: `sort` / `sort_reverse` (dotted paths such as
 * `message_stats.publish`), pagination (`page`, `page_size`, and `name` + `use_regex` filtering,
 * which RabbitMQ applies only to paginated requests), and `columns=` to keep only some fields.
 */
import { HttpError, badRequest } from './http.js';

const MAX_PAGE_SIZE = 500;
const DEFAULT_PAGE_SIZE = 100;

type Item = Record<string, unknown>;

export interface Page {
  filtered_count: number;
  item_count: number;
  items: unknown[];
  page: number;
  page_count: number;
  page_size: number;
  total_count: number;
}

/**
 * A list whose JSON is built only where the answer needs it: a paginated request filters and
 * sorts on cheap keys (`keys`, e.g. a queue's name) and renders one page, so a page of 10,000
 * queues costs about as much as a page of 100. Sorting on another field renders what it sorts.
 */
export class LazyList<T> {
  constructor(
    readonly items: readonly T[],
    readonly toJson: (t: T) => Item,
    readonly keys: Record<string, (t: T) => unknown> = {},
  ) {}
}

/** Applies sort, pagination and columns to a list answer. */
export function shapeList(items: Item[] | LazyList<unknown>, query: URLSearchParams): Item[] | Page {
  // Plain lists are lazy lists whose items are their own JSON.
  const list = (items instanceof LazyList ? items : new LazyList<Item>(items, (i) => i)) as LazyList<unknown>;
  const columns = parseColumns(query);
  const render = (rows: readonly unknown[]) => rows.map((t) => (columns ? pickColumns(list.toJson(t), columns) : list.toJson(t)));
  const cache = new Map<unknown, Item>();
  const json = (t: unknown) => {
    let j = cache.get(t);
    if (!j) cache.set(t, (j = list.toJson(t)));
    return j;
  };
  const keyOf = (path: string) => list.keys[path] ?? ((t: unknown) => getPath(json(t), path.split('.')));
  let out = list.items;
  const sort = query.get('sort');
  const reverse = query.get('sort_reverse') === 'true';
  if (sort) out = sortBy(out, keyOf(sort));
  if (reverse) out = sort ? (out as unknown[]).reverse() : [...out].reverse();
  if (!query.has('page')) return render(out);

  const page = Number(query.get('page'));
  const pageSize = query.has('page_size') ? Number(query.get('page_size')) : DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(page) || page < 1 || !Number.isInteger(pageSize) || pageSize < 1 || pageSize > MAX_PAGE_SIZE) {
    throw badRequest('Pagination parameters are invalid');
  }
  const nameOf = keyOf('name');
  const filtered = filterByName(out, (t) => String(nameOf(t) ?? ''), query.get('name'), query.get('use_regex') === 'true');
  const pageCount = Math.ceil(filtered.length / pageSize);
  if (page > 1 && page > pageCount) {
    throw new HttpError(400, 'page_out_of_range', `Page out of range, page: ${page} page size: ${pageSize}, len: ${filtered.length}`);
  }
  const slice = filtered.slice((page - 1) * pageSize, page * pageSize);
  return {
    filtered_count: filtered.length,
    item_count: slice.length,
    items: render(slice),
    page,
    page_count: pageCount,
    page_size: pageSize,
    total_count: list.items.length,
  };
}

/** `columns=` on a single object (GET /api/queues/v/q?columns=messages). */
export function shapeObject(item: Item, query: URLSearchParams): Item {
  const columns = parseColumns(query);
  return columns ? pickColumns(item, columns) : item;
}

function parseColumns(query: URLSearchParams): string[][] | undefined {
  const raw = query.get('columns');
  if (!raw) return undefined;
  return raw.split(',').map((c) => c.trim()).filter(Boolean).map((c) => c.split('.'));
}

function pickColumns(item: Item, columns: string[][]): Item {
  const out: Item = {};
  for (const path of columns) {
    const value = getPath(item, path);
    if (value === undefined) continue;
    let target = out;
    for (const key of path.slice(0, -1)) {
      if (typeof target[key] !== 'object' || target[key] === null) target[key] = {};
      target = target[key] as Item;
    }
    target[path[path.length - 1]!] = value;
  }
  return out;
}

function getPath(item: unknown, path: string[]): unknown {
  let v = item;
  for (const key of path) {
    if (typeof v !== 'object' || v === null) return undefined;
    v = (v as Item)[key];
  }
  return v;
}

function sortBy<T>(items: readonly T[], keyOf: (t: T) => unknown): T[] {
  const keyed = items.map((item) => ({ item, key: keyOf(item) }));
  keyed.sort((a, b) => compare(a.key, b.key));
  return keyed.map((k) => k.item);
}

/** Missing values first, then numbers, then strings by code unit ("P-D" before "p-a"), as RabbitMQ sorts. */
function compare(a: unknown, b: unknown): number {
  if (a === b) return 0;
  if (a === undefined || a === null) return -1;
  if (b === undefined || b === null) return 1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'number') return -1;
  if (typeof b === 'number') return 1;
  const sa = typeof a === 'string' ? a : JSON.stringify(a);
  const sb = typeof b === 'string' ? b : JSON.stringify(b);
  return sa < sb ? -1 : sa > sb ? 1 : 0;
}

function filterByName<T>(items: readonly T[], nameOf: (t: T) => string, name: string | null, useRegex: boolean): readonly T[] {
  if (!name) return items;
  let test: (s: string) => boolean;
  if (useRegex) {
    let re: RegExp;
    try {
      re = new RegExp(name, 'i');
    } catch (e) {
      throw badRequest(`invalid regular expression '${name}': ${(e as Error).message}`);
    }
    test = (s) => re.test(s);
  } else {
    const needle = name.toLowerCase();
    test = (s) => s.toLowerCase().includes(needle);
  }
  return items.filter((i) => test(nameOf(i)));
}
