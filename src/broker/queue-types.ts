/**
 * Queue types (x-queue-type): what a declaration of each type must satisfy, checked before a queue
 * is created. `classic` (the default) and `quorum` are Warren's; a type added later (streams)
 * registers its rules with registerQueueType() and is then accepted like the others. Until then
 * `stream` is refused with a clear error instead of silently becoming a classic queue.
 *
 * Quorum queues on a single node are stored like durable classic queues; what clients see of them
 * follows RabbitMQ 3.10: declaration rules, type "quorum", x-delivery-count and delivery limits.
 */
import {
  invalidArg, preconditionFailed, quorumInvalidProperty, serverNamedQueueRefused,
} from '../protocol/errors.js';
import { amqpTypeName, stringValue, type FieldTable } from '../protocol/field-table.js';
import { integerArg } from './queue-arguments.js';

/** The parts of a queue.declare the type rules look at. */
export interface TypedDeclaration {
  readonly name: string;
  readonly durable: boolean;
  readonly exclusive: boolean;
  readonly autoDelete: boolean;
  readonly arguments: FieldTable;
}

export interface QueueTypeRules {
  /** Throws RabbitMQ's 406 when the declaration is not allowed for this type; `what` = "queue 'q' in vhost '/'". */
  validate(d: TypedDeclaration, what: string): void;
}

/**
 * Arguments a queue type refuses outright (RabbitMQ 3.10: "invalid arg 'x' for queue 'q' in vhost '/'
 * of queue type rabbit_classic_queue"), reported for the first of them in the order the client sent.
 */
function refuseArguments(args: FieldTable, refused: ReadonlySet<string>, what: string, module: string): void {
  for (const arg of Object.keys(args)) {
    if (refused.has(arg)) throw preconditionFailed(`invalid arg '${arg}' for ${what} of queue type ${module}`);
  }
}

const NOT_FOR_CLASSIC = new Set([
  'x-delivery-limit', 'x-max-in-memory-length', 'x-max-in-memory-bytes', 'x-quorum-initial-group-size', 'x-max-age',
  'x-stream-max-segment-size-bytes', 'x-initial-cluster-size', 'x-queue-leader-locator', 'x-dead-letter-strategy',
]);
const NOT_FOR_QUORUM = new Set([
  'x-max-priority', 'x-queue-mode', 'x-queue-master-locator', 'x-max-age', 'x-stream-max-segment-size-bytes', 'x-initial-cluster-size',
  'x-queue-version',
]);

const classic: QueueTypeRules = {
  validate(d, what) {
    refuseArguments(d.arguments, NOT_FOR_CLASSIC, what, 'rabbit_classic_queue');
  },
};

/** RabbitMQ's order: refused arguments, argument values, then auto-delete, exclusive, non-durable. */
const quorum: QueueTypeRules = {
  validate(d, what) {
    refuseArguments(d.arguments, NOT_FOR_QUORUM, what, 'rabbit_quorum_queue');
    const groupSize = d.arguments['x-quorum-initial-group-size'];
    if (groupSize !== undefined) {
      const n = integerArg(groupSize);
      if (n === undefined) throw invalidArg('x-quorum-initial-group-size', what, `"expected integer, got ${amqpTypeName(groupSize)}"`);
      if (n < 0) throw invalidArg('x-quorum-initial-group-size', what, `{value_negative,${n}}`);
      if (n === 0) throw invalidArg('x-quorum-initial-group-size', what, '{value_zero,0}');
    }
    const strategy = d.arguments['x-dead-letter-strategy'];
    if (strategy !== undefined && strategy !== 'at-most-once' && strategy !== 'at-least-once') {
      throw invalidArg('x-dead-letter-strategy', what, 'invalid_dlx_strategy');
    }
    const locator = d.arguments['x-queue-leader-locator'];
    if (locator !== undefined && locator !== 'client-local' && locator !== 'balanced') {
      throw invalidArg('x-queue-leader-locator', what, 'invalid_queue_locator_arg');
    }
    if (d.autoDelete) throw quorumInvalidProperty('auto-delete', what);
    if (d.exclusive) throw quorumInvalidProperty('exclusive-owner', what);
    if (!d.durable) throw quorumInvalidProperty('non-durable', what);
  },
};

const TYPES = new Map<string, QueueTypeRules>([
  ['classic', classic],
  ['quorum', quorum],
  // Streams are declared by vhost.declareQueue through src/broker/stream-declaration.ts.
  ['stream', { validate() {} }],
]);

/** The extension point: a queue type implemented elsewhere (streams) replaces or adds its rules here. */
export function registerQueueType(name: string, rules: QueueTypeRules): void {
  TYPES.set(name, rules);
}

/** The declared type ('classic' when x-queue-type is absent). */
export function queueTypeOf(args: FieldTable): string {
  return stringValue(args['x-queue-type']) ?? 'classic';
}

/**
 * The arguments a type refuses, whose values RabbitMQ therefore never checks. Streams check all of
 * theirs in stream-declaration.ts.
 */
export function argumentsRefusedBy(type: string): ReadonlySet<string> {
  return type === 'quorum' ? NOT_FOR_QUORUM : type === 'stream' ? ALL_COMMON : NOT_FOR_CLASSIC;
}
const ALL_COMMON = new Set([
  'x-expires', 'x-message-ttl', 'x-dead-letter-exchange', 'x-dead-letter-routing-key', 'x-max-length', 'x-max-length-bytes',
  'x-max-in-memory-length', 'x-max-in-memory-bytes', 'x-max-priority', 'x-overflow', 'x-queue-mode', 'x-queue-version',
  'x-single-active-consumer',
]);

/** A server-named queue (empty name) of a type that does not allow one: RabbitMQ's 406, before any other check. */
export function checkServerNamedAllowed(args: FieldTable): void {
  if (queueTypeOf(args) === 'quorum') throw serverNamedQueueRefused('rabbit_quorum_queue');
}

/** Checks the declaration against its type's rules; returns the type. */
export function validateQueueType(d: TypedDeclaration, what: string): string {
  const type = queueTypeOf(d.arguments);
  const rules = TYPES.get(type);
  if (!rules) throw invalidArg('x-queue-type', what, `"unsupported queue type '${type}'"`);
  rules.validate(d, what);
  return type;
}
