/**
 * Reads AMQP primitive types out of one frame's payload, in place. Every read is bounds-checked
 * against the payload's end so that a truncated or lying frame becomes a FRAME_ERROR (as RabbitMQ) instead of
 * reading into the next frame or crashing.
 */
import { PAYLOAD_TOO_SHORT, frameError } from './errors.js';
import { TypedValue, type FieldTable, type FieldValue } from './field-table.js';

export class FrameReader {
  buf: Buffer;
  pos: number;
  end: number;
  /**
   * Keep 'l' and 'd' field values as TypedValues, so that a table decoded and written again keeps
   * every wire type (dead-lettering rewrites a message's headers; RabbitMQ leaves their types alone).
   */
  exactTypes = false;
  /**
   * Keep 'd' field values as TypedValues (method arguments): RabbitMQ refuses a double where it wants
   * an integer, even a whole one (`x-expires: 1000.0`), and a double is never equivalent to an integer.
   */
  typedDoubles = false;

  constructor(buf: Buffer, pos = 0, end = buf.length) {
    this.buf = buf;
    this.pos = pos;
    this.end = end;
  }

  reset(buf: Buffer, pos: number, end: number): this {
    this.buf = buf;
    this.pos = pos;
    this.end = end;
    return this;
  }

  private need(n: number): number {
    const p = this.pos;
    if (p + n > this.end) throw frameError(PAYLOAD_TOO_SHORT);
    this.pos = p + n;
    return p;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  u8(): number {
    return this.buf[this.need(1)]!;
  }
  i8(): number {
    return this.buf.readInt8(this.need(1));
  }
  u16(): number {
    return this.buf.readUInt16BE(this.need(2));
  }
  i16(): number {
    return this.buf.readInt16BE(this.need(2));
  }
  u32(): number {
    return this.buf.readUInt32BE(this.need(4));
  }
  i32(): number {
    return this.buf.readInt32BE(this.need(4));
  }
  /** longlong as a JS number: delivery tags and counts stay far below 2^53. */
  u64(): number {
    const p = this.need(8);
    return this.buf.readUInt32BE(p) * 0x100000000 + this.buf.readUInt32BE(p + 4);
  }
  i64(): number | bigint {
    const v = this.buf.readBigInt64BE(this.need(8));
    return v >= -9007199254740991n && v <= 9007199254740991n ? Number(v) : v;
  }
  f32(): number {
    return this.buf.readFloatBE(this.need(4));
  }
  f64(): number {
    return this.buf.readDoubleBE(this.need(8));
  }
  shortstr(): string {
    const len = this.u8();
    const p = this.need(len);
    return this.buf.toString('utf8', p, p + len);
  }
  /** A view, not a copy: callers that keep it beyond the frame must copy. */
  longstr(): Buffer {
    const len = this.u32();
    const p = this.need(len);
    return this.buf.subarray(p, p + len);
  }
  table(): FieldTable {
    const len = this.u32();
    const stop = this.need(len) + len;
    const saved = this.end;
    this.end = stop;
    this.pos = stop - len;
    const table: FieldTable = {};
    while (this.pos < stop) {
      const key = this.shortstr();
      table[key] = this.fieldValue();
    }
    this.end = saved;
    return table;
  }
  array(): FieldValue[] {
    const len = this.u32();
    const stop = this.need(len) + len;
    const saved = this.end;
    this.end = stop;
    this.pos = stop - len;
    const out: FieldValue[] = [];
    while (this.pos < stop) out.push(this.fieldValue());
    this.end = saved;
    return out;
  }
  fieldValue(): FieldValue {
    const type = this.u8();
    switch (type) {
      case 0x74: return this.u8() !== 0; // t
      case 0x62: return new TypedValue('b', this.i8()); // b
      case 0x42: return new TypedValue('B', this.u8()); // B
      case 0x73: return new TypedValue('s', this.i16()); // s
      case 0x75: return new TypedValue('u', this.u16()); // u
      case 0x49: return this.i32(); // I
      case 0x69: return new TypedValue('i', this.u32()); // i
      case 0x6c: { // l
        const v = this.i64();
        return this.exactTypes ? new TypedValue('l', v) : v;
      }
      case 0x4c: return new TypedValue('L', this.buf.readBigUInt64BE(this.need(8))); // L
      case 0x66: return new TypedValue('f', this.f32()); // f
      case 0x64: return this.exactTypes || this.typedDoubles ? new TypedValue('d', this.f64()) : this.f64(); // d
      case 0x44: { // D
        const scale = this.u8();
        return new TypedValue('D', { scale, value: this.i32() });
      }
      case 0x53: return this.longstr().toString('utf8'); // S
      case 0x78: return Buffer.from(this.longstr()); // x: copied, it outlives the frame
      case 0x41: return this.array(); // A
      case 0x54: return new Date(this.u64() * 1000); // T
      case 0x46: return this.table(); // F
      case 0x56: return null; // V
      default:
        throw frameError(`unknown field type '${String.fromCharCode(type)}'`);
    }
  }
}
