/**
 * Publisher confirms for one channel. Each publish gets a sequence number; it is confirmed once
 * every durable queue it went to has it on disk (zero such queues: at once). Acks go out
 * coalesced: one `multiple` ack covers every confirmed sequence below the oldest one still waiting.
 */
export class PublisherConfirms {
  private seq = 0;
  private lastAcked = 0;
  /** seq → durable writes still outstanding; insertion order is ascending seq. */
  private readonly waiting = new Map<number, number>();
  private flushScheduled = false;
  private closed = false;
  /** Publishes refused by a queue (reject-publish overflow): nacked instead of acked, ascending. */
  private readonly rejected: number[] = [];

  constructor(
    private readonly sendAck: (tag: number, multiple: boolean) => void,
    private readonly sendNack: (tag: number) => void,
  ) {}

  reject(seq: number): void {
    this.rejected.push(seq);
    this.scheduleFlush();
  }

  nextSeq(): number {
    return ++this.seq;
  }

  /** Published in confirm mode and not yet confirmed (waiting for disk). */
  get pending(): number {
    return this.waiting.size;
  }

  /** Register how many durable writes `seq` waits for; true when it is confirmed already. */
  expect(seq: number, durableWrites: number): boolean {
    if (durableWrites === 0) {
      this.scheduleFlush();
      return true;
    }
    const already = this.waiting.get(seq) ?? 0;
    // whenDurable callbacks may have fired (negative count) before expect() ran.
    const left = already + durableWrites;
    if (left <= 0) this.waiting.delete(seq);
    else this.waiting.set(seq, left);
    this.scheduleFlush();
    return left <= 0;
  }

  /** One durable queue has `seq` on disk; true when that was the last write it waited for. */
  durable(seq: number): boolean {
    const known = this.waiting.has(seq);
    const left = (this.waiting.get(seq) ?? 0) - 1;
    if (left === 0) this.waiting.delete(seq);
    else this.waiting.set(seq, left);
    this.scheduleFlush();
    // Before expect() ran (not known yet), expect() decides.
    return known && left === 0;
  }

  /**
   * The channel is closing: send what is confirmable now, then nothing more (a confirm after
   * channel.close-ok would be a frame on a closed channel). Publishes still waiting for the disk
   * stay unconfirmed, as for any channel closed before its confirms arrived.
   */
  close(): void {
    this.flush();
    this.closed = true;
  }

  /**
   * Send what is confirmable now rather than at the end of the turn: a returned publish's ack goes
   * out right behind its basic.return, in the same socket write, as RabbitMQ sends them. Clients
   * count on it (rabbitmq-client resolves the publish before it emits the return).
   */
  flushNow(): void {
    if (this.flushScheduled) this.flush();
  }

  private scheduleFlush(): void {
    if (this.flushScheduled || this.closed) return;
    this.flushScheduled = true;
    queueMicrotask(() => this.flush());
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.closed) return;
    let upTo = this.seq;
    for (const [seq, left] of this.waiting) {
      if (left > 0) {
        upTo = seq - 1;
        break;
      }
    }
    if (upTo <= this.lastAcked) return;
    while (this.rejected.length > 0 && this.rejected[0]! <= upTo) {
      const nacked = this.rejected.shift()!;
      if (nacked - 1 > this.lastAcked) this.sendAck(nacked - 1, nacked - 1 - this.lastAcked > 1);
      this.sendNack(nacked);
      this.lastAcked = nacked;
    }
    if (upTo <= this.lastAcked) return;
    this.sendAck(upTo, upTo - this.lastAcked > 1);
    this.lastAcked = upTo;
  }
}
