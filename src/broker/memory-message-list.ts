/**
 * Ready messages of a transient queue, in memory: a ring buffer for the FIFO plus a small sorted
 * stack of requeued envelopes. Every requeued envelope was shifted earlier, so its seq is lower than
 * anything still in the ring: shift() serves the requeued ones first, which restores each to its
 * original position without shuffling the ring.
 */
import type { Envelope, Message } from './message.js';
import type { MessageList } from './message-list.js';
import { readTimestampProperty } from '../protocol/properties.js';

export class MemoryMessageList implements MessageList {
  private ring: (Envelope | undefined)[] = new Array(16);
  private head = 0;
  private count = 0;
  /** Requeued envelopes, highest seq first, so the next one to serve is at the end (pop). */
  private requeued: Envelope[] = [];
  private nextSeq = 1;
  bytes = 0;
  /** All in memory, never on disk. */
  readonly pagedOut = 0;
  readonly pagedOutBytes = 0;
  readonly diskWrites = 0;
  readonly diskReads = 0;

  get length(): number {
    return this.count + this.requeued.length;
  }

  push(message: Message): Envelope {
    const envelope: Envelope = { seq: this.nextSeq++, message, redelivered: false, deliveredAt: 0, outPrev: undefined, outNext: undefined };
    if (this.count === this.ring.length) this.grow();
    this.ring[(this.head + this.count) & (this.ring.length - 1)] = envelope;
    this.count++;
    this.bytes += message.body.length;
    return envelope;
  }

  shift(): Envelope | undefined {
    let envelope = this.requeued.pop();
    if (!envelope) {
      if (this.count === 0) return undefined;
      envelope = this.ring[this.head];
      this.ring[this.head] = undefined;
      this.head = (this.head + 1) & (this.ring.length - 1);
      this.count--;
    }
    this.bytes -= envelope!.message.body.length;
    return envelope;
  }

  peek(): Envelope | undefined {
    const r = this.requeued;
    return r.length > 0 ? r[r.length - 1] : this.count > 0 ? this.ring[this.head] : undefined;
  }

  oldestAcceptedAt(): number | undefined {
    return this.peek()?.message.timestamp;
  }

  headTimestamp(): number | undefined {
    const head = this.peek();
    return head && readTimestampProperty(head.message.rawProperties);
  }

  requeue(envelope: Envelope): void {
    envelope.redelivered = true;
    const r = this.requeued;
    // Binary search in descending order.
    let lo = 0;
    let hi = r.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (r[mid]!.seq > envelope.seq) lo = mid + 1;
      else hi = mid;
    }
    if (lo === r.length) r.push(envelope);
    else r.splice(lo, 0, envelope);
    this.bytes += envelope.message.body.length;
  }

  settle(_envelope: Envelope): void {}

  purge(): number {
    const n = this.length;
    this.ring = new Array(16);
    this.head = this.count = 0;
    this.requeued = [];
    this.bytes = 0;
    return n;
  }

  whenDurable(callback: () => void): void {
    queueMicrotask(callback);
  }

  destroy(): void {
    this.purge();
  }

  close(): void {}

  private grow(): void {
    const old = this.ring;
    const next: (Envelope | undefined)[] = new Array(old.length * 2);
    for (let i = 0; i < this.count; i++) next[i] = old[(this.head + i) & (old.length - 1)];
    this.ring = next;
    this.head = 0;
  }
}
