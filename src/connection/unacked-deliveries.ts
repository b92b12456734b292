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

/**
 * What happens to a settled delivery in its queue: `requeue` is a client's nack/reject/recover (a
 * quorum queue puts the message at the back), `return` gives it back in place (its consumer timed out).
 */
export type Settlement = 'ack' | 'requeue' | 'return' | 'discard';

/** Below this many slots the ring never moves deliveries out (settleFront), nor shrinks. */
const RING_MIN = 64;

export class UnackedDeliveries {
  private lastTag = 0;
  /**
   * Outstanding deliveries by tag, in a ring: the slot of tag t is (head + t - base) & mask. Tags
   * are handed out in order and mostly acked in order, so this costs no hashing and no Map entry per
   * delivery (a Map was a tenth of the ack path's CPU). Slots of settled tags (and of tags that went
   * out with no-ack) are holes; the front slot is never one. Invariant: slots outside
   * [head, head + span) are empty.
   */
  private ring: (Unacked | undefined)[] = new Array<Unacked | undefined>(RING_MIN);
  private mask = RING_MIN - 1;
  private head = 0;
  private base = 0;
  private span = 0;
  private inRing = 0;
  /**
   * Outstanding deliveries older than `base`, ascending: moved out of the ring when one unacked
   * delivery at its front would otherwise keep every later slot (acked or not) in it, so the ring
   * stays within four times the deliveries it holds (settleFront).
   */
  private readonly stragglers = new Map<number, Unacked>();

  /** Deliveries out and not yet settled. */
  get count(): number {
    return this.inRing + this.stragglers.size;
  }

  /** The tag for the next delivery, acked or not (deliver, get-ok, direct reply-to). */
  nextTag(): number {
    return ++this.lastTag;
  }

  /** An ack-required delivery went out (consumer undefined for basic.get); returns when (ms since epoch). */
  add(tag: number, envelope: Envelope, queue: Queue, consumer: Consumer | undefined): number {
    // The queue stamped the envelope as it handed it out (a stream's deliveries are not stamped).
    const at = envelope.deliveredAt || Date.now();
    this.insert({ tag, envelope, queue, consumer, at });
    if (consumer) consumer.unacked++;
    return at;
  }

  /**
   * Take the entries a (tag, multiple) pair names; they are settled later (at once, or at tx.commit).
   * Unknown tag → 406 as RabbitMQ; with multiple, a non-zero tag must itself be outstanding.
   */
  take(tag: number, multiple: boolean): Unacked[] {
    if (!multiple) return [this.takeOne(tag)];
    if (tag !== 0 && !this.find(tag)) throw unknownTag(tag);
    const out: Unacked[] = [];
    for (const [t, u] of this.stragglers) {
      if (tag !== 0 && t > tag) break;
      out.push(u);
      this.stragglers.delete(t);
    }
    const last = tag === 0 ? this.base + this.span - 1 : Math.min(tag, this.base + this.span - 1);
    for (let t = this.base; t <= last; t++) {
      const i = this.slot(t);
      const u = this.ring[i];
      if (!u) continue;
      out.push(u);
      this.ring[i] = undefined;
      this.inRing--;
    }
    this.trimFront();
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
      else if (how === 'requeue' || how === 'return') u.queue.requeue(u.envelope, how === 'requeue');
      else u.queue.discard(u.envelope);
      if (u.consumer) u.consumer.unacked--;
      queues.add(u.queue);
    }
    for (const q of queues) q.dispatch();
  }

  /** Taken entries that were not settled after all (tx.rollback): outstanding again, in tag order. */
  restore(entries: readonly Unacked[]): void {
    if (entries.length === 0) return;
    const all = [...this.entries(), ...entries].sort((a, b) => a.tag - b.tag);
    this.clear();
    for (const u of all) this.insert(u);
  }

  /** The channel is gone: everything outstanding (and `alsoTaken`) goes back to its queue. */
  requeueAll(alsoTaken: readonly Unacked[]): void {
    const queues = new Set<Queue>();
    for (const u of [...this.entries(), ...alsoTaken]) {
      u.queue.requeue(u.envelope);
      queues.add(u.queue);
    }
    this.clear();
    for (const q of queues) q.dispatch();
  }

  /** The oldest outstanding delivery (tags grow with time). */
  oldest(): Unacked | undefined {
    for (const u of this.stragglers.values()) return u;
    return this.span > 0 ? this.ring[this.head] : undefined;
  }

  /** Outstanding deliveries, oldest first (the consumer timeout walks them). */
  *entries(): IterableIterator<Unacked> {
    yield* this.stragglers.values();
    for (let t = this.base; t < this.base + this.span; t++) {
      const u = this.ring[this.slot(t)];
      if (u) yield u;
    }
  }

  /** A consumer timed out: its outstanding deliveries go back to the queue, in order. */
  requeueConsumer(consumer: Consumer): void {
    const taken = [...this.entries()].filter((u) => u.consumer === consumer);
    for (const u of taken) this.remove(u.tag);
    this.trimFront();
    this.settle(taken, 'return');
  }

  private takeOne(tag: number): Unacked {
    const u = this.remove(tag);
    if (!u) throw unknownTag(tag);
    if (tag === this.base) this.trimFront();
    return u;
  }

  /** Append `u`, whose tag is above every tag held (add, or restore's ascending re-insertion). */
  private insert(u: Unacked): void {
    if (this.span === 0) {
      this.base = u.tag;
      this.head = 0;
    }
    const offset = u.tag - this.base;
    if (offset >= this.ring.length) this.resize(offset + 1);
    this.ring[this.slot(u.tag)] = u;
    this.span = offset + 1;
    this.inRing++;
    if (this.span > RING_MIN && this.span > 4 * this.inRing) this.settleFront();
  }

  private find(tag: number): Unacked | undefined {
    const offset = tag - this.base;
    if (offset < 0) return this.stragglers.get(tag);
    return offset < this.span ? this.ring[this.slot(tag)] : undefined;
  }

  /** The ring slot of `tag` (at or after `base`). */
  private slot(tag: number): number {
    return (this.head + tag - this.base) & this.mask;
  }

  /** Take `tag` out of the ring or the stragglers (the caller trims the ring's front). */
  private remove(tag: number): Unacked | undefined {
    const offset = tag - this.base;
    if (offset < 0) {
      const u = this.stragglers.get(tag);
      if (u) this.stragglers.delete(tag);
      return u;
    }
    if (offset >= this.span) return undefined;
    const i = this.slot(tag);
    const u = this.ring[i];
    if (!u) return undefined;
    this.ring[i] = undefined;
    this.inRing--;
    return u;
  }

  /** Skip the holes at the front: the front slot holds a delivery, or the ring is empty. */
  private trimFront(): void {
    while (this.span > 0 && this.ring[this.head] === undefined) {
      this.head = (this.head + 1) & this.mask;
      this.base++;
      this.span--;
    }
    if (this.ring.length > RING_MIN && this.span * 4 < this.ring.length) this.resize(this.span);
  }

  /**
   * Mostly holes: a delivery left unacked at the front while later ones were settled. The front
   * deliveries move to the stragglers until a quarter of its slots are used again, so memory follows
   * the deliveries outstanding, not the tags handed out since the oldest of them.
   */
  private settleFront(): void {
    while (this.span > RING_MIN && this.span > 4 * this.inRing) {
      // The front slot always holds a delivery (trimFront).
      this.stragglers.set(this.base, this.ring[this.head]!);
      this.ring[this.head] = undefined;
      this.inRing--;
      this.trimFront();
    }
  }

  /** A ring of at least `slots` slots (a power of two), the held slots moved to its start. */
  private resize(slots: number): void {
    let size = RING_MIN;
    while (size < slots) size *= 2;
    const ring = new Array<Unacked | undefined>(size);
    for (let k = 0; k < this.span; k++) ring[k] = this.ring[(this.head + k) & this.mask];
    this.ring = ring;
    this.mask = size - 1;
    this.head = 0;
  }

  private clear(): void {
    this.ring = new Array<Unacked | undefined>(RING_MIN);
    this.mask = RING_MIN - 1;
    this.head = 0;
    this.span = 0;
    this.inRing = 0;
    this.stragglers.clear();
  }
}

function unknownTag(tag: number): Error {
  return preconditionFailed(`unknown delivery tag ${tag}`);
}
