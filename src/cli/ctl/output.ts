/**
 * rabbitmqctl's output: an informational banner ("Listing users ..."), then a tab-separated table
 * with a header line, or with `--formatter json` a JSON array with one object per line.
 * `-q` drops the banner, `-s` the banner and the header, `--no-table-headers` the header.
 */

export type Formatter = 'table' | 'json';

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

  /** "Listing users ..." lines: not in quiet/silent mode, nor with a JSON formatter. */
  banner(text: string): void {
    if (this.options.quiet || this.options.silent || this.options.formatter === 'json') return;
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

  /** Rows of values under column names. */
  table(columns: string[], rows: unknown[][]): void {
    if (this.options.formatter === 'json') {
      const objects = rows.map((r) => JSON.stringify(Object.fromEntries(columns.map((c, i) => [c, r[i] ?? null]))));
      this.write(`[\n${objects.join(',\n')}${objects.length ? '\n' : ''}]\n`);
      return;
    }
    const lines: string[] = [];
    if (!this.options.silent && !this.options.noTableHeaders) lines.push(columns.join('\t'));
    for (const r of rows) lines.push(r.map(cell).join('\t'));
    if (lines.length) this.write(`${lines.join('\n')}\n`);
  }

  /** A single document (status, definitions). */
  json(value: unknown): void {
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
  if (Array.isArray(v)) return `[${v.map(term).join(', ')}]`;
  if (typeof v === 'object') {
    const entries = Object.entries(v as Record<string, unknown>);
    return `[${entries.map(([k, x]) => `{"${k}",${typeof x === 'string' ? JSON.stringify(x) : cell(x)}}`).join(',')}]`;
  }
  return String(v);
}

function term(v: unknown): string {
  return cell(v);
}
