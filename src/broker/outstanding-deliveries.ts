/**
 * A queue's deliveries that are out with consumers and not yet settled, oldest first: an intrusive
 * doubly linked list through the envelopes themselves, so adding and removing cost a few field
 * writes and no allocation, and the oldest one (for its age) is always at the front, whichever
 * channel holds it and in whatever order the others are acked.
 */
import type { Envelope } from './message.js';

export class OutstandingDeliveries {
  private first: Envelope | undefined;
  private last: Envelope | undefined;

  /** `envelope` went out at `at` (ms since epoch), later than everything already listed. */
  add(envelope: Envelope, at: number): void {
    envelope.deliveredAt = at;
    envelope.outNext = undefined;
    envelope.outPrev = this.last;
    if (this.last) this.last.outNext = envelope;
    else this.first = envelope;
    this.last = envelope;
  }

  /** It was acked, requeued or discarded. */
  remove(envelope: Envelope): void {
    const prev = envelope.outPrev;
    const next = envelope.outNext;
    if (prev) prev.outNext = next;
    else if (this.first === envelope) this.first = next;
    else return; // not listed (a stream delivery, or already removed)
    if (next) next.outPrev = prev;
    else this.last = prev;
    envelope.outPrev = envelope.outNext = undefined;
    envelope.deliveredAt = 0;
  }

  /** Visit every outstanding delivery, oldest first. */
  forEach(visit: (envelope: Envelope) => void): void {
    for (let e = this.first; e; e = e.outNext) visit(e);
  }

  /** When the oldest outstanding delivery went out, or undefined when none is out. */
  get oldestAt(): number | undefined {
    return this.first?.deliveredAt;
  }
}
