/**
 * Building blocks shared by the pages. Every form control is created with its label and the two
 * are tied by id (RabbitMQ's UI leaves them apart; screen readers and tests need them together).
 */
import type { ComponentChildren } from 'preact';
import { useId, useState } from 'preact/hooks';

export function Section(props: { title: string; open?: boolean; children: ComponentChildren }) {
  return (
    <details class="section" open={props.open ?? true}>
      <summary>
        <h2>{props.title}</h2>
      </summary>
      <div class="section-body">{props.children}</div>
    </details>
  );
}

export function Notice(props: { message: string | undefined; failed?: boolean }) {
  if (!props.message) return null;
  return (
    <p class={props.failed ? 'notice error' : 'notice ok'} role={props.failed ? 'alert' : 'status'}>
      {props.message}
    </p>
  );
}

export function LoadError(props: { error: string | undefined }) {
  return <Notice message={props.error} failed />;
}

/** The input attributes the pages use (preact's full input type is a union per `type`). */
interface InputProps {
  type?: 'text' | 'password' | 'number' | 'search';
  name?: string;
  required?: boolean;
  autocomplete?: string;
  placeholder?: string;
  min?: string;
  class?: string;
  'aria-describedby'?: string;
}

export function TextField(props: InputProps & { label: string; value: string; onInput: (v: string) => void }) {
  const { label, value, onInput, type = 'text', ...rest } = props;
  const id = useId();
  return (
    <div class="field">
      <label for={id}>{label}</label>
      <input id={id} type={type as 'text'} value={value} onInput={(e) => onInput(e.currentTarget.value)} {...rest} />
    </div>
  );
}

export function TextArea(props: { label: string; value: string; onInput: (v: string) => void; rows?: number; name?: string }) {
  const id = useId();
  return (
    <div class="field">
      <label for={id}>{props.label}</label>
      <textarea id={id} name={props.name} rows={props.rows ?? 4} value={props.value} onInput={(e) => props.onInput(e.currentTarget.value)} />
    </div>
  );
}

export interface Option {
  value: string;
  label: string;
}

export function SelectField(props: { label: string; value: string; options: (Option | string)[]; onChange: (v: string) => void; name?: string }) {
  const id = useId();
  return (
    <div class="field">
      <label for={id}>{props.label}</label>
      <select id={id} name={props.name} value={props.value} onChange={(e) => props.onChange(e.currentTarget.value)}>
        {props.options.map((o) => {
          const opt = typeof o === 'string' ? { value: o, label: o } : o;
          return (
            <option key={opt.value} value={opt.value}>
              {opt.label}
            </option>
          );
        })}
      </select>
    </div>
  );
}

export function CheckField(props: { label: string; checked: boolean; onChange: (v: boolean) => void }) {
  const id = useId();
  return (
    <div class="field check">
      <input id={id} type="checkbox" checked={props.checked} onChange={(e) => props.onChange(e.currentTarget.checked)} />
      <label for={id}>{props.label}</label>
    </div>
  );
}

/** Key / value / type rows, as RabbitMQ's "Arguments:" and "Headers:" editors. */
export interface KeyValueRow {
  key: string;
  value: string;
  type: 'String' | 'Number' | 'Boolean';
}

export function rowsToObject(rows: KeyValueRow[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const r of rows) {
    if (r.key.trim() === '') continue;
    out[r.key] = r.type === 'Number' ? Number(r.value) : r.type === 'Boolean' ? r.value === 'true' : r.value;
  }
  return out;
}

export function KeyValueEditor(props: { label: string; rows: KeyValueRow[]; onChange: (rows: KeyValueRow[]) => void; hint?: string }) {
  const rows = [...props.rows, { key: '', value: '', type: 'String' as const }];
  const set = (i: number, patch: Partial<KeyValueRow>) => {
    const next = rows.map((r, j) => (j === i ? { ...r, ...patch } : r)).filter((r, j) => r.key !== '' || r.value !== '' || j < props.rows.length);
    props.onChange(next.filter((r) => r.key !== '' || r.value !== ''));
  };
  return (
    <fieldset class="kv">
      <legend>{props.label}</legend>
      {rows.map((r, i) => (
        <div class="kv-row" key={i}>
          <TextField label={`${props.label.replace(/:$/, '')} key ${i + 1}`} class="kv-key" value={r.key} onInput={(v) => set(i, { key: v })} />
          <span aria-hidden="true">=</span>
          <TextField label={`${props.label.replace(/:$/, '')} value ${i + 1}`} value={r.value} onInput={(v) => set(i, { value: v })} />
          <SelectField label={`${props.label.replace(/:$/, '')} type ${i + 1}`} value={r.type} options={['String', 'Number', 'Boolean']} onChange={(v) => set(i, { type: v as KeyValueRow['type'] })} />
        </div>
      ))}
      {props.hint ? <p class="hint">{props.hint}</p> : null}
    </fieldset>
  );
}

/** A name/value list for an object's details. */
export function Facts(props: { rows: [string, ComponentChildren][] }) {
  return (
    <table class="facts">
      <tbody>
        {props.rows.map(([k, v]) => (
          <tr key={k}>
            <th scope="row">{k}</th>
            <td>{v}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export interface Column<T> {
  label: string;
  /** The API field to sort on (dotted path); no sort when absent. */
  sort?: string;
  num?: boolean;
  render: (row: T) => ComponentChildren;
}

export interface SortState {
  key: string;
  reverse: boolean;
}

export function Table<T>(props: {
  columns: Column<T>[];
  rows: T[];
  rowKey: (row: T) => string;
  sort?: SortState;
  onSort?: (s: SortState) => void;
  empty?: string;
  label?: string;
}) {
  const { sort, onSort } = props;
  if (props.rows.length === 0) return <p class="empty">{props.empty ?? '... no items ...'}</p>;
  return (
    <div class="table-wrap">
      <table class="list" aria-label={props.label}>
        <thead>
          <tr>
            {props.columns.map((c) => {
              const active = sort && c.sort === sort.key;
              const ariaSort = active ? (sort.reverse ? 'descending' : 'ascending') : undefined;
              return (
                <th key={c.label} class={c.num ? 'num' : undefined} aria-sort={ariaSort} scope="col">
                  {c.sort && onSort ? (
                    <button type="button" class="sort" onClick={() => onSort({ key: c.sort!, reverse: active ? !sort.reverse : false })}>
                      {c.label}
                      {active ? (sort.reverse ? ' ▼' : ' ▲') : ''}
                    </button>
                  ) : (
                    c.label
                  )}
                </th>
              );
            })}
          </tr>
        </thead>
        <tbody>
          {props.rows.map((row) => (
            <tr key={props.rowKey(row)}>
              {props.columns.map((c) => (
                <td key={c.label} class={c.num ? 'num' : undefined}>
                  {c.render(row)}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** "Filter:" with a "Regex" switch, and the paging line ("Page N of M"), as RabbitMQ's lists. */
export function ListControls(props: {
  filter: string;
  regex: boolean;
  onFilter: (f: string, regex: boolean) => void;
  page: number;
  pageCount: number;
  onPage: (p: number) => void;
  shown: number;
  filtered: number;
  total: number;
}) {
  const pages = Math.max(props.pageCount, 1);
  const pageId = useId();
  return (
    <div class="list-controls">
      <TextField label="Filter:" type="search" value={props.filter} onInput={(v) => props.onFilter(v, props.regex)} />
      <CheckField label="Regex" checked={props.regex} onChange={(r) => props.onFilter(props.filter, r)} />
      <div class="field pager">
        <label for={pageId}>Page</label>
        <select id={pageId} value={String(props.page)} onChange={(e) => props.onPage(Number(e.currentTarget.value))}>
          {Array.from({ length: pages }, (_, i) => (
            <option key={i} value={String(i + 1)}>
              {i + 1}
            </option>
          ))}
        </select>
        <span>
          {' '}
          of {pages}
        </span>
        <span class="sr-only" role="status">{`Page ${props.page} of ${pages}`}</span>
      </div>
      <span class="count">
        {props.filtered === props.total ? `${props.total} items` : `${props.filtered} of ${props.total} items match`}
        {props.shown < props.filtered ? `, ${props.shown} shown` : ''}
      </span>
    </div>
  );
}

/** A button that asks first (RabbitMQ asks before purging and deleting). */
export function ConfirmButton(props: { label: string; question: string; onConfirm: () => void; class?: string }) {
  return (
    <button
      type="button"
      class={props.class ?? 'danger'}
      onClick={() => {
        if (window.confirm(props.question)) props.onConfirm();
      }}
    >
      {props.label}
    </button>
  );
}

/** Whether a collapsible form is expanded: kept across refreshes. */
export function useToggle(initial = false): [boolean, () => void] {
  const [open, setOpen] = useState(initial);
  return [open, () => setOpen((o) => !o)];
}
