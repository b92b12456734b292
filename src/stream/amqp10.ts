/**
 * Stream records are AMQP 1.0 messages, as RabbitMQ stores them, so that stream-protocol clients and
 * AMQP 0-9-1 clients read each other's messages. This module converts between the two:
 *
 *   0-9-1 publish -> header (durable, priority), message-annotations (x-exchange, x-routing-key,
 *   x-basic-type / -app-id / -expiration / -cluster-id), properties (message-id, user-id,
 *   reply-to, correlation-id, content-type, content-encoding, creation-time), application-properties
 *   (headers with simple values), one data section (the body).
 *
 * and back for 0-9-1 deliveries. Decoding accepts every AMQP 1.0 primitive type (a stream client may
 * send any), keeps what maps onto 0-9-1 and skips the rest; amqp-value and amqp-sequence bodies are
 * delivered as their encoded bytes.
 */
import type { BasicProperties } from '../protocol/properties.js';
import type { FieldTable, FieldValue } from '../protocol/field-table.js';

export class Amqp10DecodeError extends Error {}

// ---- encoding ----

class Enc {
  parts: Buffer[] = [];
  private b(bytes: number[]): void { this.parts.push(Buffer.from(bytes)); }
  raw(buf: Buffer): void { this.parts.push(buf); }
  descriptor(code: number): void { this.b([0x00, 0x53, code]); }
  nul(): void { this.b([0x40]); }
  bool(v: boolean): void { this.b([v ? 0x41 : 0x42]); }
  ubyte(v: number): void { this.b([0x50, v & 0xff]); }
  uint(v: number): void { const x = Buffer.alloc(5); x[0] = 0x70; x.writeUInt32BE(v >>> 0, 1); this.raw(x); }
  long(v: bigint): void { const x = Buffer.alloc(9); x[0] = 0x81; x.writeBigInt64BE(v, 1); this.raw(x); }
  int(v: number): void { const x = Buffer.alloc(5); x[0] = 0x71; x.writeInt32BE(v, 1); this.raw(x); }
  /** An integer in the smallest of int and long (clients such as rabbitmq-stream-js-client read only int). */
  integer(v: bigint): void { v >= -2147483648n && v <= 2147483647n ? this.int(Number(v)) : this.long(v); }
  double(v: number): void { const x = Buffer.alloc(9); x[0] = 0x82; x.writeDoubleBE(v, 1); this.raw(x); }
  timestamp(ms: number): void { const x = Buffer.alloc(9); x[0] = 0x83; x.writeBigInt64BE(BigInt(Math.trunc(ms)), 1); this.raw(x); }
  private variable(small: number, large: number, data: Buffer): void {
    if (data.length < 256) this.b([small, data.length]);
    else { const x = Buffer.alloc(5); x[0] = large; x.writeUInt32BE(data.length, 1); this.raw(x); }
    this.raw(data);
  }
  string(s: string): void { this.variable(0xa1, 0xb1, Buffer.from(s, 'utf8')); }
  symbol(s: string): void { this.variable(0xa3, 0xb3, Buffer.from(s, 'ascii')); }
  binary(b: Buffer): void { this.variable(0xa0, 0xb0, b); }
  /** A compound (list or map) of already-encoded items, always in the 32-bit form (simple, rare). */
  compound(code: 0xd0 | 0xd1, count: number, items: Buffer): void {
    const x = Buffer.alloc(9);
    x[0] = code;
    x.writeUInt32BE(items.length + 4, 1);
    x.writeUInt32BE(count, 5);
    this.raw(x);
    this.raw(items);
  }
  done(): Buffer { return Buffer.concat(this.parts); }
}

function encodeValue(e: Enc, v: FieldValue): boolean {
  if (v === null) e.nul();
  else if (typeof v === 'boolean') e.bool(v);
  else if (typeof v === 'string') e.string(v);
  else if (typeof v === 'number') Number.isInteger(v) ? e.integer(BigInt(v)) : e.double(v);
  else if (typeof v === 'bigint') e.integer(v);
  else if (Buffer.isBuffer(v)) e.binary(v);
  else if (v instanceof Date) e.timestamp(v.getTime());
  else if (typeof v === 'object' && 'type' in v && 'value' in v && typeof (v as { value: unknown }).value !== 'object') {
    const n = (v as { value: number | bigint }).value;
    if (typeof n === 'number' && !Number.isInteger(n)) e.double(n);
    else e.integer(BigInt(n));
  } else return false; // nested tables and arrays have no place in application-properties
  return true;
}

/** A section: descriptor + list of fields, trailing absent fields dropped. */
function listSection(e: Enc, code: number, fields: ((x: Enc) => void)[] ): void {
  let last = fields.length;
  const items = new Enc();
  for (let i = 0; i < last; i++) fields[i]!(items);
  e.descriptor(code);
  e.compound(0xd0, last, items.done());
}

const absent = (x: Enc) => x.nul();

export function encodeFromAmqp091(p: BasicProperties, body: Buffer, exchange: string, routingKey: string): Buffer {
  const e = new Enc();
  if (p.deliveryMode !== undefined || p.priority !== undefined) {
    listSection(e, 0x70, [
      (x) => x.bool(p.deliveryMode === 2),
      p.priority !== undefined ? (x) => x.ubyte(p.priority!) : absent,
    ]);
  }
  const annotations = new Enc();
  let n = 0;
  const annotate = (k: string, v: string | undefined) => {
    if (v === undefined) return;
    annotations.symbol(k);
    annotations.string(v);
    n++;
  };
  annotate('x-exchange', exchange);
  annotate('x-routing-key', routingKey);
  annotate('x-basic-type', p.type);
  annotate('x-basic-app-id', p.appId);
  annotate('x-basic-expiration', p.expiration);
  annotate('x-basic-cluster-id', p.clusterId);
  e.descriptor(0x72);
  e.compound(0xd1, n * 2, annotations.done());
  const props: ((x: Enc) => void)[] = [
    p.messageId !== undefined ? (x) => x.string(p.messageId!) : absent,
    p.userId !== undefined ? (x) => x.binary(Buffer.from(p.userId!)) : absent,
    absent, // to
    absent, // subject
    p.replyTo !== undefined ? (x) => x.string(p.replyTo!) : absent,
    p.correlationId !== undefined ? (x) => x.string(p.correlationId!) : absent,
    p.contentType !== undefined ? (x) => x.symbol(p.contentType!) : absent,
    p.contentEncoding !== undefined ? (x) => x.symbol(p.contentEncoding!) : absent,
    absent, // absolute-expiry-time
    p.timestamp !== undefined ? (x) => x.timestamp(p.timestamp! * 1000) : absent,
  ];
  while (props.length > 0 && props[props.length - 1] === absent) props.pop();
  if (props.length > 0) listSection(e, 0x73, props);
  if (p.headers) {
    const items = new Enc();
    let count = 0;
    for (const [k, v] of Object.entries(p.headers)) {
      const value = new Enc();
      if (!encodeValue(value, v)) continue;
      items.string(k);
      items.raw(value.done());
      count += 2;
    }
    e.descriptor(0x74);
    e.compound(0xd1, count, items.done());
  }
  e.descriptor(0x75);
  e.binary(body);
  return e.done();
}

// ---- decoding ----

type Value = null | boolean | number | bigint | string | Buffer | Value[] | Map<Value, Value> | { symbol: string } | { described: Value; value: Value };

class Dec {
  p = 0;
  constructor(readonly b: Buffer) {}
  private need(n: number): number {
    if (this.p + n > this.b.length) throw new Amqp10DecodeError('truncated AMQP 1.0 value');
    const at = this.p;
    this.p += n;
    return at;
  }
  value(): Value {
    const code = this.b[this.need(1)]!;
    switch (code) {
      case 0x00: { const described = this.value(); return { described, value: this.value() }; }
      case 0x40: return null;
      case 0x41: return true;
      case 0x42: return false;
      case 0x56: return this.b[this.need(1)] === 1;
      case 0x43: case 0x44: return 0;
      case 0x50: return this.b[this.need(1)]!;
      case 0x51: return this.b.readInt8(this.need(1));
      case 0x52: return this.b[this.need(1)]!;
      case 0x53: return this.b[this.need(1)]!;
      case 0x54: return this.b.readInt8(this.need(1));
      case 0x55: return this.b.readInt8(this.need(1));
      case 0x60: return this.b.readUInt16BE(this.need(2));
      case 0x61: return this.b.readInt16BE(this.need(2));
      case 0x70: return this.b.readUInt32BE(this.need(4));
      case 0x71: return this.b.readInt32BE(this.need(4));
      case 0x72: return this.b.readFloatBE(this.need(4));
      case 0x73: return this.b.readUInt32BE(this.need(4)); // char
      case 0x74: return this.b.readUInt32BE(this.need(4)); // decimal32, raw
      case 0x80: return this.b.readBigUInt64BE(this.need(8));
      case 0x81: return this.b.readBigInt64BE(this.need(8));
      case 0x82: return this.b.readDoubleBE(this.need(8));
      case 0x83: return Number(this.b.readBigInt64BE(this.need(8)));
      case 0x84: this.need(8); return null; // decimal64
      case 0x94: this.need(16); return null; // decimal128
      case 0x98: { const at = this.need(16); return this.b.subarray(at, at + 16).toString('hex'); }
      case 0xa0: { const n = this.b[this.need(1)]!; const at = this.need(n); return this.b.subarray(at, at + n); }
      case 0xb0: { const n = this.b.readUInt32BE(this.need(4)); const at = this.need(n); return this.b.subarray(at, at + n); }
      case 0xa1: { const n = this.b[this.need(1)]!; const at = this.need(n); return this.b.toString('utf8', at, at + n); }
      case 0xb1: { const n = this.b.readUInt32BE(this.need(4)); const at = this.need(n); return this.b.toString('utf8', at, at + n); }
      case 0xa3: { const n = this.b[this.need(1)]!; const at = this.need(n); return { symbol: this.b.toString('ascii', at, at + n) }; }
      case 0xb3: { const n = this.b.readUInt32BE(this.need(4)); const at = this.need(n); return { symbol: this.b.toString('ascii', at, at + n) }; }
      case 0x45: return [];
      case 0xc0: case 0xc1: { this.need(1); const count = this.b[this.need(1)]!; return this.compound(code === 0xc1, count); }
      case 0xd0: case 0xd1: { this.need(4); const count = this.b.readUInt32BE(this.need(4)); return this.compound(code === 0xd1, count); }
      case 0xe0: { this.need(1); const count = this.b[this.need(1)]!; return this.array(count); }
      case 0xf0: { this.need(4); const count = this.b.readUInt32BE(this.need(4)); return this.array(count); }
      default: throw new Amqp10DecodeError(`unknown AMQP 1.0 type 0x${code.toString(16)}`);
    }
  }
  private compound(isMap: boolean, count: number): Value {
    if (count > this.b.length - this.p) throw new Amqp10DecodeError('compound larger than the message');
    if (!isMap) return Array.from({ length: count }, () => this.value());
    const m = new Map<Value, Value>();
    for (let i = 0; i + 1 < count; i += 2) m.set(plainKey(this.value()), this.value());
    return m;
  }
  private array(count: number): Value {
    // Arrays share one constructor: re-read it for each element.
    const ctorAt = this.p;
    const out: Value[] = [];
    for (let i = 0; i < count; i++) {
      const elementAt = this.p;
      if (i > 0) {
        // splice the constructor in front of the element by decoding from a small joined buffer
        const ctor = this.b.subarray(ctorAt, ctorAt + 1);
        const d = new Dec(Buffer.concat([ctor, this.b.subarray(elementAt)]));
        out.push(d.value());
        this.p = elementAt + d.p - 1;
      } else out.push(this.value());
    }
    return out;
  }
}

function plainKey(v: Value): Value {
  return v !== null && typeof v === 'object' && 'symbol' in v ? v.symbol : v;
}

function fieldValue(v: Value): FieldValue | undefined {
  if (v === null || typeof v === 'boolean' || typeof v === 'string' || typeof v === 'bigint' || Buffer.isBuffer(v)) return v;
  if (typeof v === 'number') return v;
  if (typeof v === 'object' && 'symbol' in v) return v.symbol;
  return undefined;
}

const str = (v: Value | undefined): string | undefined => {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string') return v;
  if (typeof v === 'object' && 'symbol' in v) return v.symbol;
  if (Buffer.isBuffer(v)) return v.toString('utf8');
  if (typeof v === 'number' || typeof v === 'bigint') return String(v);
  return undefined;
};

export interface DecodedMessage {
  properties: BasicProperties;
  body: Buffer;
  exchange: string;
  routingKey: string;
}

/** An AMQP 1.0 message as 0-9-1 properties and body. Throws Amqp10DecodeError on malformed input. */
export function decodeToAmqp091(bytes: Buffer): DecodedMessage {
  const d = new Dec(bytes);
  const p: BasicProperties = {};
  const bodies: Buffer[] = [];
  let exchange = '';
  let routingKey = '';
  while (d.p < bytes.length) {
    const start = d.p;
    const section = d.value();
    if (section === null || typeof section !== 'object' || !('described' in section)) throw new Amqp10DecodeError('not a message section');
    const code = typeof section.described === 'number' ? section.described : -1;
    const v = section.value;
    switch (code) {
      case 0x70: {
        const l = Array.isArray(v) ? v : [];
        if (l[0] === true) p.deliveryMode = 2;
        else p.deliveryMode = 1;
        if (typeof l[1] === 'number') p.priority = l[1];
        break;
      }
      case 0x72: {
        if (!(v instanceof Map)) break;
        exchange = str(v.get('x-exchange')) ?? '';
        routingKey = str(v.get('x-routing-key')) ?? '';
        const type = str(v.get('x-basic-type'));
        if (type !== undefined) p.type = type;
        const appId = str(v.get('x-basic-app-id'));
        if (appId !== undefined) p.appId = appId;
        const exp = str(v.get('x-basic-expiration'));
        if (exp !== undefined) p.expiration = exp;
        const cluster = str(v.get('x-basic-cluster-id'));
        if (cluster !== undefined) p.clusterId = cluster;
        break;
      }
      case 0x73: {
        const l = Array.isArray(v) ? v : [];
        const set = <K extends keyof BasicProperties>(k: K, x: BasicProperties[K] | undefined) => { if (x !== undefined) p[k] = x; };
        set('messageId', str(l[0]));
        set('userId', str(l[1]));
        set('replyTo', str(l[4]));
        set('correlationId', str(l[5]));
        set('contentType', str(l[6]));
        set('contentEncoding', str(l[7]));
        if (typeof l[9] === 'number') p.timestamp = Math.floor(l[9] / 1000);
        break;
      }
      case 0x74: {
        if (!(v instanceof Map)) break;
        const headers: FieldTable = {};
        for (const [k, x] of v) {
          const f = fieldValue(x);
          if (typeof k === 'string' && f !== undefined) headers[k] = f;
        }
        p.headers = headers;
        break;
      }
      case 0x75:
        if (Buffer.isBuffer(v)) bodies.push(v);
        break;
      case 0x76: case 0x77:
        bodies.push(bytes.subarray(start, d.p));
        break;
      default:
        break; // delivery annotations, footer: nothing in 0-9-1
    }
  }
  return { properties: p, body: bodies.length === 1 ? bodies[0]! : Buffer.concat(bodies), exchange, routingKey };
}
