// Splits a byte stream into AMQP frames without copying: each complete frame is handed to `onFrame`
// as (type, channel, buffer, payloadStart, payloadEnd) inside the buffer it arrived in. Only a frame
// cut by a read boundary is copied, into a buffer of exactly its size.
import { FRAME_END } from './wire.js';

export type FrameHandler = (type: number, channel: number, buf: Buffer, start: number, end: number) => void;

const HEADER = 7;

export class FrameParser {
  private carry: Buffer | null = null;
  private carryLen = 0;
  private carryNeed = 0;

  constructor(private readonly onFrame: FrameHandler) {}

  feed(buf: Buffer, start: number, end: number): void {
    let p = start;
    if (this.carry !== null) {
      p = this.fillCarry(buf, p, end);
      if (this.carry !== null) return; // still incomplete; everything was consumed
    }
    while (end - p >= HEADER) {
      const size = ((buf[p + 3]! << 24) >>> 0) + (buf[p + 4]! << 16) + (buf[p + 5]! << 8) + buf[p + 6]!;
      const total = size + 8;
      if (end - p < total) break;
      if (buf[p + total - 1] !== FRAME_END) throw new Error(`bad frame end octet at frame type ${buf[p]}`);
      this.onFrame(buf[p]!, (buf[p + 1]! << 8) | buf[p + 2]!, buf, p + HEADER, p + HEADER + size);
      p += total;
    }
    if (p < end) {
      // keep the cut frame: its header if even that is cut, else the whole frame's room
      const need = end - p >= HEADER ? buf.readUInt32BE(p + 3) + 8 : HEADER;
      this.carry = Buffer.allocUnsafe(need);
      this.carryNeed = need;
      this.carryLen = end - p;
      buf.copy(this.carry, 0, p, end);
    }
  }

  /** Completes the carried frame from `buf`; returns where unconsumed input starts. */
  private fillCarry(buf: Buffer, p: number, end: number): number {
    for (;;) {
      const carry = this.carry!;
      const take = Math.min(this.carryNeed - this.carryLen, end - p);
      buf.copy(carry, this.carryLen, p, p + take);
      this.carryLen += take;
      p += take;
      if (this.carryLen < this.carryNeed) return p;
      if (this.carryNeed === HEADER) {
        // the header is complete now: grow to the whole frame and keep filling
        const total = carry.readUInt32BE(3) + 8;
        const whole = Buffer.allocUnsafe(total);
        carry.copy(whole, 0, 0, HEADER);
        this.carry = whole;
        this.carryNeed = total;
        continue;
      }
      this.carry = null;
      if (carry[carry.length - 1] !== FRAME_END) throw new Error(`bad frame end octet at frame type ${carry[0]}`);
      this.onFrame(carry[0]!, (carry[1]! << 8) | carry[2]!, carry, HEADER, carry.length - 1);
      return p;
    }
  }
}
