/**
 * queue.declare rules for x-queue-type: stream, as RabbitMQ 3.10 applies them: a stream is durable,
 * not exclusive, not auto-delete, has a client-chosen name, and takes only stream arguments.
 */
import {
  streamInvalidArgument, streamInvalidMaxAge, streamInvalidProperty, streamServerNamed, preconditionFailed,
} from '../protocol/errors.js';
import type { FieldTable } from '../protocol/field-table.js';
import { retentionOf } from '../stream/retention.js';

/** Arguments of classic and quorum queues that a stream refuses. */
const NOT_FOR_STREAMS = [
  'x-message-ttl', 'x-expires', 'x-max-length', 'x-overflow', 'x-dead-letter-exchange', 'x-dead-letter-routing-key',
  'x-max-priority', 'x-queue-mode', 'x-single-active-consumer', 'x-delivery-limit', 'x-quorum-initial-group-size',
  'x-queue-master-locator', 'x-queue-version', 'x-max-in-memory-length', 'x-max-in-memory-bytes',
];

export function isStreamDeclaration(args: FieldTable): boolean {
  return args['x-queue-type'] === 'stream';
}

export interface StreamDeclaration {
  name: string;
  durable: boolean;
  exclusive: boolean;
  autoDelete: boolean;
  arguments: FieldTable;
}

/** Throws the 406 RabbitMQ gives for the first rule the declaration breaks. */
export function checkStreamDeclaration(d: StreamDeclaration, vhost: string): void {
  if (d.name === '') throw streamServerNamed();
  if (!d.durable) throw streamInvalidProperty('non-durable', d.name, vhost);
  if (d.exclusive) throw streamInvalidProperty('exclusive-owner', d.name, vhost);
  if (d.autoDelete) throw streamInvalidProperty('auto-delete', d.name, vhost);
  for (const arg of NOT_FOR_STREAMS) if (arg in d.arguments) throw streamInvalidArgument(arg, d.name, vhost);
  const r = retentionOf(d.arguments as Record<string, unknown>);
  if (r === 'x-max-age') throw streamInvalidMaxAge(d.name, vhost);
  if (typeof r === 'string') throw preconditionFailed(`invalid arg '${r}' for queue '${d.name}' in vhost '${vhost}'`);
}
