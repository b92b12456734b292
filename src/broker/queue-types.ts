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
import { stringValue, type FieldTable } from '../protocol/field-table.js';

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

const quorum: QueueTypeRules = {
  validate(d, what) {
    if (d.name === '') throw serverNamedQueueRefused('rabbit_quorum_queue');
    if (!d.durable) throw quorumInvalidProperty('non-durable', what);
    if (d.exclusive) throw quorumInvalidProperty('exclusive-owner', what);
    if (d.autoDelete) throw quorumInvalidProperty('auto-delete', what);
    for (const arg of ['x-max-priority', 'x-queue-mode']) {
      if (arg in d.arguments) throw preconditionFailed(`invalid arg '${arg}' for ${what} of queue type rabbit_quorum_queue`);
    }
  },
};

const TYPES = new Map<string, QueueTypeRules>([
  ['classic', { validate() {} }],
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

/** Checks the declaration against its type's rules; returns the type. */
export function validateQueueType(d: TypedDeclaration, what: string): string {
  const type = queueTypeOf(d.arguments);
  const rules = TYPES.get(type);
  if (!rules) throw invalidArg('x-queue-type', what, `"unsupported queue type '${type}'"`);
  rules.validate(d, what);
  return type;
}
