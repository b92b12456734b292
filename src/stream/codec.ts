/**
 * The stream protocol's primitive types: big-endian integers, int16-length strings (-1 = null),
 * int32-length byte arrays, int32-counted arrays and string maps. The reader works over a view of one
 * frame and throws StreamDecodeError when a field runs past it, so a bad frame never reads another's bytes.
 */
export class StreamDecodeError extends Error {}

/** A frame whose declared size is above the connection's frame_max (refused before it is read). */
export class FrameTooLargeError extends Error {}

/** The stream protocol's frame length check for FrameSplitter: above `frameMax()` (0 = none), FrameTooLargeError. */
export function frameMaxCheck(frameMax: () => number): (length: number) => void {
  return (length) => {
    const max = frameMax();
    if (max > 0 && length > max) throw new FrameTooLargeError(`frame of ${length} bytes exceeds ${max}`);
  };
}

export class StreamReader {
  pos: number;
  constructor(readonly buf: Buffer, start = 0, readonly end = buf.length) {
    this.pos = start;
  }

  private need(n: number): number {
    const p = this.pos;
    if (p + n > this.end) throw new StreamDecodeError(`frame too short: needs ${n} bytes at ${p - 0}`);
    this.pos = p + n;
    return p;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  u8(): number { return this.buf.readUInt8(this.need(1)); }
  u16(): number { return this.buf.readUInt16BE(this.need(2)); }
  i16(): number { return this.buf.readInt16BE(this.need(2)); }
  u32(): number { return this.buf.readUInt32BE(this.need(4)); }
  i32(): number { return this.buf.readInt32BE(this.need(4)); }
  u64(): bigint { return this.buf.readBigUInt64BE(this.need(8)); }
  i64(): bigint { return this.buf.readBigInt64BE(this.need(8)); }

  /** A string; null (length -1) reads as ''. */
  string(): string {
    const len = this.i16();
    if (len <= 0) return '';
    const p = this.need(len);
    return this.buf.toString('utf8', p, p + len);
  }

  /** A view of the bytes (no copy); null (-1) reads as an empty view. */
  bytes(): Buffer {
    const len = this.i32();
    if (len <= 0) return this.buf.subarray(0, 0);
    const p = this.need(len);
    return this.buf.subarray(p, p + len);
  }

  /** An int32 element count, checked against what is left so a huge count fails fast. */
  count(minElementSize: number): number {
    const n = this.i32();
    if (n < 0) return 0;
    if (n * minElementSize > this.remaining) throw new StreamDecodeError(`array of ${n} elements does not fit the frame`);
    return n;
  }

  map(): Record<string, string> {
    const n = this.count(4);
    const out: Record<string, string> = {};
    for (let i = 0; i < n; i++) {
      const k = this.string();
      out[k] = this.string();
    }
    return out;
  }

  strings(): string[] {
    const n = this.count(2);
    const out: string[] = [];
    for (let i = 0; i < n; i++) out.push(this.string());
    return out;
  }
}

/** Builds one frame: reserves the int32 size, and `finish()` fills it in. Grows by doubling. */
export class StreamWriter {
  buf: Buffer;
  pos = 4;
  constructor(initial = 256) {
    this.buf = Buffer.allocUnsafe(initial);
  }

  private room(n: number): number {
    if (this.pos + n > this.buf.length) {
      const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
      this.buf.copy(next, 0, 0, this.pos);
      this.buf = next;
    }
    const p = this.pos;
    this.pos = p + n;
    return p;
  }

  u8(v: number): this { const p = this.room(1); this.buf.writeUInt8(v, p); return this; }
  u16(v: number): this { const p = this.room(2); this.buf.writeUInt16BE(v, p); return this; }
  i16(v: number): this { const p = this.room(2); this.buf.writeInt16BE(v, p); return this; }
  u32(v: number): this { const p = this.room(4); this.buf.writeUInt32BE(v, p); return this; }
  i32(v: number): this { const p = this.room(4); this.buf.writeInt32BE(v, p); return this; }
  u64(v: bigint): this { const p = this.room(8); this.buf.writeBigUInt64BE(v, p); return this; }
  i64(v: bigint): this { const p = this.room(8); this.buf.writeBigInt64BE(v, p); return this; }

  string(s: string): this {
    const len = Buffer.byteLength(s);
    if (len > 0x7fff) throw new RangeError('stream protocol strings are at most 32767 bytes');
    this.i16(len);
    const p = this.room(len);
    this.buf.write(s, p, len, 'utf8');
    return this;
  }

  bytes(b: Uint8Array): this {
    this.i32(b.length);
    const p = this.room(b.length);
    this.buf.set(b, p);
    return this;
  }

  raw(b: Uint8Array): this {
    const p = this.room(b.length);
    this.buf.set(b, p);
    return this;
  }

  map(m: Record<string, string>): this {
    const keys = Object.keys(m);
    this.i32(keys.length);
    for (const k of keys) this.string(k).string(m[k]!);
    return this;
  }

  strings(list: readonly string[]): this {
    this.i32(list.length);
    for (const s of list) this.string(s);
    return this;
  }

  /** The finished frame (size prefix filled in): a view of the internal buffer. */
  finish(): Buffer {
    this.buf.writeUInt32BE(this.pos - 4, 0);
    return this.buf.subarray(0, this.pos);
  }
}

/** A frame that starts with key and version. */
export function frame(key: number, version = 1, initial = 64): StreamWriter {
  return new StreamWriter(initial).u16(key).u16(version);
}
