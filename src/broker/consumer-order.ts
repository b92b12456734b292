/**
 * Who gets the next message when consumers differ: consumer priorities (x-priority) and single
 * active consumer (x-single-active-consumer), as RabbitMQ 3.10 does them. A queue whose consumers
 * all have priority 0 never comes here: it keeps its plain round-robin.
 *
 * With priorities, consumers are kept sorted by priority (highest first, in arrival order within a
 * priority). A message goes to the highest priority that has a consumer with room; consumers of the
 * same priority take turns. With single active consumer, only the earliest consumer still subscribed
 * receives messages (3.10 does not consider priorities there); when it leaves, the next one takes
 * over from the first ready message, which after a requeue is the first unacked one.
 */
import type { QueueConsumer } from './queue-consumer.js';

/** Inserts after every consumer of higher or equal priority (stable). */
export function insertByPriority(consumers: QueueConsumer[], consumer: QueueConsumer): void {
  let i = consumers.length;
  while (i > 0 && consumers[i - 1]!.priority < consumer.priority) i--;
  consumers.splice(i, 0, consumer);
}

/**
 * The first consumer with room in the highest priority group that has one; `cursors` remembers,
 * per priority, where the turn-taking inside that group continues.
 */
export function pickByPriority(consumers: readonly QueueConsumer[], cursors: Map<number, number>): QueueConsumer | undefined {
  const n = consumers.length;
  let start = 0;
  while (start < n) {
    const priority = consumers[start]!.priority;
    let end = start + 1;
    while (end < n && consumers[end]!.priority === priority) end++;
    const size = end - start;
    let cursor = cursors.get(priority) ?? 0;
    for (let tried = 0; tried < size; tried++) {
      if (cursor >= size) cursor = 0;
      const c = consumers[start + cursor++]!;
      if (c.canTake()) {
        cursors.set(priority, cursor);
        return c;
      }
    }
    start = end;
  }
  return undefined;
}

/** The consumer's status as RabbitMQ's management API shows it. */
export function activityStatus(singleActive: boolean, consumers: readonly QueueConsumer[], consumer: QueueConsumer): 'up' | 'single_active' | 'waiting' {
  if (!singleActive) return 'up';
  return consumers[0] === consumer ? 'single_active' : 'waiting';
}
