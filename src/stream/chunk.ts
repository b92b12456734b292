/**
 * Osiris chunks, the unit RabbitMQ's streams store and send (the stream protocol's Deliver frame
 * carries a chunk's header and data as they are on disk). Warren keeps the same bytes in its segment
 * files, so delivering a chunk is one file read into a frame, with no re-encoding.
 *
 *   0  u8  magic (5) << 4 | version (0)      24 u64 first offset of the chunk
 *   1  u8  chunk type (0 = user)             32 u32 crc32 of the data
 *   2  u16 entries                           36 u32 data length
 *   4  u32 records                           40 u32 trailer length
 *   8  i64 timestamp (ms, the write time)    44 u32 reserved
 *   16 u64 epoch                             48 data: entries, each u32 length (top bit 0) + message
 *                                            then the trailer (not sent to clients)
 *
 * Warren's trailer records publisher deduplication state: repeated (u16 length, reference, u64 last
 * publishing id). A chunk's trailer lists the publishers that wrote into it; the first chunk of every
 * segment lists all of them, so deleting head segments never loses dedup state.
 */
import { gunzipSync } from 'node:zlib';

/** CRC-32 (IEEE), passed in by the broker's assembly (src/store has the fast one; streams do not import the store). */
export type Crc32 = (data: Uint8Array) => number;

export const CHUNK_HEADER = 48;
export const MAGIC_VERSION = 0x50;
/** Osiris limits a chunk to 65535 entries; Warren also caps the data size so a chunk reads in one go. */
export const MAX_CHUNK_ENTRIES = 65535;
export const MAX_CHUNK_DATA = 1 << 20;

export interface ChunkHeader {
  type: number;
  entries: number;
  records: number;
  timestamp: number;
  firstOffset: number;
  crc: number;
  dataLength: number;
  trailerLength: number;
}

export function readChunkHeader(b: Buffer, at = 0): ChunkHeader | undefined {
  if (b.length - at < CHUNK_HEADER || b[at] !== MAGIC_VERSION) return undefined;
  return {
    type: b[at + 1]!,
    entries: b.readUInt16BE(at + 2),
    records: b.readUInt32BE(at + 4),
    timestamp: Number(b.readBigInt64BE(at + 8)),
    firstOffset: Number(b.readBigUInt64BE(at + 24)),
    crc: b.readUInt32BE(at + 32),
    dataLength: b.readUInt32BE(at + 36),
    trailerLength: b.readUInt32BE(at + 40),
  };
}

export function parseTrailer(b: Buffer, into: Map<string, bigint>): void {
  let p = 0;
  while (p + 2 <= b.length) {
    const len = b.readUInt16BE(p);
    if (p + 2 + len + 8 > b.length) return;
    const ref = b.toString('utf8', p + 2, p + 2 + len);
    const seq = b.readBigUInt64BE(p + 2 + len);
    const prev = into.get(ref);
    if (prev === undefined || seq > prev) into.set(ref, seq);
    p += 2 + len + 8;
  }
}

/** Sub-entry batch compression types (the high nibble's low 3 bits of an entry's first byte). */
const COMPRESSION_NONE = 0;
const COMPRESSION_GZIP = 1;

/**
 * Calls fn for every record (a view of the message bytes) of a chunk's data with its index in the
 * chunk. Sub-entry batches with compression none or gzip (what RabbitMQ 3.10's clients send) are
 * opened; other codecs (snappy, lz4, zstd: client-side extensions) are counted, so offsets stay
 * right, but not delivered.
 */
export function forEachEntry(chunk: Buffer, fn: (body: Buffer, index: number) => void): void {
  const h = readChunkHeader(chunk);
  if (!h) return;
  const end = Math.min(chunk.length, CHUNK_HEADER + h.dataLength);
  let p = CHUNK_HEADER;
  let i = 0;
  while (p + 4 <= end) {
    const word = chunk.readUInt32BE(p);
    if (word & 0x80000000) {
      // u8 flags, u16 records, u32 uncompressed length, u32 length, then the records
      const compression = (chunk[p]! >> 4) & 7;
      const records = chunk.readUInt16BE(p + 1);
      const len = chunk.readUInt32BE(p + 7);
      const data = chunk.subarray(p + 11, Math.min(end, p + 11 + len));
      let plain: Buffer | undefined;
      if (compression === COMPRESSION_NONE) plain = data;
      else if (compression === COMPRESSION_GZIP) {
        try {
          plain = gunzipSync(data);
        } catch {
          plain = undefined; // a corrupt batch: its records are skipped, not the chunk
        }
      }
      let q = 0;
      for (let r = 0; r < records; r++) {
        if (plain && q + 4 <= plain.length) {
          const size = plain.readUInt32BE(q);
          fn(plain.subarray(q + 4, Math.min(plain.length, q + 4 + size)), i);
          q += 4 + size;
        }
        i++;
      }
      p += 11 + len;
      continue;
    }
    fn(chunk.subarray(p + 4, p + 4 + word), i++);
    p += 4 + word;
  }
}
