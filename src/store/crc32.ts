/**
 * CRC-32 (IEEE 802.3, the one zlib/gzip/PNG use) for record checksums.
 *
 * Node >= 20.15 ships a native zlib.crc32 (about 6 GB/s here); older Node 20 releases do not, so a
 * table-driven slicing-by-8 version in plain JS (about 1 GB/s) is the fallback. Both give identical
 * results (test/store-crc32.test.ts checks that), so files written by one are read by the other.
 */
import zlib from 'node:zlib';

export type Crc32 = (data: Uint8Array, previous?: number) => number;

/** Eight 256-entry tables: TABLES[k*256 + b] is the CRC of byte b followed by k zero bytes. */
const TABLES = buildTables();

function buildTables(): Int32Array {
  const t = new Int32Array(8 * 256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  for (let k = 1; k < 8; k++) {
    for (let n = 0; n < 256; n++) {
      const prev = t[(k - 1) * 256 + n]!;
      t[k * 256 + n] = (prev >>> 8) ^ t[prev & 0xff]!;
    }
  }
  return t;
}

/** Pure JS CRC-32; `previous` continues a running checksum (crc32(b, crc32(a)) === crc32(a ++ b)). */
export function crc32Js(data: Uint8Array, previous = 0): number {
  return crc32JsRange(data, 0, data.length, previous);
}

/** Pure JS CRC-32 of data[start, end), without making a view of it. */
export function crc32JsRange(data: Uint8Array, start: number, end: number, previous = 0): number {
  const t = TABLES;
  let c = ~previous;
  let i = start;
  const n = end;
  // Slicing-by-8: fold 8 input bytes per step with 8 table lookups instead of 8 dependent ones.
  for (const end8 = n - 7; i < end8; i += 8) {
    const a = c ^ (data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24));
    c =
      t[1792 + (a & 0xff)]! ^
      t[1536 + ((a >>> 8) & 0xff)]! ^
      t[1280 + ((a >>> 16) & 0xff)]! ^
      t[1024 + (a >>> 24)]! ^
      t[768 + data[i + 4]!]! ^
      t[512 + data[i + 5]!]! ^
      t[256 + data[i + 6]!]! ^
      t[data[i + 7]!]!;
  }
  for (; i < n; i++) c = t[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

const native = (zlib as { crc32?: (data: Uint8Array, value?: number) => number }).crc32;

/** The fastest available implementation. */
export const crc32: Crc32 = typeof native === 'function' ? (d, p = 0) => native(d, p) : crc32Js;

/**
 * Below this many bytes the JS version is faster than the native one: a native call plus the view
 * it needs cost more than the table lookups (measured here: 49-byte records 2x faster in JS,
 * break-even near 250 bytes).
 */
const SMALL_RANGE = 192;

/**
 * CRC-32 of buf[start, end): the per-record checksum of the store (record headers, small messages),
 * where most ranges are short. Same result as crc32(buf.subarray(start, end), previous).
 */
export function crc32Range(buf: Uint8Array, start: number, end: number, previous = 0): number {
  if (end - start <= SMALL_RANGE || typeof native !== 'function') return crc32JsRange(buf, start, end, previous);
  return native(buf.subarray(start, end), previous);
}
