/**
 * Splits a byte stream of length-prefixed frames (a u32 length, then that many bytes: the stream
 * protocol's framing and cluster replication's). Frames are views of the reads that hold them (for
 * stream connections a read buffer shared by all of them, net/reused-reads.ts, so valid only until
 * onFrame returns); a frame split across reads is copied once, however many reads it spans.
 *
 * Where that copy goes: by default a buffer of the frame's exact size, allocated once its length is
 * known, which the frame's reader may keep. With `reuse` (readers that copy what they keep) every
 * split frame is assembled in one buffer kept for the next, so receiving 100 KiB frames over 64 KiB
 * reads allocates (and page-faults in) nothing per frame — a fresh buffer per frame made V8 collect
 * several times a second under replication traffic and cost publishers a 100 KiB mapping each. Such
 * a frame is valid only until onFrame returns. The kept buffer grows up to `reuse.upTo` bytes (length
 * prefix included); a larger frame gets its own. With `reuse.releaseIdle` it is let go when a read ends
 * on a frame boundary: under load reads end mid-frame and it stays, and a connection that stops
 * sending holds none (10,000 idle publishers must not keep 1 MiB each).
 */
export interface FrameReuse {
  upTo: number;
  releaseIdle: boolean;
}

export class FrameSplitter {
  /** End of the partial frame in its buffer (which may be larger when reused); 4 until its length is known. */
  private frameEnd = 0;
  /** A frame being assembled across reads (length prefix included), and how much of it is filled. */
  private partial: Buffer | undefined;
  private filled = 0;
  /** The reassembly buffer kept between frames (`reuse`). */
  private kept: Buffer | undefined;

  /** `checkLength` sees every frame's length before any of it is copied, and throws to refuse it. */
  constructor(private readonly checkLength: (length: number) => void, private readonly reuse?: FrameReuse) {}

  /** Bytes held for reassembly between reads (the kept buffer or a partial frame's). */
  get reassemblyBytes(): number {
    return Math.max(this.kept?.length ?? 0, this.partial?.length ?? 0);
  }

  /**
   * Calls onFrame(buf, start, end) for each complete frame body (after its length) in chunk[0, length)
   * (`length`: a reused read buffer holds more than the read).
   */
  push(chunk: Buffer, onFrame: (buf: Buffer, start: number, end: number) => void, length = chunk.length): void {
    let p = 0;
    if (this.partial) {
      p = this.fill(chunk, length);
      const full = this.partial;
      if (this.filled < this.frameEnd) return;
      this.partial = undefined;
      onFrame(full, 4, this.frameEnd);
    }
    this.rest(chunk, length, p, onFrame);
  }

  private lengthAt(b: Buffer, at: number): number {
    const length = b.readUInt32BE(at);
    this.checkLength(length);
    return length;
  }

  /** A buffer of at least n bytes for a split frame: the kept one when reusing, else a new one. */
  private assembly(n: number): Buffer {
    const reuse = this.reuse;
    if (!reuse || n > reuse.upTo) return Buffer.allocUnsafe(n);
    if (!this.kept || this.kept.length < n) this.kept = Buffer.allocUnsafeSlow(Math.min(reuse.upTo, Math.max(n, 2 * (this.kept?.length ?? 0))));
    return this.kept;
  }

  /** Copies what the partial frame still needs from chunk[0, length); returns how much was used. */
  private fill(chunk: Buffer, length: number): number {
    let used = 0;
    let buf = this.partial!;
    if (this.filled < 4) {
      used = Math.min(4 - this.filled, length);
      chunk.copy(buf, this.filled, 0, used);
      this.filled += used;
      if (this.filled < 4) return used;
      this.frameEnd = 4 + this.lengthAt(buf, 0);
      if (buf.length < this.frameEnd) {
        const full = this.assembly(this.frameEnd);
        if (full !== buf) buf.copy(full, 0, 0, 4);
        this.partial = buf = full;
      }
    }
    const n = Math.min(this.frameEnd - this.filled, length - used);
    chunk.copy(buf, this.filled, used, used + n);
    this.filled += n;
    return used + n;
  }

  private rest(data: Buffer, end: number, from: number, onFrame: (buf: Buffer, start: number, end: number) => void): void {
    let p = from;
    while (end - p >= 4) {
      const length = this.lengthAt(data, p);
      if (end - p - 4 < length) break;
      onFrame(data, p + 4, p + 4 + length);
      p += 4 + length;
    }
    if (p < end) {
      const left = end - p;
      // With the length known (and checked above), room for the whole frame; otherwise 4 bytes until fill() learns it.
      this.frameEnd = left >= 4 ? 4 + data.readUInt32BE(p) : 4;
      this.partial = this.assembly(this.frameEnd);
      data.copy(this.partial, 0, p, end);
      this.filled = left;
    } else if (this.reuse?.releaseIdle) {
      this.kept = undefined;
    }
  }
}
