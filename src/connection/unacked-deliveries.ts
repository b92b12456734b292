/**
 * One channel's deliveries: it hands out delivery tags, remembers what is out with the client and
 * not yet acked, keeps each consumer's count of those (per-consumer prefetch) and settles them back
 * into their queues (ack, requeue, discard). The channel only decides when; this owns the books.
 */
import type { Consumer } from '../broker/consumer.js';
import type { Envelope } from '../broker/message.js';
import type { Queue } from '../broker/queue.js';
import { preconditionFailed } from '../protocol/errors.js';

export interface Unacked {
  readonly tag: number;
  readonly envelope: Envelope;
  readonly queue: Queue;
  /** undefined for basic.get deliveries. */
  readonly consumer: Consumer | undefined;
  /** When it went out (ms since epoch), for the consumer timeout. */
  readonly at: number;
}

/** What happens to a settled delivery in its queue. */
export type Settlement = 'ack' | 'requeue' | 'discard';

export class UnackedDeliveries {
  private lastTag = 0;
  /** Insertion order is ascending tag order (rollback restores it). */
  private readonly byTag = new Map<number, Unacked>();

  /** Deliveries out and not yet settled. */
  get count(): number {
    return this.byTag.size;
  }

  /** The tag for the next delivery, acked or not (deliver, get-ok, direct reply-to). */
  nextTag(): number {
    return ++this.lastTag;
  }

  /** An ack-required delivery went out (consumer undefined for basic.get); returns when (ms since epoch). */
  add(tag: number, envelope: Envelope, queue: Queue, consumer: Consumer | undefined): number {
    // The queue stamped the envelope as it handed it out (a stream's deliveries are not stamped).
    const at = envelope.deliveredAt || Date.now();
    this.byTag.set(tag, { tag, envelope, queue, consumer, at });
    if (consumer) consumer.unacked++;
    return at;
  }

  /**
   * Take the entries a (tag, multiple) pair names; they are settled later (at once, or at tx.commit).
   * Unknown tag → 406 as RabbitMQ; with multiple, a non-zero tag must itself be outstanding.
   */
  take(tag: number, multiple: boolean): Unacked[] {
    if (!multiple) return [this.takeOne(tag)];
    if (tag !== 0 && !this.byTag.has(tag)) throw unknownTag(tag);
    const out: Unacked[] = [];
    for (const [t, u] of this.byTag) {
      if (tag !== 0 && t > tag) break;
      out.push(u);
      this.byTag.delete(t);
    }
    return out;
  }

  /** Every outstanding delivery (basic.recover, channel close). */
  takeAll(): Unacked[] {
    return this.take(0, true);
  }

  /** A single ack, the hot path: no array, no set. Returns the queue it came from. */
  ackOne(tag: number): Queue {
    const u = this.takeOne(tag);
    u.queue.ack(u.envelope);
    if (u.consumer) u.consumer.unacked--;
    u.queue.dispatch();
    return u.queue;
  }

  /** Apply taken entries to their queues, then let each queue deliver again. */
  settle(entries: readonly Unacked[], how: Settlement): void {
    const queues = new Set<Queue>();
    for (const u of entries) {
      if (how === 'ack') u.queue.ack(u.envelope);
      else if (how === 'requeue') u.queue.requeue(u.envelope);
      else u.queue.discard(u.envelope);
      if (u.consumer) u.consumer.unacked--;
      queues.add(u.queue);
    }
    for (const q of queues) q.dispatch();
  }

  /** Taken entries that were not settled after all (tx.rollback): outstanding again, in tag order. */
  restore(entries: readonly Unacked[]): void {
    if (entries.length === 0) return;
    const all = [...this.byTag.values(), ...entries].sort((a, b) => a.tag - b.tag);
    this.byTag.clear();
    for (const u of all) this.byTag.set(u.tag, u);
  }

  /** The channel is gone: everything outstanding (and `alsoTaken`) goes back to its queue. */
  requeueAll(alsoTaken: readonly Unacked[]): void {
    const queues = new Set<Queue>();
    for (const u of [...this.byTag.values(), ...alsoTaken]) {
      u.queue.requeue(u.envelope);
      queues.add(u.queue);
    }
    this.byTag.clear();
    for (const q of queues) q.dispatch();
  }

  /** The oldest outstanding delivery (tags grow with time). */
  oldest(): Unacked | undefined {
    for (const u of this.byTag.values()) return u;
    return undefined;
  }

  /** Outstanding deliveries, oldest first (the consumer timeout walks them). */
  entries(): IterableIterator<Unacked> {
    return this.byTag.values();
  }

  /** A consumer timed out: its outstanding deliveries go back to the queue, in order. */
  requeueConsumer(consumer: Consumer): void {
    const taken: Unacked[] = [];
    for (const [t, u] of this.byTag) {
      if (u.consumer !== consumer) continue;
      taken.push(u);
      this.byTag.delete(t);
    }
    this.settle(taken, 'requeue');
  }

  private takeOne(tag: number): Unacked {
    const u = this.byTag.get(tag);
    if (!u) throw unknownTag(tag);
    this.byTag.delete(tag);
    return u;
  }
}

function unknownTag(tag: number): Error {
  return preconditionFailed(`unknown delivery tag ${tag}`);
}
