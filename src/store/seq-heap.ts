/**
 * Requeued envelopes, lowest seq first. Every requeued envelope was shifted earlier, so its seq is
 * lower than anything not yet delivered: serving this heap before the stream restores each one to
 * its original position without touching the paged stream.
 */
import type { Envelope } from '../broker/message.js';

export class SeqHeap {
  private items: Envelope[] = [];

  get length(): number {
    return this.items.length;
  }

  peek(): Envelope | undefined {
    return this.items[0];
  }

  push(envelope: Envelope): void {
    const a = this.items;
    let i = a.length;
    a.push(envelope);
    while (i > 0) {
      const parent = (i - 1) >>> 1;
      if (a[parent]!.seq <= envelope.seq) break;
      a[i] = a[parent]!;
      i = parent;
    }
    a[i] = envelope;
  }

  pop(): Envelope | undefined {
    const a = this.items;
    const top = a[0];
    const last = a.pop();
    if (a.length === 0 || last === undefined) return top;
    let i = 0;
    const n = a.length;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && a[r]!.seq < a[l]!.seq ? r : l;
      if (a[c]!.seq >= last.seq) break;
      a[i] = a[c]!;
      i = c;
    }
    a[i] = last;
    return top;
  }

  /** Remove and return everything (any order). */
  drain(): Envelope[] {
    const a = this.items;
    this.items = [];
    return a;
  }
}
