// The consumers sharing one connection (one channel each). Deliveries are parsed in place: the
// delivery tag from the method frame, the body size from the header, the publish stamp from the
// first body bytes. Acks for everything in one socket read go out in one write at the end of it.
import type { FrameSink, PerfConnection } from './client.js';
import { nowUs } from './clock.js';
import { record } from './histogram.js';
import { ACK_FRAME_SIZE, M, writeAck } from './methods.js';
import type { SharedView } from './publisher.js';
import { C_CONSUMED, C_ERRORS, WAITERS, WAKE, latencyBase, slotBase } from './stats.js';

const ACK_CHUNK = 16 * 1024;

export class ConsumerConnection implements FrameSink {
  private readonly remaining: Float64Array;
  private readonly stamp: Float64Array;
  private readonly tag: Float64Array;
  private readonly unacked: Int32Array;
  private readonly latBase: number;
  private readonly counterBase: number;
  private ackBuf: Buffer | null = null;
  private ackLen = 0;
  private now = -1;
  private consumedHere = 0;
  private delivered = 0;
  onError: ((msg: string) => void) | null = null;

  constructor(
    private readonly conn: PerfConnection,
    private readonly autoAck: boolean,
    private readonly multiAckEvery: number,
    private readonly shared: SharedView,
    /** measure latency from the first 8 body bytes */
    private readonly stamped: boolean,
  ) {
    const n = conn.channelMax + 1;
    this.remaining = new Float64Array(n);
    this.stamp = new Float64Array(n);
    this.tag = new Float64Array(n);
    this.unacked = new Int32Array(n);
    this.latBase = latencyBase(shared.slot);
    this.counterBase = slotBase(shared.slot);
    conn.sink = this;
  }

  /** Deliveries counted by this connection (its share of the slot's counter). */
  get consumed(): number {
    return this.consumedHere;
  }

  method(ch: number, mid: number, buf: Buffer, s: number): void {
    if (mid === M.basicDeliver) {
      const p = s + 5 + buf[s + 4]!; // skip the consumer tag
      this.tag[ch] = buf.readUInt32BE(p) * 0x100000000 + buf.readUInt32BE(p + 4);
      this.stamp[ch] = -1;
      return;
    }
    this.shared.table[this.counterBase + C_ERRORS]!++;
    if (mid === M.basicCancel) this.onError?.(`consumer on channel ${ch} cancelled by the broker`);
    else this.onError?.(`consumer channel ${ch}: unexpected method ${mid >>> 16}.${mid & 0xffff}`);
  }

  header(ch: number, buf: Buffer, s: number): void {
    const size = buf.readUInt32BE(s + 4) * 0x100000000 + buf.readUInt32BE(s + 8);
    if (size === 0) this.complete(ch);
    else this.remaining[ch] = size;
  }

  body(ch: number, buf: Buffer, s: number, e: number): void {
    if (this.stamp[ch] === -1 && this.stamped && e - s >= 8) this.stamp[ch] = buf.readDoubleLE(s);
    const left = this.remaining[ch]! - (e - s);
    this.remaining[ch] = left;
    if (left <= 0) this.complete(ch);
  }

  private complete(ch: number): void {
    this.delivered++;
    const stamp = this.stamp[ch]!;
    if (stamp > 0) {
      if (this.now < 0) this.now = nowUs();
      record(this.shared.table, this.latBase, this.now - stamp);
    }
    if (this.autoAck) return;
    if (this.multiAckEvery <= 1) this.ack(ch, this.tag[ch]!, false);
    else if (++this.unacked[ch]! >= this.multiAckEvery) {
      this.unacked[ch] = 0;
      this.ack(ch, this.tag[ch]!, true);
    }
  }

  private ack(ch: number, tag: number, multiple: boolean): void {
    if (this.ackBuf === null) {
      this.ackBuf = Buffer.allocUnsafe(ACK_CHUNK);
      this.ackLen = 0;
    } else if (this.ackLen + ACK_FRAME_SIZE > ACK_CHUNK) this.flushAcks();
    if (this.ackBuf === null) {
      this.ackBuf = Buffer.allocUnsafe(ACK_CHUNK);
      this.ackLen = 0;
    }
    this.ackLen = writeAck(this.ackBuf, this.ackLen, ch, tag, multiple);
  }

  private flushAcks(): void {
    if (this.ackBuf === null || this.ackLen === 0) return;
    this.conn.write(this.ackBuf.subarray(0, this.ackLen));
    this.ackBuf = null; // the socket may still hold it; never reuse
    this.ackLen = 0;
  }

  readDone(): void {
    this.now = -1;
    if (this.delivered === 0) return;
    this.flushAcks();
    this.consumedHere += this.delivered;
    this.shared.table[this.counterBase + C_CONSUMED]! += this.delivered;
    this.delivered = 0;
    const ctl = this.shared.control;
    if (Atomics.load(ctl, WAITERS) > 0) {
      Atomics.add(ctl, WAKE, 1);
      Atomics.notify(ctl, WAKE);
    }
  }
}
