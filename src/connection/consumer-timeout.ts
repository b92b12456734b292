/**
 * consumer_timeout: a delivery that stays unacknowledged longer than the timeout (the broker's
 * `consumerTimeout`, default RabbitMQ's 30 minutes, or the queue's `x-consumer-timeout`) ends its
 * consumer. As RabbitMQ 4.x does it, a client that understands consumer_cancel_notify gets
 * basic.cancel and the consumer's unacked deliveries go back to the queue, the channel stays open;
 * other clients get RabbitMQ 3.10's answer, the channel closed with 406.
 *
 * One timer per channel, armed at the earliest deadline and only while something is outstanding,
 * so the delivery path pays one comparison.
 */
import type { Queue } from '../broker/queue.js';
import { numericValue } from '../protocol/field-table.js';
import type { Unacked, UnackedDeliveries } from './unacked-deliveries.js';

export const DEFAULT_CONSUMER_TIMEOUT_MS = 30 * 60_000;

/** The timeout for deliveries from `queue`: x-consumer-timeout when set, else the broker's. */
export function timeoutFor(queue: Queue, defaultMs: number): number {
  const v = numericValue(queue.options.arguments['x-consumer-timeout']);
  return v !== undefined && Number.isFinite(v) && v > 0 ? v : defaultMs;
}

export class ConsumerTimeout {
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Infinity;
  /** The queue of the latest delivery and its timeout (x-consumer-timeout is fixed at declare). */
  private lastQueue: Queue | undefined;
  private lastTimeoutMs = 0;

  constructor(
    private readonly unacked: UnackedDeliveries,
    private readonly defaultMs: number,
    /** A consumer delivery passed its deadline. */
    private readonly expired: (u: Unacked, timeoutMs: number) => void,
  ) {}

  /** An ack-required consumer delivery from `queue` went out at `at` (ms since epoch). */
  delivered(queue: Queue, at: number): void {
    // Deliveries come mostly from one queue: its timeout is looked up once, not per message.
    if (queue !== this.lastQueue) {
      this.lastQueue = queue;
      this.lastTimeoutMs = timeoutFor(queue, this.defaultMs);
    }
    const deadline = at + this.lastTimeoutMs;
    if (deadline < this.timerAt) this.arm(deadline);
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = Infinity;
  }

  private arm(at: number): void {
    clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(() => this.check(), Math.max(0, at - Date.now()));
    this.timer.unref();
  }

  private check(): void {
    this.timer = undefined;
    this.timerAt = Infinity;
    const now = Date.now();
    let next = Infinity;
    const late: [Unacked, number][] = [];
    for (const u of this.unacked.entries()) {
      if (!u.consumer) continue;
      const timeout = timeoutFor(u.queue, this.defaultMs);
      if (u.at + timeout <= now) late.push([u, timeout]);
      else next = Math.min(next, u.at + timeout);
    }
    const handled = new Set<unknown>();
    for (const [u, timeout] of late) {
      if (handled.has(u.consumer)) continue;
      handled.add(u.consumer);
      this.expired(u, timeout);
    }
    if (next !== Infinity && next < this.timerAt) this.arm(next);
  }
}
