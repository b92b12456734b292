/**
 * rabbitmqctl's output: an informational banner ("Listing users ..."), then a tab-separated table
 * with a header line, or with `--formatter json` a JSON array with one object per line.
 * `-q` drops the banner, `-s` the banner and the header, `--no-table-headers` the header.
 *
 * rabbitmqctl has two kinds of listing, and they print "nothing" differently (checked against
 * 3.10.8): the info-key listings (list_queues, list_connections…) stream rows, so an empty one
 * prints no header at all and `[` `]` on two lines in JSON; the fixed listings (list_permissions,
 * list_policies…) print a table, so an empty one is one empty line and `[]` in JSON.
 */

export type Formatter = 'table' | 'json';

/** How a listing prints when it has no rows (see above). */
export type ListingKind = 'stream' | 'table';

export interface OutputOptions {
  formatter: Formatter;
  quiet: boolean;
  silent: boolean;
  noTableHeaders: boolean;
}

export class Output {
  constructor(
    readonly options: OutputOptions,
    private readonly write: (text: string) => void = (t) => process.stdout.write(t),
  ) {}

  get json(): boolean {
    return this.options.formatter === 'json';
  }

  /** "Listing users ..." lines: not in quiet/silent mode, nor with a JSON formatter. */
  banner(text: string): void {
    if (this.options.quiet || this.options.silent || this.json) return;
    this.write(`${text}\n`);
  }

  /** A plain result line ("Success", "Queue was successfully deleted …"). */
  line(text: string): void {
    if (this.options.silent) return;
    this.write(`${text}\n`);
  }

  raw(text: string): void {
    this.write(text);
  }

  /** Rows of values under column names; `jsonRows` are the rows as JSON values (typed arguments…). */
  table(columns: string[], rows: unknown[][], kind: ListingKind = 'stream', jsonRows: unknown[][] = rows): void {
    if (this.json) {
      if (jsonRows.length === 0) {
        this.write(kind === 'stream' ? '[\n]\n' : '[]\n');
        return;
      }
      const objects = jsonRows.map((r) => JSON.stringify(Object.fromEntries(columns.map((c, i) => [c, r[i] ?? null]))));
      this.write(`[\n${objects.join('\n,')}\n]\n`);
      return;
    }
    if (rows.length === 0) {
      if (kind === 'table') this.write('\n');
      return;
    }
    const lines: string[] = [];
    if (!this.options.silent && !this.options.noTableHeaders) lines.push(columns.join('\t'));
    for (const r of rows) lines.push(r.map(cell).join('\t'));
    this.write(`${lines.join('\n')}\n`);
  }

  /** A single document (status, definitions). */
  document(value: unknown): void {
    this.write(`${JSON.stringify(value, null, 2)}\n`);
  }
}

/**
 * A value in a table cell, the way rabbitmqctl prints Erlang terms: lists in brackets, tables as
 * [{"key",value}], booleans and numbers as is, null as empty.
 */
export function cell(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return `[${v.map(cell).join(', ')}]`;
  if (typeof v === 'object') {
    const entries = Object.entries(v as Record<string, unknown>);
    return `[${entries.map(([k, x]) => `{"${k}",${typeof x === 'string' ? JSON.stringify(x) : cell(x)}}`).join(',')}]`;
  }
  return String(v);
}

/**
 * An AMQP field table as rabbitmqctl's JSON formatter prints it: a list of [name, type, value]
 * (`[["x-max-length","long",5]]`), the types named as the broker stores them.
 */
export function typedTable(v: unknown): unknown {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return v;
  return Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, amqpType(x), Array.isArray(x) ? x : typedTable(x)]);
}

function amqpType(x: unknown): string {
  if (typeof x === 'boolean') return 'bool';
  if (typeof x === 'number') return Number.isInteger(x) ? 'long' : 'double';
  if (typeof x === 'string') return 'longstr';
  if (Array.isArray(x)) return 'array';
  if (x === null || x === undefined) return 'void';
  return 'table';
}
