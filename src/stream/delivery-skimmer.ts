/**
 * Client side, for load generators (the bench's consumer, client.ts `skimDeliveries`): splits the byte
 * stream into frames like FrameSplitter, except that a Deliver frame is not assembled. Only its
 * subscription id and chunk header (the records count, first offset...) are handed out, and the rest
 * of its bytes are skipped where they lie. Assembling every 1 MiB chunk cost the consumer a buffer
 * and a copy per chunk, which made the client, not the broker, the limit of a consume benchmark.
 *
 * It can run over a socket read buffer that is reused (net `onread`): every other frame is handed out
 * in a buffer of its own, never as a view of the input, since its reader may run after the next read.
 */
import { Key } from './constants.js';

/** Frame size, key, version, subscription id, then the 48-byte chunk header. */
const DELIVER_HEAD = 4 + 2 + 2 + 1 + 48;

export class DeliverySkimmer {
  /** The start of a frame split across reads: its first DELIVER_HEAD bytes, or a whole other frame. */
  private pending = Buffer.allocUnsafe(DELIVER_HEAD);
  private filled = 0;
  /** Bytes of the current Deliver frame still to skip. */
  private skip = 0;

  constructor(
    private readonly onDeliver: (subscriptionId: number, chunkHeader: Buffer) => void,
    /** Any other frame: its own buffer, the body (after the size) at [start, end). */
    private readonly onFrame: (buf: Buffer, start: number, end: number) => void,
  ) {}

  push(data: Buffer): void {
    let p = 0;
    while (p < data.length) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, data.length - p);
        this.skip -= n;
        p += n;
      } else if (this.filled === 0 && data.length - p >= DELIVER_HEAD) {
        p = this.frameAt(data, p);
      } else {
        p = this.fill(data, p);
      }
    }
  }

  /** A frame starting at `p` with at least DELIVER_HEAD bytes of it in `data`; returns where reading goes on. */
  private frameAt(data: Buffer, p: number): number {
    const total = 4 + data.readUInt32BE(p);
    if (data.readUInt16BE(p + 4) === Key.Deliver) {
      this.onDeliver(data[p + 8]!, data.subarray(p + 9, p + DELIVER_HEAD));
      const here = Math.min(total, data.length - p);
      this.skip = total - here;
      return p + here;
    }
    if (data.length - p >= total) {
      const frame = Buffer.from(data.subarray(p, p + total));
      this.onFrame(frame, 4, total);
      return p + total;
    }
    return this.fill(data, p);
  }

  /** Copies the start of a split frame into `pending` until what it needs is there. */
  private fill(data: Buffer, p: number): number {
    const want = this.filled < 6 ? 6 : this.wanted();
    if (want > this.pending.length) {
      const grown = Buffer.allocUnsafe(want);
      this.pending.copy(grown, 0, 0, this.filled);
      this.pending = grown;
    }
    const n = Math.min(want - this.filled, data.length - p);
    data.copy(this.pending, this.filled, p, p + n);
    this.filled += n;
    if (this.filled < want) return p + n;
    if (want === 6) return p + n; // size and key known: the next fill knows how much it needs
    const b = this.pending;
    const total = 4 + b.readUInt32BE(0);
    this.filled = 0;
    if (b.readUInt16BE(4) === Key.Deliver) {
      this.onDeliver(b[8]!, b.subarray(9, DELIVER_HEAD));
      this.skip = Math.max(0, total - DELIVER_HEAD);
    } else {
      this.onFrame(Buffer.from(b.subarray(0, total)), 4, total);
    }
    return p + n;
  }

  /** With size and key pending: the bytes needed before the frame can be handed out. */
  private wanted(): number {
    const total = 4 + this.pending.readUInt32BE(0);
    return this.pending.readUInt16BE(4) === Key.Deliver ? Math.min(DELIVER_HEAD, total) : total;
  }
}
