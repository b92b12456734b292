/**
 * Builds outgoing frames for one connection into a slab buffer, so that everything a connection
 * sends during one event-loop turn leaves in one socket write (or one writev with large bodies,
 * which are referenced, not copied). The generated method encoders write through this class.
 */
import { syntaxError } from './errors.js';
import { TypedValue, isFieldTable, type FieldTable, type FieldValue } from './field-table.js';
import type { MethodWriter } from './method-codec.js';
import {
  FRAME_BODY, FRAME_END, FRAME_HEADER, FRAME_HEARTBEAT, FRAME_METHOD, METHODS, type MethodArgs, type MethodId,
} from './generated.js';

/** Slabs start small (idle connections are the common case) and double while a connection is busy. */
const FIRST_SLAB = 4 * 1024;
const MAX_SLAB = 64 * 1024;
const EMPTY = Buffer.alloc(0);
/** Bodies at least this big go out as their own chunk (writev) instead of being copied. */
const ZERO_COPY_BODY = 16 * 1024;

export class FrameWriter {
  private buf = EMPTY;
  private slabSize = FIRST_SLAB;
  /** First byte not yet handed to the socket. */
  private start = 0;
  pos = 0;
  /** Where the frame being written began (its bytes move together if the slab must grow). */
  private frameStart = 0;
  private chunks: Buffer[] = [];
  /** Bytes in `chunks`, kept as they are pushed: deliveries ask for pendingBytes one by one. */
  private chunkBytes = 0;

  get pendingBytes(): number {
    return this.chunkBytes + this.pos - this.start;
  }

  private pushChunk(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.chunkBytes += chunk.length;
  }

  /** Take everything written so far, in order, for the socket. */
  take(): Buffer[] {
    const out = this.chunks;
    if (this.pos > this.start) out.push(this.buf.subarray(this.start, this.pos));
    this.chunks = [];
    this.chunkBytes = 0;
    this.start = this.frameStart = this.pos;
    // The next write starts a fresh slab when the current one is nearly used up.
    if (this.buf.length - this.pos < 512) {
      this.buf = EMPTY;
      this.start = this.frameStart = this.pos = 0;
    }
    return out;
  }

  /** Continue in a fresh slab, carrying the `carry` bytes of the frame in progress along. */
  private newSlab(carry: number, extra: number): void {
    if (this.buf !== EMPTY) this.slabSize = Math.min(this.slabSize * 2, MAX_SLAB);
    const next = Buffer.allocUnsafe(Math.max(this.slabSize, (carry + extra) * 2));
    if (carry > 0) this.buf.copy(next, 0, this.frameStart, this.frameStart + carry);
    this.buf = next;
    this.start = this.frameStart = 0;
    this.pos = carry;
  }

  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    // Close what is complete, carry the frame in progress over to a fresh slab.
    if (this.frameStart > this.start) this.pushChunk(this.buf.subarray(this.start, this.frameStart));
    this.newSlab(this.pos - this.frameStart, n);
  }

  u8(v: number): void {
    this.ensure(1);
    this.buf[this.pos++] = v;
  }
  u16(v: number): void {
    this.ensure(2);
    this.buf.writeUInt16BE(v, this.pos);
    this.pos += 2;
  }
  u32(v: number): void {
    this.ensure(4);
    this.buf.writeUInt32BE(v >>> 0, this.pos);
    this.pos += 4;
  }
  u64(v: number): void {
    this.ensure(8);
    this.buf.writeUInt32BE(Math.floor(v / 0x100000000) >>> 0, this.pos);
    this.buf.writeUInt32BE(v >>> 0, this.pos + 4);
    this.pos += 8;
  }
  shortstr(s: string): void {
    this.ensure(1 + s.length * 3);
    const len = this.buf.write(s, this.pos + 1, 'utf8');
    if (len > 255) throw syntaxError('short string longer than 255 bytes');
    this.buf[this.pos] = len;
    this.pos += 1 + len;
  }
  longstr(b: Buffer | string): void {
    if (typeof b === 'string') b = Buffer.from(b, 'utf8');
    this.u32(b.length);
    this.bytes(b);
  }
  bytes(b: Buffer): void {
    this.ensure(b.length);
    b.copy(this.buf, this.pos);
    this.pos += b.length;
  }
  table(t: FieldTable | undefined): void {
    this.ensure(4);
    const lenAt = this.pos;
    this.pos += 4;
    const base = this.frameStart;
    if (t) for (const key of Object.keys(t)) {
      this.shortstr(key);
      this.fieldValue(t[key] as FieldValue);
    }
    // The slab may have moved while writing; the length slot moved with the frame.
    const at = lenAt - base + this.frameStart;
    this.buf.writeUInt32BE(this.pos - at - 4, at);
  }
  private array(a: FieldValue[]): void {
    this.ensure(4);
    const lenAt = this.pos;
    this.pos += 4;
    const base = this.frameStart;
    for (const v of a) this.fieldValue(v);
    const at = lenAt - base + this.frameStart;
    this.buf.writeUInt32BE(this.pos - at - 4, at);
  }
  fieldValue(v: FieldValue): void {
    if (v === null || v === undefined) return this.u8(0x56);
    switch (typeof v) {
      case 'boolean':
        this.u8(0x74);
        return this.u8(v ? 1 : 0);
      case 'number':
        if (Number.isInteger(v)) {
          if (v >= -0x80000000 && v <= 0x7fffffff) {
            this.u8(0x49);
            this.ensure(4);
            this.buf.writeInt32BE(v, this.pos);
            this.pos += 4;
            return;
          }
          return this.int64(BigInt(v));
        }
        this.u8(0x64);
        this.ensure(8);
        this.buf.writeDoubleBE(v, this.pos);
        this.pos += 8;
        return;
      case 'bigint':
        return this.int64(v);
      case 'string':
        this.u8(0x53);
        return this.longstr(v);
    }
    if (v instanceof Buffer) {
      this.u8(0x78);
      return this.longstr(v);
    }
    if (v instanceof Date) {
      this.u8(0x54);
      return this.u64(Math.floor(v.getTime() / 1000));
    }
    if (Array.isArray(v)) {
      this.u8(0x41);
      return this.array(v);
    }
    if (v instanceof TypedValue) return this.typed(v);
    if (isFieldTable(v)) {
      this.u8(0x46);
      return this.table(v);
    }
  }
  private int64(v: bigint): void {
    this.u8(0x6c);
    this.ensure(8);
    this.buf.writeBigInt64BE(v, this.pos);
    this.pos += 8;
  }
  private typed(t: TypedValue): void {
    this.u8(t.type.charCodeAt(0));
    this.ensure(8);
    const b = this.buf;
    const p = this.pos;
    switch (t.type) {
      case 'b': b.writeInt8(t.value as number, p); this.pos += 1; return;
      case 'B': b.writeUInt8(t.value as number, p); this.pos += 1; return;
      case 's': b.writeInt16BE(t.value as number, p); this.pos += 2; return;
      case 'u': b.writeUInt16BE(t.value as number, p); this.pos += 2; return;
      case 'i': b.writeUInt32BE(t.value as number, p); this.pos += 4; return;
      case 'l': b.writeBigInt64BE(BigInt(t.value as number | bigint), p); this.pos += 8; return;
      case 'L': b.writeBigUInt64BE(BigInt(t.value as bigint), p); this.pos += 8; return;
      case 'd': b.writeDoubleBE(t.value as number, p); this.pos += 8; return;
      case 'f': b.writeFloatBE(t.value as number, p); this.pos += 4; return;
      case 'D': {
        const d = t.value as { scale: number; value: number };
        b.writeUInt8(d.scale, p);
        b.writeInt32BE(d.value, p + 1);
        this.pos += 5;
        return;
      }
    }
  }

  private beginFrame(type: number, channel: number): void {
    this.ensure(7);
    this.frameStart = this.pos;
    const b = this.buf;
    b[this.pos] = type;
    b.writeUInt16BE(channel, this.pos + 1);
    this.pos += 7;
  }
  private endFrame(): void {
    this.ensure(1);
    this.buf.writeUInt32BE(this.pos - this.frameStart - 7, this.frameStart + 3);
    this.buf[this.pos++] = FRAME_END;
    this.frameStart = this.pos;
  }

  /** One method frame; `id` is (class << 16 | method). */
  method<K extends MethodId>(channel: number, id: K, args: MethodArgs[K]): void {
    const info = METHODS.get(id);
    if (!info) throw new Error(`unknown method ${id.toString(16)}`);
    this.beginFrame(FRAME_METHOD, channel);
    this.u32(id);
    // The table is keyed by number; `id` and `args` are tied together by MethodArgs above.
    (info.encode as (w: MethodWriter, a: MethodArgs[K]) => void)(this, args);
    this.endFrame();
  }

  /** Content header + body frames for a message, splitting the body at frame-max. */
  content(channel: number, rawProperties: Buffer, body: Buffer, frameMax: number): void {
    this.beginFrame(FRAME_HEADER, channel);
    this.ensure(12 + rawProperties.length);
    const b = this.buf;
    b.writeUInt16BE(60, this.pos);
    b.writeUInt16BE(0, this.pos + 2);
    b.writeUInt32BE(Math.floor(body.length / 0x100000000), this.pos + 4);
    b.writeUInt32BE(body.length >>> 0, this.pos + 8);
    this.pos += 12;
    if (rawProperties.length === 0) this.u16(0);
    else this.bytes(rawProperties);
    this.endFrame();
    const max = frameMax - 8;
    for (let off = 0; off < body.length; off += max) {
      const part = body.subarray(off, Math.min(off + max, body.length));
      this.beginFrame(FRAME_BODY, channel);
      if (part.length >= ZERO_COPY_BODY) {
        this.buf.writeUInt32BE(part.length, this.frameStart + 3);
        this.pushChunk(this.buf.subarray(this.start, this.pos));
        this.pushChunk(part);
        this.start = this.frameStart = this.pos;
        this.u8(FRAME_END);
        this.frameStart = this.pos;
      } else {
        this.bytes(part);
        this.endFrame();
      }
    }
  }

  heartbeat(): void {
    this.beginFrame(FRAME_HEARTBEAT, 0);
    this.endFrame();
  }

  /** Raw bytes outside any frame (the protocol header). */
  raw(b: Buffer): void {
    this.frameStart = this.pos;
    this.bytes(b);
    this.frameStart = this.pos;
  }
}
