/**
 * Basic content properties. Messages carry their property bytes raw (byte-exact to consumers);
 * this module decodes them when routing needs a value, and encodes them for messages the broker
 * itself creates (management publish, dead-lettering).
 */
import type { FieldTable } from './field-table.js';
import { FrameReader } from './frame-reader.js';
import { FrameWriter } from './frame-writer.js';

export interface BasicProperties {
  contentType?: string;
  contentEncoding?: string;
  headers?: FieldTable;
  deliveryMode?: number;
  priority?: number;
  correlationId?: string;
  replyTo?: string;
  expiration?: string;
  messageId?: string;
  timestamp?: number;
  type?: string;
  userId?: string;
  appId?: string;
  clusterId?: string;
}

const F_CONTENT_TYPE = 1 << 15;
const F_CONTENT_ENCODING = 1 << 14;
const F_HEADERS = 1 << 13;
const F_DELIVERY_MODE = 1 << 12;
const F_PRIORITY = 1 << 11;
const F_CORRELATION_ID = 1 << 10;
const F_REPLY_TO = 1 << 9;
const F_EXPIRATION = 1 << 8;
const F_MESSAGE_ID = 1 << 7;
const F_TIMESTAMP = 1 << 6;
const F_TYPE = 1 << 5;
const F_USER_ID = 1 << 4;
const F_APP_ID = 1 << 3;
const F_CLUSTER_ID = 1 << 2;

/** Flag bits of the properties the broker looks at without decoding the rest. */
export const PropertyFlag = {
  expiration: F_EXPIRATION, replyTo: F_REPLY_TO, userId: F_USER_ID, priority: F_PRIORITY, headers: F_HEADERS, deliveryMode: F_DELIVERY_MODE,
} as const;

/** Whether the raw property bytes carry a property, from its flag bit alone (hot path: no decoding). */
export function hasProperty(raw: Buffer, flag: number): boolean {
  return raw.length >= 2 && (raw.readUInt16BE(0) & flag) !== 0;
}

const reader = new FrameReader(Buffer.alloc(0));

/**
 * Decode property-flags + property-list bytes. Throws a SYNTAX_ERROR AmqpError on malformed input.
 * `exactTypes`: header values keep their wire types when written again (see FrameReader.exactTypes).
 */
export function readPropertyFields(raw: Buffer, exactTypes = false): BasicProperties {
  reader.exactTypes = exactTypes;
  try {
    return readFields(raw);
  } finally {
    reader.exactTypes = false;
  }
}

function readFields(raw: Buffer): BasicProperties {
  const p: BasicProperties = {};
  if (raw.length < 2) return p;
  const r = reader.reset(raw, 0, raw.length);
  const flags = r.u16();
  if (flags & F_CONTENT_TYPE) p.contentType = r.shortstr();
  if (flags & F_CONTENT_ENCODING) p.contentEncoding = r.shortstr();
  if (flags & F_HEADERS) p.headers = r.table();
  if (flags & F_DELIVERY_MODE) p.deliveryMode = r.u8();
  if (flags & F_PRIORITY) p.priority = r.u8();
  if (flags & F_CORRELATION_ID) p.correlationId = r.shortstr();
  if (flags & F_REPLY_TO) p.replyTo = r.shortstr();
  if (flags & F_EXPIRATION) p.expiration = r.shortstr();
  if (flags & F_MESSAGE_ID) p.messageId = r.shortstr();
  if (flags & F_TIMESTAMP) p.timestamp = r.u64();
  if (flags & F_TYPE) p.type = r.shortstr();
  if (flags & F_USER_ID) p.userId = r.shortstr();
  if (flags & F_APP_ID) p.appId = r.shortstr();
  if (flags & F_CLUSTER_ID) p.clusterId = r.shortstr();
  return p;
}

/**
 * delivery_mode without decoding the rest: skips the three fields before it. Hot path (every
 * publish), so no allocation beyond the reader.
 */
export function readDeliveryMode(raw: Buffer): number {
  if (raw.length < 2) return 0;
  const flags = raw.readUInt16BE(0);
  if (!(flags & F_DELIVERY_MODE)) return 0;
  let pos = 2;
  if (flags & F_CONTENT_TYPE) pos += 1 + raw[pos]!;
  if (flags & F_CONTENT_ENCODING) pos += 1 + raw[pos]!;
  if (flags & F_HEADERS) pos += 4 + raw.readUInt32BE(pos);
  return pos < raw.length ? raw[pos]! : 0;
}

/**
 * The timestamp property (seconds since epoch) without decoding the rest, or undefined when it is
 * absent or the bytes are malformed: read for a queue's head_message_timestamp at every scrape.
 */
export function readTimestampProperty(raw: Buffer): number | undefined {
  if (raw.length < 2) return undefined;
  const flags = raw.readUInt16BE(0);
  if (!(flags & F_TIMESTAMP)) return undefined;
  let pos = 2;
  const shortstr = () => {
    if (pos < raw.length) pos += 1 + raw[pos]!;
    else pos = Infinity;
  };
  if (flags & F_CONTENT_TYPE) shortstr();
  if (flags & F_CONTENT_ENCODING) shortstr();
  if (flags & F_HEADERS) pos = pos + 4 <= raw.length ? pos + 4 + raw.readUInt32BE(pos) : Infinity;
  if (flags & F_DELIVERY_MODE) pos += 1;
  if (flags & F_PRIORITY) pos += 1;
  if (flags & F_CORRELATION_ID) shortstr();
  if (flags & F_REPLY_TO) shortstr();
  if (flags & F_EXPIRATION) shortstr();
  if (flags & F_MESSAGE_ID) shortstr();
  if (pos + 8 > raw.length) return undefined;
  return raw.readUInt32BE(pos) * 0x100000000 + raw.readUInt32BE(pos + 4);
}

/**
 * Whether raw property bytes hold exactly the fields their flags announce (no continuation flag, no
 * field running past the end, nothing left over). Checked once per publish so that a malformed list
 * never reaches consumers; a headers table is skipped by its length, not decoded.
 */
export function propertyFieldsWellFormed(raw: Buffer): boolean {
  if (raw.length < 2) return false;
  const flags = raw.readUInt16BE(0);
  if (flags & 1) return false;
  const end = raw.length;
  let pos = 2;
  for (let bit = 15; bit >= 2; bit--) {
    if (!(flags & (1 << bit))) continue;
    if (pos >= end) return false;
    const flag = 1 << bit;
    if (flag === F_HEADERS) pos = pos + 4 <= end ? pos + 4 + raw.readUInt32BE(pos) : Infinity;
    else if (flag === F_DELIVERY_MODE || flag === F_PRIORITY) pos += 1;
    else if (flag === F_TIMESTAMP) pos += 8;
    else pos += 1 + raw[pos]!;
  }
  return pos === end;
}

/**
 * One writer for all broker-made property lists, each copied out at the end: a writer per call
 * took a fresh 4 KiB slab per message (malloc'd, below glibc's mmap threshold), so reading a stream
 * over AMQP churned a slab per delivery through glibc's main heap and left it grown by 15-35 MiB.
 */
const propertyWriter = new FrameWriter();

/** Encode properties for broker-made messages. */
export function writePropertyFields(p: BasicProperties): Buffer {
  const w = propertyWriter;
  let flags = 0;
  w.u16(0);
  if (p.contentType !== undefined) { flags |= F_CONTENT_TYPE; w.shortstr(p.contentType); }
  if (p.contentEncoding !== undefined) { flags |= F_CONTENT_ENCODING; w.shortstr(p.contentEncoding); }
  if (p.headers !== undefined) { flags |= F_HEADERS; w.table(p.headers); }
  if (p.deliveryMode !== undefined) { flags |= F_DELIVERY_MODE; w.u8(p.deliveryMode); }
  if (p.priority !== undefined) { flags |= F_PRIORITY; w.u8(p.priority); }
  if (p.correlationId !== undefined) { flags |= F_CORRELATION_ID; w.shortstr(p.correlationId); }
  if (p.replyTo !== undefined) { flags |= F_REPLY_TO; w.shortstr(p.replyTo); }
  if (p.expiration !== undefined) { flags |= F_EXPIRATION; w.shortstr(p.expiration); }
  if (p.messageId !== undefined) { flags |= F_MESSAGE_ID; w.shortstr(p.messageId); }
  if (p.timestamp !== undefined) { flags |= F_TIMESTAMP; w.u64(p.timestamp); }
  if (p.type !== undefined) { flags |= F_TYPE; w.shortstr(p.type); }
  if (p.userId !== undefined) { flags |= F_USER_ID; w.shortstr(p.userId); }
  if (p.appId !== undefined) { flags |= F_APP_ID; w.shortstr(p.appId); }
  if (p.clusterId !== undefined) { flags |= F_CLUSTER_ID; w.shortstr(p.clusterId); }
  const out = Buffer.concat(w.take());
  out.writeUInt16BE(flags, 0);
  return out;
}
