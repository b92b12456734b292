// Empties a queue through a consumer (fast: no round trip per message), acking everything, and
// proves it is empty afterwards with basic.get. Used by the durability tests after a restart, when
// the queue has no other consumer, so the declare-ok message count is everything it holds.
import type { Channel, Message } from 'amqplib';

export interface DrainResult {
  /** message_count of queue.declare(passive) before draining. */
  declaredCount: number;
  /** Deliveries seen (consumer plus the final basic.gets). */
  received: number;
}

export interface DrainOptions {
  /** Fail when no delivery arrives for this long while the count is not reached (default 15 s). */
  idleTimeoutMs?: number;
  prefetch?: number;
}

export async function drainQueue(
  ch: Channel,
  queue: string,
  onMessage: (message: Message) => void,
  options: DrainOptions = {},
): Promise<DrainResult> {
  const { messageCount } = await ch.checkQueue(queue);
  await ch.prefetch(options.prefetch ?? 1000);
  let received = 0;
  let wake: (() => void) | undefined;
  const { consumerTag } = await ch.consume(queue, (message) => {
    if (!message) return;
    received++;
    onMessage(message);
    ch.ack(message);
    wake?.();
  });
  const idleMs = options.idleTimeoutMs ?? 15_000;
  while (received < messageCount) {
    const before = received;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, idleMs);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    wake = undefined;
    if (received === before) {
      throw new Error(`queue ${queue}: ${received} of ${messageCount} messages arrived, then nothing for ${idleMs} ms`);
    }
  }
  await ch.cancel(consumerTag);
  // Deliveries the count did not announce (if it was short) are still processed, then counted.
  for (;;) {
    const message = await ch.get(queue, { noAck: false });
    if (!message) break;
    received++;
    onMessage(message);
    ch.ack(message);
  }
  return { declaredCount: messageCount, received };
}
