/**
 * What a queue holds in memory, for its `memory` in the management API (and `rabbitmqctl
 * list_queues memory`) and `rabbitmq_queue_process_memory_bytes`. RabbitMQ reports its queue
 * process's memory there, which a paging queue keeps small whatever its length; so must this: a
 * queue holds bodies only for the messages in its windows and for its unacked deliveries, its
 * paged-out middle costs nothing per message, and a stream keeps its log on disk.
 */
import type { MetricsQueue } from './source.js';

/** Per message held in memory beyond its body: envelope, message object, property bytes. */
const MESSAGE_OVERHEAD_BYTES = 200;
/** The queue's own objects with nothing in it. */
const QUEUE_BASE_BYTES = 1024;

/** Body bytes of the messages a queue holds in memory: ready ones not paged out, and unacked ones. */
export function queueBytesInMemory(q: MetricsQueue): number {
  const ready = q.type === 'stream' ? 0 : q.messages.bytes - q.messages.pagedOutBytes;
  return ready + q.unackedBytes;
}

/** Messages a queue holds in memory: ready ones not paged out, and unacked ones. */
export function queueMessagesInMemory(q: MetricsQueue): number {
  const ready = q.type === 'stream' ? 0 : q.messageCount - q.messages.pagedOut;
  return ready + q.unacked;
}

/** Estimated bytes of memory a queue holds: its in-memory messages with their overhead, plus its base. */
export function queueMemoryBytes(q: MetricsQueue): number {
  return queueBytesInMemory(q) + MESSAGE_OVERHEAD_BYTES * queueMessagesInMemory(q) + QUEUE_BASE_BYTES;
}
