/**
 * The per-message TTL in the `expiration` property: a decimal string of milliseconds. RabbitMQ reads
 * it with Erlang's string:to_integer (an optional sign, then digits, nothing after) and refuses the
 * publish with 406 when that fails or the value is out of range, naming the reason as an Erlang term.
 */
import { preconditionFailed } from '../protocol/errors.js';

/** RabbitMQ's upper bound for a message TTL: ten years in milliseconds. */
const MAX_EXPIRY_MS = 315_360_000_000;
/** Erlang's pretty printer (~p) breaks a term that would reach this column onto a second line. */
const TERM_WRAP_COLUMN = 77;

/** The TTL in milliseconds; throws RabbitMQ's PRECONDITION_FAILED text for an invalid value. */
export function parseExpiration(expiration: string): number {
  const m = /^([+-]?)(\d+)(.*)$/s.exec(expiration);
  const prefix = `invalid expiration '${expiration}': `;
  if (!m) throw preconditionFailed(`${prefix}no_integer`);
  const [, sign, digits, rest] = m as unknown as [string, string, string, string];
  if (rest !== '') throw preconditionFailed(prefix + erlangPair(prefix.length, 'leftover_string', erlangString(rest)));
  const value = BigInt(digits) * (sign === '-' ? -1n : 1n);
  if (value < 0n) throw preconditionFailed(prefix + erlangPair(prefix.length, 'value_negative', String(value)));
  if (value > BigInt(MAX_EXPIRY_MS)) throw preconditionFailed(prefix + erlangPair(prefix.length, 'value_too_large', String(value)));
  return Number(value);
}

/** `{tag,value}` as ~p prints it starting at `column`: on one line if it fits, else split after the comma. */
function erlangPair(column: number, tag: string, value: string): string {
  const flat = `{${tag},${value}}`;
  if (column + flat.length <= TERM_WRAP_COLUMN) return flat;
  return `{${tag},\n${' '.repeat(column + 1)}${value}}`;
}

function erlangString(s: string): string {
  return `"${s.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}
