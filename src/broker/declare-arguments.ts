/**
 * The x-arguments of a new queue, checked as RabbitMQ 3.10 checks them before it creates the queue,
 * so the first rule broken gives the same 406 reply text:
 *  1. x-dead-letter-exchange must be a string (the channel's own check, with its own text);
 *  2. x-queue-type must name a known type;
 *  3. the values of the common arguments the queue's type supports, always in this order whatever
 *     order the client sent them in (an argument the type refuses is not looked at here).
 * Type-specific rules (arguments a classic or quorum queue refuses) come after, in queue-types.ts.
 * Redeclaring an existing queue skips all of this (only equivalence is checked then).
 */
import { invalidArg, preconditionFailed } from '../protocol/errors.js';
import { amqpTypeName, type FieldTable, type FieldValue } from '../protocol/field-table.js';
import { integerArg } from './queue-arguments.js';

/** Why a value is refused, in the Erlang term RabbitMQ prints after "invalid arg 'x' for queue ...: ". */
type Check = (v: FieldValue, args: FieldTable) => string | undefined;

/** The longest TTL or expiry RabbitMQ accepts (rabbit_misc:check_expiry): ten years, in ms. */
const MAX_EXPIRY = 315_360_000_000;
const QUEUE_TYPES = new Set(['classic', 'quorum', 'stream']);
const OVERFLOW_MODES = new Set(['drop-head', 'reject-publish', 'reject-publish-dlx']);
const QUEUE_MODES = new Set(['default', 'lazy']);

const expectedInteger = (v: FieldValue) => `"expected integer, got ${amqpTypeName(v)}"`;
const unacceptableType = (v: FieldValue) => `{unacceptable_type,${amqpTypeName(v)}}`;

function nonNegativeInteger(v: FieldValue): string | undefined {
  const n = integerArg(v);
  if (n === undefined) return expectedInteger(v);
  return n < 0 ? `{value_negative,${n}}` : undefined;
}

function expiry(v: FieldValue): string | undefined {
  const n = integerArg(v);
  if (n === undefined) return expectedInteger(v);
  if (n < 0) return `{value_negative,${n}}`;
  return n > MAX_EXPIRY ? `{value_too_large,${n}}` : undefined;
}

function oneOf(allowed: Set<string>, unknown: (s: string) => string): Check {
  return (v) => (typeof v !== 'string' ? unacceptableType(v) : allowed.has(v) ? undefined : unknown(v));
}

const COMMON_CHECKS: ReadonlyArray<[string, Check]> = [
  ['x-expires', (v) => (integerArg(v) === 0 ? '{value_zero,0}' : expiry(v))],
  ['x-message-ttl', expiry],
  ['x-dead-letter-exchange', (v) => (typeof v === 'string' ? undefined : unacceptableType(v))],
  ['x-dead-letter-routing-key', (v, args) =>
    typeof v !== 'string' ? unacceptableType(v) : 'x-dead-letter-exchange' in args ? undefined : 'routing_key_but_no_dlx_defined'],
  ['x-max-length', nonNegativeInteger],
  ['x-max-length-bytes', nonNegativeInteger],
  ['x-max-in-memory-length', nonNegativeInteger],
  ['x-max-in-memory-bytes', nonNegativeInteger],
  ['x-max-priority', (v) => {
    const bad = nonNegativeInteger(v);
    if (bad !== undefined) return bad;
    const n = integerArg(v)!;
    return n > 255 ? `{max_value_exceeded,${n}}` : undefined;
  }],
  ['x-overflow', oneOf(OVERFLOW_MODES, () => 'invalid_overflow')],
  ['x-queue-mode', oneOf(QUEUE_MODES, (s) => `"unsupported queue mode '${s}'"`)],
  // Classic queue storage versions 1 and 2 (RabbitMQ 3.10); Warren has one storage for both.
  ['x-queue-version', (v) => nonNegativeInteger(v) ?? (integerArg(v) === 1 || integerArg(v) === 2 ? undefined : `"unsupported queue version '${integerArg(v)}'"`)],
  ['x-single-active-consumer', (v) => (typeof v === 'boolean' ? undefined : unacceptableType(v))],
];

const checkQueueType = oneOf(QUEUE_TYPES, (s) => `"unsupported queue type '${s}'"`);

/** Throws RabbitMQ's 406 for the first argument of a new queue it would refuse; `what` = "queue 'q' in vhost '/'". */
export function checkDeclareArguments(args: FieldTable, what: string, refusedByType: ReadonlySet<string>): void {
  const dlx = args['x-dead-letter-exchange'];
  if (dlx !== undefined && typeof dlx !== 'string') {
    throw preconditionFailed(`invalid type '${amqpTypeName(dlx)}' for arg 'x-dead-letter-exchange' in ${what}`);
  }
  const type = args['x-queue-type'];
  const badType = type === undefined ? undefined : checkQueueType(type, args);
  if (badType !== undefined) throw invalidArg('x-queue-type', what, badType);
  for (const [name, check] of COMMON_CHECKS) {
    const v = args[name];
    if (v === undefined || refusedByType.has(name)) continue;
    const bad = check(v, args);
    if (bad !== undefined) throw invalidArg(name, what, bad);
  }
}
