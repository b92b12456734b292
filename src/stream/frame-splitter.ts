/**
 * Splits a stream-protocol byte stream into frames (int32 size, then that many bytes). Frames are
 * views of the socket's buffers; a frame split across reads is copied once, so a large publish frame
 * arriving in many reads costs one copy, not one per read.
 *
 * Where that copy goes: by default a buffer of the frame's exact size, allocated when its size is
 * known, which the frame's reader may keep. With `reuse` (the server, whose handlers copy what they
 * keep: publish entries go into the chunk being built, strings are decoded) every split frame is
 * assembled in one buffer kept for the next, so a connection publishing 100 KiB frames over 64 KiB
 * reads does not allocate (and page-fault in) a fresh 100 KiB per frame: such a frame is valid only
 * until onFrame returns. The kept buffer is at most REUSE_MAX bytes; a larger frame gets its own.
 * It is let go when a read ends on a frame boundary: under load reads end mid-frame and it stays, a
 * connection that stops sending holds none (10,000 idle publishers must not keep 1 MiB each).
 */
export class FrameTooLargeError extends Error {}

/** RabbitMQ's default frame_max: the largest reassembly buffer a connection keeps between frames. */
const REUSE_MAX = (1 << 20) + 4;

export class FrameSplitter {
  /** A frame being assembled across reads (size prefix included), and how much of it is filled. */
  private partial: Buffer | undefined;
  private filled = 0;
  /** The reassembly buffer kept between frames (`reuse`). */
  private kept: Buffer | undefined;

  constructor(private maxFrame: number, private readonly reuse = false) {}

  /** Bytes held for reassembly between reads (the kept buffer or a partial frame's). */
  get reassemblyBytes(): number {
    return Math.max(this.kept?.length ?? 0, this.partial?.length ?? 0);
  }

  setMaxFrame(n: number): void {
    this.maxFrame = n;
  }

  private sizeOf(b: Buffer, at: number): number {
    const size = b.readUInt32BE(at);
    if (this.maxFrame > 0 && size > this.maxFrame) throw new FrameTooLargeError(`frame of ${size} bytes exceeds ${this.maxFrame}`);
    return size;
  }

  /** A buffer of at least n bytes for a split frame: the kept one when reusing, else a new one. */
  private assembly(n: number): Buffer {
    if (!this.reuse || n > REUSE_MAX) return Buffer.allocUnsafe(n);
    if (!this.kept || this.kept.length < n) this.kept = Buffer.allocUnsafe(Math.min(REUSE_MAX, Math.max(n, 2 * (this.kept?.length ?? 0))));
    return this.kept;
  }

  /** Calls onFrame(buf, start, end) for each complete frame body in chunk. */
  push(chunk: Buffer, onFrame: (buf: Buffer, start: number, end: number) => void): void {
    let p = 0;
    if (this.partial) {
      p = this.fill(chunk);
      const full = this.partial;
      if (this.filled < this.frameEnd) return;
      this.partial = undefined;
      onFrame(full, 4, this.frameEnd);
    }
    this.rest(chunk, p, onFrame);
  }

  /** End of the partial frame in its buffer (the buffer may be larger when reused); 4 until known. */
  private frameEnd = 0;

  /** Copies what the partial frame still needs; returns how much of chunk was used. */
  private fill(chunk: Buffer): number {
    let used = 0;
    let buf = this.partial!;
    if (this.filled < 4) {
      used = Math.min(4 - this.filled, chunk.length);
      chunk.copy(buf, this.filled, 0, used);
      this.filled += used;
      if (this.filled < 4) return used;
      const size = this.sizeOf(buf, 0);
      this.frameEnd = 4 + size;
      if (buf.length < this.frameEnd) {
        const full = this.assembly(this.frameEnd);
        if (full !== buf) buf.copy(full, 0, 0, 4);
        this.partial = buf = full;
      }
    }
    const n = Math.min(this.frameEnd - this.filled, chunk.length - used);
    chunk.copy(buf, this.filled, used, used + n);
    this.filled += n;
    return used + n;
  }

  private rest(data: Buffer, from: number, onFrame: (buf: Buffer, start: number, end: number) => void): void {
    let p = from;
    while (data.length - p >= 4) {
      const size = this.sizeOf(data, p);
      if (data.length - p - 4 < size) break;
      onFrame(data, p + 4, p + 4 + size);
      p += 4 + size;
    }
    if (p < data.length) {
      const left = data.length - p;
      // With the size known, room for the whole frame; otherwise 4 bytes until fill() learns it.
      this.frameEnd = left >= 4 ? 4 + data.readUInt32BE(p) : 4;
      this.partial = this.assembly(this.frameEnd);
      data.copy(this.partial, 0, p);
      this.filled = left;
    } else {
      this.kept = undefined;
    }
  }
}
