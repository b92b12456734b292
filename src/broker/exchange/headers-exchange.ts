import { amqpTypeName, isFieldTable, TypedValue, type FieldTable, type FieldValue } from '../../protocol/field-table.js';
import { preconditionFailed } from '../../protocol/errors.js';
import type { Message } from '../message.js';
import { Exchange, type Binding, type Destination } from './exchange.js';

/**
 * Matches message headers against binding arguments. x-match: all (default) / any, and RabbitMQ's
 * all-with-x / any-with-x, which also compare arguments starting with `x-` (otherwise ignored).
 * A binding value of type void matches the mere presence of the header.
 */
export class HeadersExchange extends Exchange {
  readonly type = 'headers';

  route(message: Message, out: Set<Destination>): void {
    const headers = message.properties.headers ?? {};
    for (const b of this.bindings.values()) if (matches(b.arguments, headers)) out.add(b.destination);
  }
  override bind(binding: Binding): boolean {
    const mode = binding.arguments['x-match'];
    if (mode !== undefined && typeof mode !== 'string') {
      throw preconditionFailed(`Invalid x-match field type ${amqpTypeName(mode)} (value ${formatValue(mode)}); expected longstr`);
    }
    if (mode !== undefined && !X_MATCH_MODES.includes(mode)) {
      throw preconditionFailed(`Invalid x-match field value ${formatValue(mode)}; expected all, any, all-with-x, or any-with-x`);
    }
    return super.bind(binding);
  }
  protected addToIndex(): void {}
  protected removeFromIndex(): void {}
}

const X_MATCH_MODES = ['all', 'any', 'all-with-x', 'any-with-x'];

/** Erlang-ish rendering RabbitMQ uses in this message: binaries as <<"...">>. */
function formatValue(v: FieldValue): string {
  return typeof v === 'string' || v instanceof Buffer ? `<<"${String(v)}">>` : String(v);
}

function matches(args: FieldTable, headers: FieldTable): boolean {
  const mode = typeof args['x-match'] === 'string' ? (args['x-match'] as string) : 'all';
  const any = mode === 'any' || mode === 'any-with-x';
  const withX = mode.endsWith('-with-x');
  for (const key of Object.keys(args)) {
    if (key === 'x-match' || (!withX && key.startsWith('x-'))) continue;
    const expected = args[key] as FieldValue;
    const ok = key in headers && (expected === null || sameValue(expected, headers[key] as FieldValue));
    if (any && ok) return true;
    if (!any && !ok) return false;
  }
  // `all` over no arguments matches; `any` needs at least one hit.
  return !any;
}

function sameValue(a: FieldValue, b: FieldValue): boolean {
  if (a instanceof TypedValue || b instanceof TypedValue) {
    const av = a instanceof TypedValue ? a.toJSON() : a;
    const bv = b instanceof TypedValue ? b.toJSON() : b;
    return av === bv || (typeof av === 'bigint' || typeof bv === 'bigint' ? String(av) === String(bv) : false);
  }
  if (a instanceof Buffer || b instanceof Buffer) return String(a) === String(b);
  if (a instanceof Date && b instanceof Date) return a.getTime() === b.getTime();
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((v, i) => sameValue(v, b[i] as FieldValue));
  if (isFieldTable(a) && isFieldTable(b)) {
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => k in b && sameValue(a[k] as FieldValue, b[k] as FieldValue));
  }
  return a === b;
}
