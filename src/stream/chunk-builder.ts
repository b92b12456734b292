/**
 * The chunk a stream log is filling this event-loop turn (layout in chunk.ts). Entries are copied
 * straight into one reusable buffer behind room for the header — from a publish frame they are
 * copied as the frame carries them (a u32-sized message or a sub-entry batch, the same bytes osiris
 * stores), so a published message costs one copy and no object. `seal()` adds the trailer and the
 * header and hands out a view of the buffer. `reset(true)` hands that buffer over to the log, which
 * writes it asynchronously and gives it back with `recycle()` once the write is done, so the same
 * buffers serve every chunk of the stream and none is written to while the kernel reads it.
 *
 * Why recycle at all: a buffer of 64 KiB or more is its own mapping (glibc's mmap threshold, see
 * cli/node-flags.ts), so a new one costs a page fault per 4 KiB on first touch, and on this VM a
 * fault on memory the host had taken back (free page reporting) — a 1 KiB publish profile spent
 * more of the event loop's time faulting in new chunk buffers than copying messages into them. So
 * spares are kept for as many chunks as are in flight under load (up to KEEP_SPARE_BYTES), and a
 * new chunk starts at the size the last one reached instead of doubling up to it again; `trim()`,
 * called every second or so, frees the spares no chunk needed since the last call, so a stream
 * that went quiet gives its buffers back.
 */
import { CHUNK_HEADER, MAGIC_VERSION, MAX_CHUNK_DATA, MAX_CHUNK_ENTRIES, type Crc32 } from './chunk.js';

/** Buffers above this are dropped after a chunk rather than kept for the next one. */
const KEEP_BYTES = 2 * MAX_CHUNK_DATA;
/**
 * Spare buffers kept for the next chunks, in bytes (the rest of those given back go to the GC): about
 * what is in flight when a publisher is paused by the log's 32 MiB write backlog, plus the write.
 */
const KEEP_SPARE_BYTES = 48 << 20;
const INITIAL_BYTES = 64 * 1024;

export class ChunkBuilder {
  private buf: Buffer = Buffer.allocUnsafe(INITIAL_BYTES);
  private readonly spare: Buffer[] = [];
  private spareBytes = 0;
  /** The fewest spares there were since the last trim(): that many were not needed. */
  private spareLow = 0;
  private pos = CHUNK_HEADER;
  entries = 0;
  records = 0;

  get empty(): boolean {
    return this.entries === 0;
  }

  get byteLength(): number {
    return this.pos;
  }

  /** Whether an entry of `length` bytes should start a new chunk (the first entry always fits). */
  wouldOverflow(length: number): boolean {
    return this.entries > 0 && (this.entries >= MAX_CHUNK_ENTRIES || this.pos - CHUNK_HEADER + length > MAX_CHUNK_DATA);
  }

  private room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  /** Adds an entry (u32 size + message, or a sub-entry batch) copied as is from src. */
  addEntry(src: Buffer, start: number, length: number, records: number): void {
    this.room(length);
    copyBytes(src, start, this.buf, this.pos, length);
    this.pos += length;
    this.entries++;
    this.records += records;
  }

  /** Adds one message as a simple entry. */
  addMessage(body: Uint8Array): void {
    this.room(4 + body.length);
    this.buf.writeUInt32BE(body.length, this.pos);
    this.buf.set(body, this.pos + 4);
    this.pos += 4 + body.length;
    this.entries++;
    this.records++;
  }

  /** Finishes the chunk: trailer (publisher deduplication state, see chunk.ts) and header. */
  seal(firstOffset: number, timestamp: number, writers: ReadonlyMap<string, bigint>, crc32: Crc32): Buffer {
    const dataLength = this.pos - CHUNK_HEADER;
    let trailerLength = 0;
    for (const ref of writers.keys()) trailerLength += 2 + Buffer.byteLength(ref) + 8;
    this.room(trailerLength);
    const buf = this.buf;
    let p = this.pos;
    for (const [ref, seq] of writers) {
      const len = buf.write(ref, p + 2, 'utf8');
      buf.writeUInt16BE(len, p);
      buf.writeBigUInt64BE(seq, p + 2 + len);
      p += 2 + len + 8;
    }
    buf[0] = MAGIC_VERSION;
    buf[1] = 0;
    buf.writeUInt16BE(this.entries, 2);
    buf.writeUInt32BE(this.records, 4);
    buf.writeBigInt64BE(BigInt(timestamp), 8);
    buf.writeBigUInt64BE(0n, 16);
    buf.writeBigUInt64BE(BigInt(firstOffset), 24);
    buf.writeUInt32BE(crc32(buf.subarray(CHUNK_HEADER, CHUNK_HEADER + dataLength)) >>> 0, 32);
    buf.writeUInt32BE(dataLength, 36);
    buf.writeUInt32BE(trailerLength, 40);
    buf.writeUInt32BE(0, 44);
    return buf.subarray(0, p);
  }

  /** Starts the next chunk; with `handedOver` the sealed chunk's buffer now belongs to the caller. */
  reset(handedOver = false): void {
    this.pos = CHUNK_HEADER;
    this.entries = 0;
    this.records = 0;
    if (!handedOver && this.buf.length <= KEEP_BYTES) return;
    // The next chunk is likely as large as this one: start it at that size.
    const size = Math.min(this.buf.length, KEEP_BYTES);
    const next = this.spare.pop();
    if (next) {
      this.spareBytes -= next.length;
      this.spareLow = Math.min(this.spareLow, this.spare.length);
    }
    this.buf = next ?? Buffer.allocUnsafe(size);
  }

  /** Takes back a buffer handed over by reset(true) (any view of it) once nothing reads it any more. */
  recycle(view: Buffer): void {
    const length = view.buffer.byteLength - view.byteOffset;
    if (length > KEEP_BYTES || this.spareBytes + length > KEEP_SPARE_BYTES) return;
    this.spare.push(Buffer.from(view.buffer, view.byteOffset, length));
    this.spareBytes += length;
  }

  /** Frees the spares no chunk took since the last call; true while spares are left. */
  trim(): boolean {
    this.spare.splice(0, this.spareLow);
    this.spareBytes = 0;
    for (const b of this.spare) this.spareBytes += b.length;
    this.spareLow = this.spare.length;
    return this.spare.length > 0;
  }
}

/** Below this a byte loop beats Buffer.copy's call overhead (16-byte messages are common). */
const SMALL_COPY = 64;

export function copyBytes(src: Uint8Array, from: number, dst: Uint8Array, to: number, n: number): void {
  if (n >= SMALL_COPY) {
    dst.set(src.subarray(from, from + n), to);
    return;
  }
  for (let i = 0; i < n; i++) dst[to + i] = src[from + i]!;
}
