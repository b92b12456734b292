// Hand-rolled AMQP 0-9-1 frame encoding for warren-perf. Setup methods are rare, so they use a
// small growable writer; the hot path (publish, ack) uses pre-encoded templates built with it.

export const FRAME_METHOD = 1;
export const FRAME_HEADER = 2;
export const FRAME_BODY = 3;
export const FRAME_HEARTBEAT = 8;
export const FRAME_END = 0xce;
/** type(1) + channel(2) + size(4) before the payload, frame-end after it. */
export const FRAME_OVERHEAD = 8;

export const PROTOCOL_HEADER = Buffer.from([0x41, 0x4d, 0x51, 0x50, 0, 0, 9, 1]);

/** A value that can go into an AMQP field table (the subset warren-perf needs). */
export type FieldValue = string | number | boolean | { [key: string]: FieldValue };

/** Writes one frame's payload; `frame()` returns the finished frame with header and end octet. */
export class FrameWriter {
  private buf = Buffer.allocUnsafe(256);
  private pos = 7; // payload starts after the 7-byte frame header

  private ensure(extra: number): void {
    if (this.pos + extra + 1 <= this.buf.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + extra + 64));
    this.buf.copy(bigger, 0, 0, this.pos);
    this.buf = bigger;
  }

  octet(v: number): this {
    this.ensure(1);
    this.buf[this.pos++] = v & 0xff;
    return this;
  }

  short(v: number): this {
    this.ensure(2);
    this.buf.writeUInt16BE(v, this.pos);
    this.pos += 2;
    return this;
  }

  long(v: number): this {
    this.ensure(4);
    this.buf.writeUInt32BE(v >>> 0, this.pos);
    this.pos += 4;
    return this;
  }

  longlong(v: number): this {
    this.ensure(8);
    this.buf.writeUInt32BE(Math.floor(v / 0x100000000), this.pos);
    this.buf.writeUInt32BE(v >>> 0, this.pos + 4);
    this.pos += 8;
    return this;
  }

  shortstr(s: string): this {
    const len = Buffer.byteLength(s);
    if (len > 255) throw new Error(`shortstr too long (${len} bytes): ${s.slice(0, 40)}...`);
    this.ensure(1 + len);
    this.buf[this.pos++] = len;
    this.pos += this.buf.write(s, this.pos);
    return this;
  }

  longstr(s: string | Buffer): this {
    const bytes = typeof s === 'string' ? Buffer.from(s) : s;
    this.ensure(4 + bytes.length);
    this.buf.writeUInt32BE(bytes.length, this.pos);
    bytes.copy(this.buf, this.pos + 4);
    this.pos += 4 + bytes.length;
    return this;
  }

  /** Packs consecutive bit fields into one octet, first flag in the lowest bit. */
  bits(...flags: boolean[]): this {
    let v = 0;
    flags.forEach((f, i) => {
      if (f) v |= 1 << i;
    });
    return this.octet(v);
  }

  table(t: { [key: string]: FieldValue }): this {
    const start = this.pos;
    this.long(0); // length placeholder
    for (const [k, v] of Object.entries(t)) {
      this.shortstr(k);
      this.fieldValue(v);
    }
    this.buf.writeUInt32BE(this.pos - start - 4, start);
    return this;
  }

  private fieldValue(v: FieldValue): void {
    if (typeof v === 'string') this.octet(0x53 /* S */).longstr(v);
    else if (typeof v === 'boolean') this.octet(0x74 /* t */).octet(v ? 1 : 0);
    else if (typeof v === 'number') {
      if (Number.isInteger(v) && v >= -0x80000000 && v <= 0x7fffffff) {
        this.octet(0x49 /* I */);
        this.ensure(4);
        this.buf.writeInt32BE(v, this.pos);
        this.pos += 4;
      } else {
        this.octet(0x64 /* d */);
        this.ensure(8);
        this.buf.writeDoubleBE(v, this.pos);
        this.pos += 8;
      }
    } else this.octet(0x46 /* F */).table(v);
  }

  bytes(b: Buffer): this {
    this.ensure(b.length);
    b.copy(this.buf, this.pos);
    this.pos += b.length;
    return this;
  }

  /** Finishes the frame: header (type, channel, size) and end octet; returns an exact-size copy. */
  frame(type: number, channel: number): Buffer {
    this.ensure(1);
    const size = this.pos - 7;
    this.buf[0] = type;
    this.buf.writeUInt16BE(channel, 1);
    this.buf.writeUInt32BE(size, 3);
    this.buf[this.pos] = FRAME_END;
    return Buffer.from(this.buf.subarray(0, this.pos + 1));
  }
}

/** Starts a method frame payload with its class and method ids. */
export function method(classId: number, methodId: number): FrameWriter {
  return new FrameWriter().short(classId).short(methodId);
}

/** Reads AMQP fields out of a method payload (setup path only; the hot path reads bytes directly). */
export class PayloadReader {
  constructor(
    private readonly buf: Buffer,
    public pos: number,
  ) {}

  octet(): number {
    return this.buf[this.pos++]!;
  }

  short(): number {
    const v = this.buf.readUInt16BE(this.pos);
    this.pos += 2;
    return v;
  }

  long(): number {
    const v = this.buf.readUInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  longlong(): number {
    const v = this.buf.readUInt32BE(this.pos) * 0x100000000 + this.buf.readUInt32BE(this.pos + 4);
    this.pos += 8;
    return v;
  }

  shortstr(): string {
    const len = this.buf[this.pos]!;
    const s = this.buf.toString('utf8', this.pos + 1, this.pos + 1 + len);
    this.pos += 1 + len;
    return s;
  }

  longstr(): Buffer {
    const len = this.long();
    const b = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return b;
  }

  /** Skips a field table; warren-perf never needs the server's table contents. */
  skipTable(): void {
    const len = this.long();
    this.pos += len;
  }
}
