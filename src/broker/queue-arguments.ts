/**
 * The x-arguments a queue honours (as RabbitMQ classic queues): message TTL, queue expiry, length
 * limits with their overflow behaviour, and dead-lettering. Parsed once at declare; invalid values
 * are refused with RabbitMQ's 406 texts.
 */
import { invalidArg, preconditionFailed } from '../protocol/errors.js';
import { amqpTypeName, numericValue, stringValue, TypedValue, type FieldTable, type FieldValue } from '../protocol/field-table.js';

export type Overflow = 'drop-head' | 'reject-publish' | 'reject-publish-dlx';

export interface QueuePolicy {
  messageTtl: number | undefined;
  expires: number | undefined;
  maxLength: number | undefined;
  maxLengthBytes: number | undefined;
  overflow: Overflow;
  /** x-overflow was given (a policy's overflow then does not apply). */
  overflowFromArgs: boolean;
  deadLetterExchange: string | undefined;
  deadLetterRoutingKey: string | undefined;
  /** Quorum queues: returns after which a message is dropped or dead-lettered (delivery_limit). */
  deliveryLimit: number | undefined;
}

function nonNegative(args: FieldTable, name: string, min = 0): number | undefined {
  if (!(name in args)) return undefined;
  const n = numericValue(args[name]);
  if (n === undefined || !Number.isInteger(n) || n < min) {
    throw preconditionFailed(`invalid arg '${name}' for queue: ${JSON.stringify(String(args[name]))} is not a valid value`);
  }
  return n;
}

export function parseQueuePolicy(args: FieldTable): QueuePolicy {
  const overflow = stringValue(args['x-overflow']) ?? 'drop-head';
  if (overflow !== 'drop-head' && overflow !== 'reject-publish' && overflow !== 'reject-publish-dlx') {
    throw preconditionFailed(`invalid arg 'x-overflow' for queue: '${overflow}' is not a valid value`);
  }
  return {
    messageTtl: nonNegative(args, 'x-message-ttl'),
    expires: nonNegative(args, 'x-expires', 1),
    maxLength: nonNegative(args, 'x-max-length'),
    maxLengthBytes: nonNegative(args, 'x-max-length-bytes'),
    overflow,
    overflowFromArgs: 'x-overflow' in args,
    deadLetterExchange: stringValue(args['x-dead-letter-exchange']),
    deadLetterRoutingKey: stringValue(args['x-dead-letter-routing-key']),
    deliveryLimit: optionalInteger(args['x-delivery-limit']),
  };
}

/** RabbitMQ ignores a non-numeric x-delivery-limit rather than refusing it. */
function optionalInteger(v: FieldValue | undefined): number | undefined {
  const n = v === undefined ? undefined : numericValue(v);
  return n !== undefined && Number.isInteger(n) && n >= 0 ? n : undefined;
}

/**
 * The queue's settings once a policy definition meets its x-arguments, as RabbitMQ 3.10 resolves
 * them: for TTLs, expiry and length limits the lower of the two applies; for dead-lettering and
 * overflow the argument wins outright and the policy only fills in what the arguments leave unset.
 */
export function withPolicy(args: QueuePolicy, def: Readonly<Record<string, unknown>>): QueuePolicy {
  const lower = (arg: number | undefined, key: string): number | undefined => {
    const p = def[key];
    if (typeof p !== 'number') return arg;
    return arg === undefined ? p : Math.min(arg, p);
  };
  const str = (arg: string | undefined, key: string): string | undefined => {
    const p = def[key];
    return arg ?? (typeof p === 'string' ? p : undefined);
  };
  return {
    messageTtl: lower(args.messageTtl, 'message-ttl'),
    expires: lower(args.expires, 'expires'),
    maxLength: lower(args.maxLength, 'max-length'),
    maxLengthBytes: lower(args.maxLengthBytes, 'max-length-bytes'),
    overflow: args.overflowFromArgs ? args.overflow : ((str(undefined, 'overflow') as Overflow | undefined) ?? args.overflow),
    overflowFromArgs: args.overflowFromArgs,
    deadLetterExchange: str(args.deadLetterExchange, 'dead-letter-exchange'),
    deadLetterRoutingKey: str(args.deadLetterRoutingKey, 'dead-letter-routing-key'),
    deliveryLimit: lower(args.deliveryLimit, 'delivery-limit'),
  };
}

/**
 * x-max-priority: an integer 0-255 (RabbitMQ's texts); undefined for a plain queue. 0 is accepted
 * and behaves as a plain queue (every message has priority 0 there).
 */
export function parseMaxPriority(args: FieldTable, what: string): number | undefined {
  const n = integerArgument(args, 'x-max-priority', what);
  if (n === undefined) return undefined;
  if (n < 0) throw invalidArg('x-max-priority', what, `{value_negative,${n}}`);
  if (n > 255) throw invalidArg('x-max-priority', what, `{max_value_exceeded,${n}}`);
  return n === 0 ? undefined : n;
}

/** An integer argument (any AMQP integer width); RabbitMQ's "expected integer, got longstr" otherwise. */
export function integerArgument(args: FieldTable, name: string, what: string): number | undefined {
  const v = args[name];
  if (v === undefined) return undefined;
  const n = integerArg(v);
  if (n === undefined) throw invalidArg(name, what, `"expected integer, got ${amqpTypeName(v)}"`);
  return n;
}

/** x-single-active-consumer: a boolean (RabbitMQ's {unacceptable_type,...} otherwise). */
export function parseSingleActiveConsumer(args: FieldTable, what: string): boolean {
  const v = args['x-single-active-consumer'];
  if (v === undefined) return false;
  if (typeof v !== 'boolean') throw invalidArg('x-single-active-consumer', what, `{unacceptable_type,${amqpTypeName(v)}}`);
  return v;
}

/** An integer-typed field value (any width), or undefined for strings, doubles and the rest. */
export function integerArg(v: FieldValue): number | undefined {
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'number') return Number.isInteger(v) ? v : undefined;
  if (v instanceof TypedValue && v.type !== 'f' && v.type !== 'd' && v.type !== 'D') return Number(v.value);
  return undefined;
}
