/**
 * The byte layouts of the store's files (all integers little-endian).
 *
 * Message record, appended to a segment file (`<firstSeq>.seg`):
 *   0  u32  length      of the whole record, this field included (next record starts at +length)
 *   4  u32  crc32       of bytes [8, length): everything after this field, body included
 *   8  u16  magic       0x5257 ("WR" on disk), lets resync find record starts in a damaged file
 *  10  u8   flags       bit 0: persistent (delivery_mode 2)
 *  11  u8   exchange length (bytes)
 *  12  f64  seq         position in the queue (an integer < 2^53)
 *  20  f64  timestamp   ms since epoch when the broker accepted the message
 *  28  u32  raw properties length
 *  32  u8   routing key length (bytes)
 *  33  exchange, routing key (UTF-8), raw content-header properties (flags + list, byte-exact)
 *   …  body: the rest of the record
 * So a 1 KiB body with a short routing key and delivery_mode costs about 1024 + 40 bytes.
 *
 * The ack log (`<firstSeq>.ack`) and the delivered mark (`delivered`) are described and handled in
 * ack-log.ts and delivered-mark.ts.
 */
import { crc32Range } from './crc32.js';
import { readTimestampProperty } from '../protocol/properties.js';

export const RECORD_MAGIC = 0x5257;
export const MAGIC_BYTES = Buffer.from([0x57, 0x52]);
export const FIXED_HEADER = 33;
export const FLAG_PERSISTENT = 1;
/** RabbitMQ caps messages at 512 MiB; anything claiming more is damage, not a record. */
export const MAX_RECORD = 512 * 1024 * 1024 + 64 * 1024;


/** Upper bound of the header size before the UTF-8 strings are measured (3 bytes per UTF-16 unit covers all). */
export function headerUpperBound(exchange: string, routingKey: string, rawProperties: Buffer): number {
  return FIXED_HEADER + 3 * (exchange.length + routingKey.length) + rawProperties.length;
}

/**
 * Write a record header (everything but the crc) at `off`; returns its length. `recordLength` is the
 * header length plus the body length, so the caller must know the header length first: it passes
 * the exact string byte lengths it measured.
 */
export function writeHeader(
  buf: Buffer,
  off: number,
  seq: number,
  timestamp: number,
  persistent: boolean,
  exchange: string,
  routingKey: string,
  rawProperties: Buffer,
  bodyLength: number,
): number {
  let p = off + FIXED_HEADER;
  const exLen = buf.write(exchange, p, 'utf8');
  p += exLen;
  const rkLen = buf.write(routingKey, p, 'utf8');
  p += rkLen;
  if (exLen > 255 || rkLen > 255) throw new RangeError('exchange and routing key must fit a shortstr (255 bytes)');
  p += rawProperties.copy(buf, p);
  const headerLength = p - off;
  buf.writeUInt32LE(headerLength + bodyLength, off);
  buf.writeUInt16LE(RECORD_MAGIC, off + 8);
  buf[off + 10] = persistent ? FLAG_PERSISTENT : 0;
  buf[off + 11] = exLen;
  buf.writeDoubleLE(seq, off + 12);
  buf.writeDoubleLE(timestamp, off + 20);
  buf.writeUInt32LE(rawProperties.length, off + 28);
  buf[off + 32] = rkLen;
  return headerLength;
}

/** What checkRecord found at an offset. */
export const NEED_MORE = 0;
export const BAD = -1;

/**
 * Validate the record starting at `off` in buf[.., end). Returns its length when it is whole and
 * intact, NEED_MORE when the bytes so far look like the start of a record that continues past
 * `end` (at the end of a file that means a torn write), BAD when it cannot be a record.
 */
export function checkRecord(buf: Buffer, off: number, end: number): number {
  const avail = end - off;
  if (avail < 12) return avail >= 4 && !plausibleLength(buf.readUInt32LE(off)) ? BAD : NEED_MORE;
  const length = buf.readUInt32LE(off);
  if (!plausibleLength(length) || buf[off + 8] !== 0x57 || buf[off + 9] !== 0x52) return BAD;
  if (length > avail) return NEED_MORE;
  const varLength = buf[off + 11]! + buf[off + 32]! + buf.readUInt32LE(off + 28);
  if (FIXED_HEADER + varLength > length) return BAD;
  if (crc32Range(buf, off + 8, off + length) !== buf.readUInt32LE(off + 4)) return BAD;
  const seq = buf.readDoubleLE(off + 12);
  if (!Number.isSafeInteger(seq) || seq < 0) return BAD;
  return length;
}

function plausibleLength(length: number): boolean {
  return length >= FIXED_HEADER && length <= MAX_RECORD;
}

export function recordSeq(buf: Buffer, off: number): number {
  return buf.readDoubleLE(off + 12);
}

export function recordPersistent(buf: Buffer, off: number): boolean {
  return (buf[off + 10]! & FLAG_PERSISTENT) !== 0;
}

export function recordHeaderLength(buf: Buffer, off: number): number {
  return FIXED_HEADER + buf[off + 11]! + buf[off + 32]! + buf.readUInt32LE(off + 28);
}

/** A checked record's accept time (ms since epoch) and timestamp property, without decoding the rest. */
export function recordHeadStamp(buf: Buffer, off: number): { acceptedAt: number; timestamp: number | undefined } {
  const props = off + FIXED_HEADER + buf[off + 11]! + buf[off + 32]!;
  return {
    acceptedAt: buf.readDoubleLE(off + 20),
    timestamp: readTimestampProperty(buf.subarray(props, props + buf.readUInt32LE(off + 28))),
  };
}

/** The fields of a checked record; strings are decoded, buffers are views into `buf` (no copy). */
export interface DecodedRecord {
  seq: number;
  timestamp: number;
  persistent: boolean;
  exchange: string;
  routingKey: string;
  rawProperties: Buffer;
  body: Buffer;
}

export function decodeRecord(buf: Buffer, off: number, length: number): DecodedRecord {
  const exLen = buf[off + 11]!;
  const rkLen = buf[off + 32]!;
  const propsLen = buf.readUInt32LE(off + 28);
  let p = off + FIXED_HEADER;
  const exchange = exLen === 0 ? '' : buf.toString('utf8', p, p + exLen);
  p += exLen;
  const routingKey = rkLen === 0 ? '' : buf.toString('utf8', p, p + rkLen);
  p += rkLen;
  const rawProperties = buf.subarray(p, p + propsLen);
  p += propsLen;
  return {
    seq: buf.readDoubleLE(off + 12),
    timestamp: buf.readDoubleLE(off + 20),
    persistent: (buf[off + 10]! & FLAG_PERSISTENT) !== 0,
    exchange,
    routingKey,
    rawProperties,
    body: buf.subarray(p, off + length),
  };
}

/**
 * After a BAD record at `from`: the offset of the next intact record whose seq is above `minSeq`
 * in buf[from+1, end), or -1. Candidates are found by the magic bytes, then checked in full (length,
 * crc, seq), so random bytes are accepted with odds of about 2^-32.
 */
export function resync(buf: Buffer, from: number, end: number, minSeq: number): number {
  let search = from + 1 + 8;
  for (;;) {
    const at = buf.indexOf(MAGIC_BYTES, search);
    if (at < 0 || at >= end) return -1;
    const candidate = at - 8;
    search = at + 1;
    if (candidate <= from) continue;
    const length = checkRecord(buf, candidate, end);
    if (length > 0 && recordSeq(buf, candidate) > minSeq) return candidate;
  }
}
