/**
 * A deliberately separate, minimal AMQP 0-9-1 encoder/decoder for tests that speak the wire protocol
 * by hand. It does not reuse src/protocol on purpose: a bug in Warren's codec must not be able to
 * hide itself by being on both ends of the socket.
 */

export const FRAME_METHOD = 1;
export const FRAME_HEADER = 2;
export const FRAME_BODY = 3;
export const FRAME_HEARTBEAT = 8;
export const FRAME_END = 0xce;
export const PROTOCOL_HEADER = Buffer.from('AMQP\x00\x00\x09\x01', 'latin1');

/** A typed field-table value, so a test controls exactly which type tag goes on the wire. */
export type Typed =
  | { t: 't'; v: boolean }
  | { t: 'b' | 'B' | 's' | 'u' | 'I' | 'i'; v: number }
  | { t: 'l' | 'L' | 'T'; v: bigint }
  | { t: 'f' | 'd'; v: number }
  | { t: 'D'; scale: number; v: number }
  | { t: 'S' | 'x'; v: Buffer | string }
  | { t: 'F'; v: TypedTable }
  | { t: 'A'; v: Typed[] }
  | { t: 'V' };
export type TypedTable = Record<string, Typed>;

/** Appends big-endian AMQP primitives; `done()` returns the bytes. */
export class Encoder {
  private parts: Buffer[] = [];
  private bitsByte = -1;
  private bitsCount = 0;

  private push(b: Buffer): this {
    this.bitsByte = -1;
    this.parts.push(b);
    return this;
  }
  u8(n: number): this {
    const b = Buffer.alloc(1);
    b.writeUInt8(n);
    return this.push(b);
  }
  u16(n: number): this {
    const b = Buffer.alloc(2);
    b.writeUInt16BE(n);
    return this.push(b);
  }
  u32(n: number): this {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(n);
    return this.push(b);
  }
  u64(n: number | bigint): this {
    const b = Buffer.alloc(8);
    b.writeBigUInt64BE(BigInt(n));
    return this.push(b);
  }
  shortstr(s: string | Buffer): this {
    const b = typeof s === 'string' ? Buffer.from(s, 'utf8') : s;
    return this.u8(b.length).push(b);
  }
  longstr(s: string | Buffer): this {
    const b = typeof s === 'string' ? Buffer.from(s, 'utf8') : s;
    return this.u32(b.length).push(b);
  }
  raw(b: Buffer): this {
    return this.push(b);
  }
  /** Consecutive bits share octets, as the spec packs them. */
  bit(v: boolean): this {
    if (this.bitsByte < 0 || this.bitsCount === 8) {
      this.parts.push(Buffer.alloc(1));
      this.bitsByte = this.parts.length - 1;
      this.bitsCount = 0;
    }
    if (v) this.parts[this.bitsByte]![0]! |= 1 << this.bitsCount;
    this.bitsCount++;
    return this;
  }
  table(t: TypedTable | Record<string, unknown>): this {
    const inner = new Encoder();
    for (const [k, v] of Object.entries(t)) {
      inner.shortstr(k);
      inner.value(isTyped(v) ? v : infer(v));
    }
    return this.longstr(inner.done());
  }
  value(v: Typed): this {
    this.u8(v.t.charCodeAt(0));
    switch (v.t) {
      case 't': return this.u8(v.v ? 1 : 0);
      case 'b': { const b = Buffer.alloc(1); b.writeInt8(v.v); return this.push(b); }
      case 'B': return this.u8(v.v);
      case 's': { const b = Buffer.alloc(2); b.writeInt16BE(v.v); return this.push(b); }
      case 'u': return this.u16(v.v);
      case 'I': { const b = Buffer.alloc(4); b.writeInt32BE(v.v); return this.push(b); }
      case 'i': return this.u32(v.v);
      case 'l': { const b = Buffer.alloc(8); b.writeBigInt64BE(v.v); return this.push(b); }
      case 'L': case 'T': return this.u64(v.v);
      case 'f': { const b = Buffer.alloc(4); b.writeFloatBE(v.v); return this.push(b); }
      case 'd': { const b = Buffer.alloc(8); b.writeDoubleBE(v.v); return this.push(b); }
      case 'D': return this.u8(v.scale).u32(v.v);
      case 'S': case 'x': return this.longstr(v.v);
      case 'F': return this.table(v.v);
      case 'A': {
        const inner = new Encoder();
        for (const item of v.v) inner.value(item);
        return this.longstr(inner.done());
      }
      case 'V': return this;
    }
  }
  done(): Buffer {
    return Buffer.concat(this.parts);
  }
}

function isTyped(v: unknown): v is Typed {
  return typeof v === 'object' && v !== null && 't' in v && typeof (v as { t: unknown }).t === 'string';
}

function infer(v: unknown): Typed {
  if (typeof v === 'boolean') return { t: 't', v };
  if (typeof v === 'number') return Number.isInteger(v) ? { t: 'I', v } : { t: 'd', v };
  if (typeof v === 'bigint') return { t: 'l', v };
  if (typeof v === 'string' || Buffer.isBuffer(v)) return { t: 'S', v };
  if (Array.isArray(v)) return { t: 'A', v: v.map(infer) };
  if (v === null || v === undefined) return { t: 'V' };
  return { t: 'F', v: Object.fromEntries(Object.entries(v as object).map(([k, x]) => [k, infer(x)])) };
}

/** Reads big-endian AMQP primitives from a payload. */
export class Decoder {
  pos = 0;
  private bitsByte = 0;
  private bitsLeft = 0;
  constructor(readonly buf: Buffer) {}

  u8(): number { this.bitsLeft = 0; return this.buf.readUInt8(this.pos++); }
  u16(): number { this.bitsLeft = 0; const v = this.buf.readUInt16BE(this.pos); this.pos += 2; return v; }
  u32(): number { this.bitsLeft = 0; const v = this.buf.readUInt32BE(this.pos); this.pos += 4; return v; }
  u64(): bigint { this.bitsLeft = 0; const v = this.buf.readBigUInt64BE(this.pos); this.pos += 8; return v; }
  shortstr(): string {
    const n = this.u8();
    const s = this.buf.toString('utf8', this.pos, this.pos + n);
    this.pos += n;
    return s;
  }
  longstrBytes(): Buffer {
    const n = this.u32();
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }
  longstr(): string {
    return this.longstrBytes().toString('utf8');
  }
  bit(): boolean {
    if (this.bitsLeft === 0) {
      this.bitsByte = this.buf.readUInt8(this.pos++);
      this.bitsLeft = 8;
    }
    const v = (this.bitsByte & 1) === 1;
    this.bitsByte >>= 1;
    this.bitsLeft--;
    return v;
  }
  /** Decodes a table into plain JS values (enough for assertions). */
  table(): Record<string, unknown> {
    const end = this.u32() + this.pos;
    const out: Record<string, unknown> = {};
    while (this.pos < end) {
      const k = this.shortstr();
      out[k] = this.value();
    }
    return out;
  }
  value(): unknown {
    const t = String.fromCharCode(this.u8());
    const b = this.buf;
    let v: unknown;
    switch (t) {
      case 't': return this.u8() !== 0;
      case 'b': v = b.readInt8(this.pos); this.pos += 1; return v;
      case 'B': return this.u8();
      case 's': v = b.readInt16BE(this.pos); this.pos += 2; return v;
      case 'u': return this.u16();
      case 'I': v = b.readInt32BE(this.pos); this.pos += 4; return v;
      case 'i': return this.u32();
      case 'l': v = b.readBigInt64BE(this.pos); this.pos += 8; return v;
      case 'L': case 'T': return this.u64();
      case 'f': v = b.readFloatBE(this.pos); this.pos += 4; return v;
      case 'd': v = b.readDoubleBE(this.pos); this.pos += 8; return v;
      case 'D': { const scale = this.u8(); return { scale, value: this.u32() }; }
      case 'S': return this.longstr();
      case 'x': return this.longstrBytes();
      case 'F': this.pos -= 0; return this.table();
      case 'A': {
        const end = this.u32() + this.pos;
        const items: unknown[] = [];
        while (this.pos < end) items.push(this.value());
        return items;
      }
      case 'V': return null;
      default: throw new Error(`unknown field type ${t}`);
    }
  }
}

export function frame(type: number, channel: number, payload: Buffer, end = FRAME_END): Buffer {
  const head = Buffer.alloc(7);
  head.writeUInt8(type, 0);
  head.writeUInt16BE(channel, 1);
  head.writeUInt32BE(payload.length, 3);
  return Buffer.concat([head, payload, Buffer.from([end])]);
}

/** A method frame: class and method ids, then the already-encoded arguments. */
export function methodFrame(channel: number, classId: number, methodId: number, args: Buffer = Buffer.alloc(0)): Buffer {
  return frame(FRAME_METHOD, channel, Buffer.concat([new Encoder().u16(classId).u16(methodId).done(), args]));
}

export function heartbeatFrame(): Buffer {
  return frame(FRAME_HEARTBEAT, 0, Buffer.alloc(0));
}

export function bodyFrame(channel: number, body: Buffer): Buffer {
  return frame(FRAME_BODY, channel, body);
}

/** The 14 basic properties, in flag order (bit 15 down to bit 2). */
export interface BasicProperties {
  contentType?: string;
  contentEncoding?: string;
  headers?: TypedTable | Record<string, unknown>;
  deliveryMode?: number;
  priority?: number;
  correlationId?: string;
  replyTo?: string;
  expiration?: string;
  messageId?: string;
  timestamp?: bigint;
  type?: string;
  userId?: string;
  appId?: string;
  clusterId?: string;
}

/** Encodes basic properties exactly as given (flags + fields), as a content header payload would. */
export function encodeProperties(p: BasicProperties): Buffer {
  const e = new Encoder();
  let flags = 0;
  const present = (v: unknown, bit: number) => {
    if (v !== undefined) flags |= 1 << bit;
  };
  present(p.contentType, 15); present(p.contentEncoding, 14); present(p.headers, 13); present(p.deliveryMode, 12);
  present(p.priority, 11); present(p.correlationId, 10); present(p.replyTo, 9); present(p.expiration, 8);
  present(p.messageId, 7); present(p.timestamp, 6); present(p.type, 5); present(p.userId, 4);
  present(p.appId, 3); present(p.clusterId, 2);
  e.u16(flags);
  if (p.contentType !== undefined) e.shortstr(p.contentType);
  if (p.contentEncoding !== undefined) e.shortstr(p.contentEncoding);
  if (p.headers !== undefined) e.table(p.headers);
  if (p.deliveryMode !== undefined) e.u8(p.deliveryMode);
  if (p.priority !== undefined) e.u8(p.priority);
  if (p.correlationId !== undefined) e.shortstr(p.correlationId);
  if (p.replyTo !== undefined) e.shortstr(p.replyTo);
  if (p.expiration !== undefined) e.shortstr(p.expiration);
  if (p.messageId !== undefined) e.shortstr(p.messageId);
  if (p.timestamp !== undefined) e.u64(p.timestamp);
  if (p.type !== undefined) e.shortstr(p.type);
  if (p.userId !== undefined) e.shortstr(p.userId);
  if (p.appId !== undefined) e.shortstr(p.appId);
  if (p.clusterId !== undefined) e.shortstr(p.clusterId);
  return e.done();
}

/** A content header frame for class basic (60). */
export function headerFrame(channel: number, bodySize: number, props: BasicProperties | Buffer = {}): Buffer {
  const encoded = Buffer.isBuffer(props) ? props : encodeProperties(props);
  return frame(FRAME_HEADER, channel, Buffer.concat([new Encoder().u16(60).u16(0).u64(bodySize).done(), encoded]));
}
