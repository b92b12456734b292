/**
 * Splits a stream-protocol byte stream into frames (int32 size, then that many bytes). Frames are
 * views of the socket's buffers; a frame split across reads is copied once, into a buffer of its
 * exact size allocated when its size is known, so a large publish frame arriving in many reads costs
 * one copy, not one per read.
 */
export class FrameTooLargeError extends Error {}

export class FrameSplitter {
  /** A frame being assembled across reads (size prefix included), and how much of it is filled. */
  private partial: Buffer | undefined;
  private filled = 0;

  constructor(private maxFrame: number) {}

  setMaxFrame(n: number): void {
    this.maxFrame = n;
  }

  private sizeOf(b: Buffer, at: number): number {
    const size = b.readUInt32BE(at);
    if (this.maxFrame > 0 && size > this.maxFrame) throw new FrameTooLargeError(`frame of ${size} bytes exceeds ${this.maxFrame}`);
    return size;
  }

  /** Calls onFrame(buf, start, end) for each complete frame body in chunk. */
  push(chunk: Buffer, onFrame: (buf: Buffer, start: number, end: number) => void): void {
    let p = 0;
    if (this.partial) {
      p = this.fill(chunk);
      const full = this.partial;
      if (this.filled < full.length) return;
      this.partial = undefined;
      onFrame(full, 4, full.length);
    }
    this.rest(chunk, p, onFrame);
  }

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
      const full = Buffer.allocUnsafe(4 + size);
      buf.copy(full, 0, 0, 4);
      this.partial = buf = full;
    }
    const n = Math.min(buf.length - this.filled, chunk.length - used);
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
      // With the size known, the frame's own buffer; otherwise 4 bytes until fill() learns it.
      this.partial = Buffer.allocUnsafe(left >= 4 ? 4 + data.readUInt32BE(p) : 4);
      data.copy(this.partial, 0, p);
      this.filled = left;
    }
  }
}
