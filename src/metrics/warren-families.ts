/**
 * Warren's own per-queue metrics, beyond rabbitmq_prometheus's: how long the oldest ready message
 * has waited, how long the oldest unacknowledged delivery has been out, and how often messages
 * came back and went out again. Named `warren_queue_*` (`warren_detailed_queue_*` in the detailed
 * view, family `warren_queue_metrics`) so that they never collide with a RabbitMQ name. On
 * `/metrics` the ages are the largest over all queues (the one an alert wants) and the counters
 * are summed. Streams have no samples: nothing is removed from a log, nothing is requeued.
 */
import { m, notStream, type Metric } from './families.js';
import type { MetricsQueue } from './source.js';

export const WARREN_PREFIX = 'warren_';
export const WARREN_DETAILED_PREFIX = 'warren_detailed_';
export const WARREN_QUEUE_FAMILY = 'warren_queue_metrics';

const seconds = (ms: number | undefined) => (ms ?? 0) / 1000;

export const WARREN_QUEUE: Metric<MetricsQueue>[] = [
  m('queue_oldest_ready_message_age_seconds', 'gauge',
    'Seconds since the oldest ready message in the queue was published; 0 when no message is ready',
    (q) => seconds(q.oldestReadyAge(Date.now())), { aggregate: 'max', sampled: notStream, detailedOnly: true }),
  m('queue_oldest_unacked_delivery_age_seconds', 'gauge',
    'Seconds since the oldest delivery still awaiting its acknowledgement went out; 0 when none is outstanding',
    (q) => seconds(q.oldestUnackedAge(Date.now())), { aggregate: 'max', sampled: notStream, detailedOnly: true }),
  m('queue_messages_redelivered_total', 'counter',
    'Total number of messages delivered from the queue again after they had been delivered before (redelivered flag set)',
    (q) => q.stats.redelivered, { sampled: notStream, detailedOnly: true }),
  m('queue_messages_requeued_total', 'counter',
    'Total number of deliveries returned to the queue unacknowledged: nack or reject with requeue, basic.recover, a closed channel or connection, a consumer timeout',
    (q) => q.stats.requeued, { sampled: notStream, detailedOnly: true }),
];
