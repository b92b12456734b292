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
  const page = pagination(query);
  let out = list.items;
  // As RabbitMQ: sorted by vhost and name unless told otherwise (`sort` first, those two to break
  // ties); an explicitly empty `sort=` keeps the broker's order.
  const sort = query.get('sort');
  const reverse = query.get('sort_reverse') === 'true';
  if (sort !== '') out = sortBy(out, [...(sort ? [keyOf(sort)] : []), keyOf('vhost'), keyOf('name')]);
  if (reverse) out = sort !== '' ? (out as unknown[]).reverse() : [...out].reverse();
  if (!page) return render(out);

  const { number, size: pageSize } = page;
  const nameOf = keyOf('name');
  const filtered = filterByName(out, (t) => String(nameOf(t) ?? ''), query.get('name'), query.get('use_regex') === 'true');
  const pageCount = Math.ceil(filtered.length / pageSize);
  // The page may start right after the last item (an empty page), not further.
  if ((number - 1) * pageSize > filtered.length) {
    throw new HttpError(400, 'page_out_of_range', `Page out of range, page: ${number} page size: ${pageSize}, len: ${filtered.length}`);
  }
  const slice = filtered.slice((number - 1) * pageSize, number * pageSize);
  return {
    filtered_count: filtered.length,
    item_count: slice.length,
    items: render(slice),
    page: number,
    page_count: pageCount,
    page_size: pageSize,
    total_count: list.items.length,
  };
}

/**
 * `page` and `page_size` as RabbitMQ reads them: not integers → "Pagination parameters are
 * invalid"; out of range (page < 1, size < 1 or > 500) → `invalid_pagination_parameters` naming
 * both, an absent size as `undefined`. No `page`: no pagination.
 */
function pagination(query: URLSearchParams): { number: number; size: number } | undefined {
  const integer = (key: string): number | undefined => {
    const raw = query.get(key);
    if (raw === null) return undefined;
    if (!/^[-+]?\d+$/.test(raw)) throw badRequest('Pagination parameters are invalid');
    return Number(raw);
  };
  const number = integer('page');
  const size = integer('page_size');
  if (number === undefined) return undefined;
  if (number > 0 && (size === undefined || (size > 0 && size <= MAX_PAGE_SIZE))) return { number, size: size ?? DEFAULT_PAGE_SIZE };
  throw new HttpError(400, 'invalid_pagination_parameters',
    `Invalid pagination parameters: page number ${number}, page size ${size ?? 'undefined'}`);
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

function sortBy<T>(items: readonly T[], keysOf: Array<(t: T) => unknown>): T[] {
  const keyed = items.map((item) => ({ item, keys: keysOf.map((k) => k(item)) }));
  keyed.sort((a, b) => {
    for (let i = 0; i < a.keys.length; i++) {
      const c = compare(a.keys[i], b.keys[i]);
      if (c !== 0) return c;
    }
    return 0;
  });
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
    } catch {
      // RabbitMQ's words for a regex it cannot compile while paginating.
      throw badRequest('Pagination parameters are invalid');
    }
    test = (s) => re.test(s);
  } else {
    const needle = name.toLowerCase();
    test = (s) => s.toLowerCase().includes(needle);
  }
  return items.filter((i) => test(nameOf(i)));
}
