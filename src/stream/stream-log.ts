/**
 * One stream's append-only log: chunks (chunk.ts) in segment files named by their first offset, an
 * in-memory index of chunk positions, group commit, retention and recovery.
 *
 *   <dir>/stream.json                 {"vhost", "name", "arguments"} (names are only hashed in paths)
 *   <dir>/00000000000000000000.segment  chunks back to back; a new segment when the current one would
 *                                     pass max-segment-size; retention deletes whole head segments
 *   <dir>/offsets.json                consumer offsets stored by reference (store_offset)
 *
 * Appends made in one event-loop turn become one chunk (chunk-builder.ts). Sealed chunks are written
 * off the event loop (libuv's pool), up to two pwritevs in flight, each covering every chunk sealed
 * until it started, so the broker keeps reading sockets and building the next chunk while the kernel
 * copies and ext4 journals; one fdatasync at a time covers every chunk whose write (and every earlier
 * one) had finished before it started (group commit), and runs while the next writes are under way. A
 * chunk becomes visible to readers and its appends are confirmed only after its fdatasync, so a reader
 * never sees data a crash could take back. Under load the segment file is extended ahead of the
 * appends and that range brought into the page cache (prepareAhead), so the writes copy into pages
 * that exist. Readers read chunks from the files (the page cache), never from a copy held in memory: a
 * stream's memory is its index, one number per chunk field, whatever its length.
 *
 * Recovery scans chunk headers up to the first offset holding none (an extended file's zeros); a torn
 * or corrupt tail (bad magic, short chunk, CRC mismatch) in the last segment is cut off, as osiris
 * does. A segment the log extended is cut to its last chunk and fsynced before the next one starts
 * (settle), so only the last segment can hold an unsynced chunk there.
 */
import fs from 'node:fs';
import { join } from 'node:path';
import { replaceFile, type DataDirChanges } from '../data-dir-changes.js';
import { CHUNK_HEADER, parseTrailer, readChunkHeader, type Crc32 } from './chunk.js';
import { ChunkBuilder } from './chunk-builder.js';

export interface LogEnvironment {
  crc32: Crc32;
  /** Clock for chunk timestamps and max-age (tests move it). */
  now?: () => number;
  /** Replication's change feed and durability gate (cluster leader only; data-dir-changes.ts). */
  changes?: DataDirChanges | undefined;
}

export interface RetentionLimits {
  /** x-max-length-bytes: total bytes above which head segments are dropped. */
  maxBytes?: number;
  /** x-max-age in ms: segments whose newest chunk is older are dropped. */
  maxAgeMs?: number;
  /** x-stream-max-segment-size-bytes (RabbitMQ's default 500 MB). */
  maxSegmentBytes: number;
}

/** Per-chunk index fields, packed in a Float64Array (offsets stay below 2^53). */
const F_OFFSET = 0, F_RECORDS = 1, F_POS = 2, F_SIZE = 3, F_TIME = 4, FIELDS = 5;

/** Sealed chunks waiting for their write above this many bytes: publishers are told to wait. */
const WRITE_BACKLOG_BYTES = 32 << 20;

/** How often the chunk builder frees the spare buffers no chunk needed meanwhile (chunk-builder.ts). */
const TRIM_SPARES_MS = 1000;

/**
 * Preparing the file ahead of the appends (see StreamLog.prepareAhead): a write of at least
 * PREPARE_TRIGGER bytes (a busy stream) tops the prepared range up to PREPARE_STEP past the end once
 * less than PREPARE_LOW of it is left.
 */
const PREPARE_TRIGGER = 1 << 20;
const PREPARE_LOW = 24 << 20;
const PREPARE_STEP = 32 << 20;
/** pwritevs in flight at most (libuv's pool has 4 threads; the fdatasync and a warming read need one each). */
const MAX_WRITES = 2;
/** Where the reads that bring a prepared range into the page cache put their bytes (never read). */
const WARM_SINK = Buffer.allocUnsafe(256 << 10);

class Segment {
  index = new Float64Array(FIELDS * 16);
  chunks = 0;
  size = 0;
  fd = -1;
  /** Chunks sealed for this segment whose write has not finished: its fd must stay open. */
  writesPending = 0;
  /** Written since its last fdatasync started. */
  dirty = false;
  /** The size the file was extended to ahead of the appends (prepareAhead); 0 when it was not. */
  fileEnd = 0;
  constructor(readonly path: string, readonly firstOffset: number) {}

  add(offset: number, records: number, pos: number, size: number, time: number): void {
    if ((this.chunks + 1) * FIELDS > this.index.length) {
      const next = new Float64Array(this.index.length * 2);
      next.set(this.index);
      this.index = next;
    }
    const i = this.chunks++ * FIELDS;
    this.index[i + F_OFFSET] = offset;
    this.index[i + F_RECORDS] = records;
    this.index[i + F_POS] = pos;
    this.index[i + F_SIZE] = size;
    this.index[i + F_TIME] = time;
  }

  field(chunk: number, f: number): number {
    return this.index[chunk * FIELDS + f]!;
  }

  get lastTimestamp(): number {
    return this.chunks ? this.field(this.chunks - 1, F_TIME) : 0;
  }

  open(): number {
    if (this.fd < 0) this.fd = fs.openSync(this.path, 'r+');
    return this.fd;
  }

  close(): void {
    if (this.fd >= 0) fs.closeSync(this.fd);
    this.fd = -1;
  }
}

const NO_CALLBACKS: readonly DoneCallback[] = Object.freeze([]);

/** A sealed chunk on its way to disk: its bytes (a ChunkBuilder buffer), where they go, what they unlock. */
interface SealedChunk {
  seg: Segment;
  pos: number;
  bytes: Buffer;
  /** The visible end once this chunk is fsynced, and the append() callbacks it confirms. */
  end: number;
  done: readonly DoneCallback[];
}

/** Writes a chunk at its place synchronously (a write in flight may be repeated: the same bytes at the same place). */
function writeChunkNow(c: SealedChunk): void {
  fs.writeSync(c.seg.open(), c.bytes, 0, c.bytes.length, c.pos);
}

/** An append() caller waiting for its record to be fsynced. */
interface DoneCallback {
  offset: number;
  done: (offset: number) => void;
}

export class StreamLog {
  private readonly segments: Segment[] = [];
  /** Offset the first record of the chunk being built gets. */
  private nextOffset = 0;
  /** This turn's chunk; written when the turn ends (or when full). */
  private readonly builder = new ChunkBuilder();
  /** Publisher references written into the chunk being built, with their highest publishing id. */
  private readonly builderWriters = new Map<string, bigint>();
  private pendingDone: DoneCallback[] = [];
  private flushScheduled = false;
  /** Sealed chunks not yet handed to a write, and the bytes they hold. */
  private sealed: SealedChunk[] = [];
  private sealedBytes = 0;
  /** The pwritevs in flight, in the order they started; `done` once their callback ran. */
  private writing: { chunks: SealedChunk[]; done: boolean }[] = [];
  private syncing = false;
  /** Chunks written but not yet fsynced: the visible end they unlock and append() callbacks. */
  private unsynced: { done: readonly DoneCallback[]; end: number }[] = [];
  /** Runs ChunkBuilder.trim() while the builder keeps spare buffers. */
  private trimTimer: NodeJS.Timeout | undefined;
  /** Called once the write backlog is below WRITE_BACKLOG_BYTES again (paused publishers). */
  private writableWaiters: (() => void)[] = [];
  /** Readers see chunks below this (segment, chunk) end: fsynced ones only. */
  private visibleOffset = 0;
  private readonly listeners = new Set<() => void>();
  /** whenDurable callbacks waiting for the visible end to pass an offset. */
  private durableWaiters: { until: number; callback: () => void }[] = [];
  /** Publisher reference -> highest publishing id written (dedup). */
  readonly writers = new Map<string, bigint>();
  /** Publishing ids accepted but not yet in a chunk: dedup must see them too. */
  private readonly pendingWriters = new Map<string, bigint>();
  readonly offsets = new Map<string, bigint>();
  private offsetsDirty = false;
  private closed = false;
  private deleted = false;
  /** Segment files dropped by retention (for stats). */
  segmentsDropped = 0;

  private readonly now: () => number;
  private readonly crc32: Crc32;
  private readonly changes: DataDirChanges | undefined;

  private constructor(readonly dir: string, readonly retention: RetentionLimits, env: LogEnvironment) {
    this.now = env.now ?? Date.now;
    this.crc32 = env.crc32;
    this.changes = env.changes;
  }

  /** Opens (creating or recovering) the log in dir. */
  static open(dir: string, retention: RetentionLimits, env: LogEnvironment): StreamLog {
    fs.mkdirSync(dir, { recursive: true });
    env.changes?.mkdir(dir);
    const log = new StreamLog(dir, retention, env);
    log.recover();
    return log;
  }

  private recover(): void {
    const names = fs.readdirSync(this.dir).filter((n) => n.endsWith('.segment')).sort();
    for (let s = 0; s < names.length; s++) {
      const name = names[s]!;
      const seg = new Segment(join(this.dir, name), Number(name.slice(0, -'.segment'.length)));
      this.scan(seg, s === names.length - 1);
      if (seg.chunks === 0 && s < names.length - 1) {
        fs.rmSync(seg.path, { force: true });
        this.changes?.remove(seg.path);
        continue;
      }
      this.segments.push(seg);
    }
    const last = this.segments.at(-1);
    if (last && last.chunks > 0) {
      const c = last.chunks - 1;
      this.nextOffset = last.field(c, F_OFFSET) + last.field(c, F_RECORDS);
    } else if (last) {
      this.nextOffset = last.firstOffset;
    }
    this.visibleOffset = this.nextOffset;
    try {
      const stored = JSON.parse(fs.readFileSync(join(this.dir, 'offsets.json'), 'utf8')) as Record<string, string>;
      for (const [ref, v] of Object.entries(stored)) this.offsets.set(ref, BigInt(v));
    } catch {
      // no offsets stored yet
    }
  }

  /** Indexes a segment's chunks; in the last segment a torn or corrupt tail is truncated. */
  private scan(seg: Segment, isLast: boolean): void {
    const fd = fs.openSync(seg.path, 'r+');
    const size = fs.fstatSync(fd).size;
    const head = Buffer.allocUnsafe(CHUNK_HEADER);
    let pos = 0;
    while (pos + CHUNK_HEADER <= size) {
      fs.readSync(fd, head, 0, CHUNK_HEADER, pos);
      const h = readChunkHeader(head);
      if (!h) break;
      const total = CHUNK_HEADER + h.dataLength + h.trailerLength;
      if (pos + total > size) break;
      const body = Buffer.allocUnsafe(h.dataLength + h.trailerLength);
      fs.readSync(fd, body, 0, body.length, pos + CHUNK_HEADER);
      // Only the last segment can hold a torn write; earlier ones were complete when it was rolled.
      if (isLast && (this.crc32(body.subarray(0, h.dataLength)) >>> 0) !== h.crc) break;
      if (h.trailerLength) parseTrailer(body.subarray(h.dataLength), this.writers);
      seg.add(h.firstOffset, h.records, pos, total, h.timestamp);
      pos += total;
    }
    if (pos < size) {
      fs.ftruncateSync(fd, pos);
      this.changes?.truncate(seg.path, pos);
    }
    seg.size = pos;
    seg.fd = fd;
  }

  get firstOffset(): number {
    const s = this.segments[0];
    return s && s.chunks ? s.field(0, F_OFFSET) : this.nextOffset;
  }

  /** Offset of the last record readers can see, -1 when there is none... as RabbitMQ: first - 1 when empty. */
  get lastOffset(): number {
    return this.visibleOffset - 1;
  }

  /** Records readers can see (what is retained). */
  get messageCount(): number {
    return this.visibleOffset - this.firstOffset;
  }

  get segmentCount(): number {
    return this.segments.length;
  }

  get bytes(): number {
    let n = 0;
    for (const s of this.segments) n += s.size;
    return n;
  }

  /** Highest publishing id seen for a publisher reference (0 when none, as RabbitMQ). */
  publisherSequence(reference: string): bigint {
    return this.pendingWriters.get(reference) ?? this.writers.get(reference) ?? 0n;
  }

  /** The offset the next appended record gets (records of the chunk being built included). */
  get appendedEnd(): number {
    return this.nextOffset + this.builder.records;
  }

  /**
   * Deduplication: with a publisher reference, a publishing id not above the last one seen is a
   * duplicate. Called right before the record is added to the chunk being built, so the chunk's
   * trailer never names an id whose record went into a later chunk.
   */
  private acceptPublishingId(writer: string, publishingId: bigint): boolean {
    // Only a reference seen before has a last id: a new one accepts any id, 0 included (as osiris).
    const last = this.pendingWriters.get(writer) ?? this.writers.get(writer);
    if (last !== undefined && publishingId <= last) return false;
    this.pendingWriters.set(writer, publishingId);
    this.builderWriters.set(writer, publishingId);
    return true;
  }

  /**
   * Appends one message. With a publisher reference, a duplicate publishing id (one not above the
   * last one seen) returns false and writes nothing (the caller confirms it anyway, as RabbitMQ
   * does). `done` runs with the record's offset once it is fsynced.
   */
  append(body: Uint8Array, done?: (offset: number) => void, writer?: string, publishingId = 0n): boolean {
    if (this.closed) throw new Error('stream log closed');
    if (this.builder.wouldOverflow(4 + body.length)) this.seal();
    if (writer !== undefined && !this.acceptPublishingId(writer, publishingId)) return false;
    if (done) this.pendingDone.push({ offset: this.appendedEnd, done });
    this.builder.addMessage(body);
    this.scheduleFlush();
    return true;
  }

  /**
   * Appends an entry copied as is from a publish frame (a message with its u32 size, or a sub-entry
   * batch of `records` records): the stream protocol's path, one copy per message. Deduplicated like
   * append() when `writer` is given; false = a duplicate, nothing written.
   */
  appendEntry(src: Buffer, start: number, length: number, records: number, writer?: string, publishingId = 0n): boolean {
    if (this.closed) throw new Error('stream log closed');
    if (this.builder.wouldOverflow(length)) this.seal();
    if (writer !== undefined && !this.acceptPublishingId(writer, publishingId)) return false;
    this.builder.addEntry(src, start, length, records);
    this.scheduleFlush();
    return true;
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => this.flush());
  }

  /** The turn's appends become a chunk on disk, then an fdatasync starts if none runs (group commit). */
  private flush(): void {
    this.flushScheduled = false;
    if (this.closed) return;
    this.seal();
    this.sync();
  }

  /** Writes the chunk being built to the current segment (one write); it waits there for the next sync. */
  private seal(): void {
    if (this.builder.empty) return;
    let seg = this.segments.at(-1);
    let rolled = false;
    if (!seg || (seg.chunks > 0 && seg.size + this.builder.byteLength > this.retention.maxSegmentBytes)) {
      seg = this.roll();
      rolled = true;
    }
    // The first chunk of a segment carries every publisher's state, so dropping head segments loses none.
    let trailer: ReadonlyMap<string, bigint> = this.builderWriters;
    if (rolled || seg.chunks === 0) {
      const all = new Map(this.writers);
      for (const [ref, id] of this.builderWriters) all.set(ref, id);
      trailer = all;
    }
    const offset = this.nextOffset;
    const records = this.builder.records;
    const time = this.now();
    const chunk = this.builder.seal(offset, time, trailer, this.crc32);
    seg.open();
    this.changes?.write(seg.path, seg.size, chunk);
    seg.add(offset, records, seg.size, chunk.length, time);
    const pos = seg.size;
    seg.size += chunk.length;
    this.nextOffset += records;
    // The builder hands its buffer over to the write and continues in another one.
    this.builder.reset(true);
    for (const [ref, id] of this.builderWriters) {
      const prev = this.writers.get(ref);
      if (prev === undefined || id > prev) this.writers.set(ref, id);
      if (this.pendingWriters.get(ref) === id) this.pendingWriters.delete(ref);
    }
    this.builderWriters.clear();
    seg.writesPending++;
    // A chunk without callbacks must not share pendingDone: later appends' callbacks would ride on it
    // and run at its fsync, before their own chunk is on disk.
    const done = this.pendingDone.length > 0 ? this.pendingDone : NO_CALLBACKS;
    if (done === this.pendingDone) this.pendingDone = [];
    this.sealed.push({ seg, pos, bytes: chunk, end: this.nextOffset, done });
    this.sealedBytes += chunk.length;
    this.write();
  }

  /**
   * Hands the sealed chunks to pwritevs (one per segment), up to MAX_WRITES in flight. A write's
   * completion reaches the log only when the busy event loop gets to its callback, which took longer
   * than the pwritev itself, so the next write does not wait for it. Chunks wait for the next
   * fdatasync once their write and every earlier one have finished (visibility stays in offset order).
   */
  private write(): void {
    while (this.writing.length < MAX_WRITES && this.sealed.length > 0 && !this.closed) {
      const seg = this.sealed[0]!.seg;
      if (this.sealedBytes >= PREPARE_TRIGGER) this.prepareAhead(seg);
      let n = 1;
      let total = this.sealed[0]!.bytes.length;
      while (n < this.sealed.length && this.sealed[n]!.seg === seg && n < 1024) total += this.sealed[n++]!.bytes.length;
      this.writeBatch(seg, this.sealed.splice(0, n), total);
    }
  }

  private writeBatch(seg: Segment, batch: SealedChunk[], total: number): void {
    const entry = { chunks: batch, done: false };
    this.writing.push(entry);
    this.sealedBytes -= total;
    fs.writev(seg.fd, batch.map((c) => c.bytes), batch[0]!.pos, (err, written) => {
      entry.done = true;
      for (const c of batch) {
        c.seg.writesPending--;
        this.builder.recycle(c.bytes);
      }
      this.trimSparesLater();
      // After close() or destroy() the chunks were written synchronously (or dropped); only fds are left.
      if (this.closed) return this.closeIdleSegments();
      if (err) throw err;
      if (written !== total) throw new Error(`short write to ${seg.path}: ${written} of ${total} bytes`);
      seg.dirty = true;
      while (this.writing.length > 0 && this.writing[0]!.done) {
        for (const c of this.writing.shift()!.chunks) this.unsynced.push({ done: c.done, end: c.end });
      }
      this.write();
      this.sync();
      if (this.writableWaiters.length > 0 && this.sealedBytes < WRITE_BACKLOG_BYTES) {
        for (const w of this.writableWaiters.splice(0)) w();
      }
    });
  }

  /**
   * Under load, the file is extended (one ftruncate, a hole) up to PREPARE_STEP past its end, and that
   * range is read once (the hole reads as zeros) so that its pages are in the page cache before the
   * appends reach it. Writing into a page the cache already holds is a plain copy; a new page is
   * allocated and zeroed inside the pwritev, which on this VM (the host takes freed guest memory back)
   * cost 1.6 ms per MiB — as long as the fdatasync beside it, and in series with it for each chunk.
   * The clean pages cost no disk write and the file's real end stays the end of its last chunk: close()
   * and a roll cut the hole off, recovery stops at the first offset holding no chunk header (zeros).
   * The ftruncate runs here, on the event loop (an extending one takes tens of µs): every write in
   * flight ends below the new size, and no size change can land after close() — a log reopened on the
   * same files must not have its appends cut off by a late one. Not for a cluster leader (replication
   * copies files by their size).
   */
  private prepareAhead(seg: Segment): void {
    if (this.changes || seg !== this.segments.at(-1)) return;
    const from = Math.max(seg.fileEnd, seg.size);
    const to = Math.min(seg.size + PREPARE_LOW + PREPARE_STEP, this.retention.maxSegmentBytes);
    if (from - seg.size >= PREPARE_LOW || to - from < PREPARE_STEP / 2) return;
    fs.ftruncateSync(seg.fd, to);
    seg.fileEnd = to;
    this.warm(seg, from, to);
  }

  /** Reads [from, to) of a segment into WARM_SINK, only to bring those pages into the page cache. */
  private warm(seg: Segment, from: number, to: number): void {
    const sinks: Buffer[] = [];
    for (let p = from; p < to; p += WARM_SINK.length) sinks.push(to - p < WARM_SINK.length ? WARM_SINK.subarray(0, to - p) : WARM_SINK);
    if (sinks.length === 0) return;
    seg.writesPending++;
    fs.readv(seg.fd, sinks, from, () => {
      seg.writesPending--;
      if (this.closed) this.closeIdleSegments();
    });
  }

  /**
   * A segment the log extended ahead (prepareAhead) is made exact and durable before the next one
   * starts, at the cost of one synchronous write and fdatasync per segment: recovery checks chunk CRCs
   * only in the last segment, and in a file extended past its chunks a chunk torn by a crash (its
   * header on disk, a hole of zeros behind it) would pass the header check there. Its chunks still go
   * through their asynchronous write and sync for their confirms (the same bytes once more).
   */
  private settle(seg: Segment): void {
    if (seg.fileEnd === 0) return;
    for (const c of this.unfinishedWrites()) if (c.seg === seg) writeChunkNow(c);
    for (const c of this.sealed) if (c.seg === seg) writeChunkNow(c);
    this.trimTail(seg);
    fs.fdatasyncSync(seg.fd);
  }

  /** Cuts the prepared hole off the segment's file: its size is the end of its last chunk again. */
  private trimTail(seg: Segment): void {
    if (seg.fileEnd <= seg.size || seg.fd < 0) return;
    fs.ftruncateSync(seg.fd, seg.size);
    seg.fileEnd = 0;
  }

  private trimSparesLater(): void {
    if (this.trimTimer || this.closed) return;
    this.trimTimer = setInterval(() => {
      if (this.builder.trim() && !this.closed) return;
      clearInterval(this.trimTimer);
      this.trimTimer = undefined;
    }, TRIM_SPARES_MS);
    this.trimTimer.unref();
  }

  /**
   * Whether sealed chunks wait for their write beyond WRITE_BACKLOG_BYTES (the disk is slower than
   * the publishers): a publisher's connection stops reading until `whenWritable` calls back.
   */
  get writeBacklogged(): boolean {
    return this.sealedBytes >= WRITE_BACKLOG_BYTES;
  }

  whenWritable(callback: () => void): void {
    if (!this.writeBacklogged || this.closed) queueMicrotask(callback);
    else this.writableWaiters.push(callback);
  }

  /** A new segment, then retention: whole head segments go, never the one being written. */
  private roll(): Segment {
    const previous = this.segments.at(-1);
    if (previous) this.settle(previous);
    const name = `${String(this.nextOffset).padStart(20, '0')}.segment`;
    const seg = new Segment(join(this.dir, name), this.nextOffset);
    seg.fd = fs.openSync(seg.path, 'w+');
    this.changes?.truncate(seg.path, 0);
    this.segments.push(seg);
    this.applyRetention();
    return seg;
  }

  private applyRetention(): void {
    const { maxBytes, maxAgeMs } = this.retention;
    const now = this.now();
    while (this.segments.length > 1) {
      const head = this.segments[0]!;
      const tooBig = maxBytes !== undefined && this.bytes > maxBytes;
      const tooOld = maxAgeMs !== undefined && head.chunks > 0 && head.lastTimestamp < now - maxAgeMs;
      if (!tooBig && !tooOld) break;
      // Its write has not finished (a roll right behind it): it goes at a later roll.
      if (head.writesPending > 0) break;
      head.close();
      fs.rmSync(head.path, { force: true });
      this.changes?.remove(head.path);
      this.segments.shift();
      this.segmentsDropped++;
    }
  }

  private sync(): void {
    if (this.syncing || this.unsynced.length === 0) return;
    const seg = this.segments.at(-1);
    if (!seg) return;
    const round = this.unsynced;
    this.unsynced = [];
    this.syncing = true;
    // A roll can leave chunks of the previous segment unsynced: sync those too (rare, once per
    // max-segment-size).
    for (const s of this.segments) {
      if (s !== seg && s.dirty && s.fd >= 0) fs.fdatasyncSync(s.fd);
      s.dirty = false;
    }
    // Cluster leader: what this sync covers must also reach enough followers before it is visible.
    const position = this.changes?.position ?? 0;
    fs.fdatasync(seg.open(), (err) => {
      this.syncing = false;
      if (this.closed) return;
      if (err) throw err;
      // The next round's fdatasync starts before this round's confirms are built and sent.
      this.sync();
      if (this.changes) this.changes.whenReplicated(position, () => this.publish(round));
      else this.publish(round);
    });
  }

  /** Writes what is sealed and not yet written, synchronously (close). */
  private writeSealedNow(): void {
    // A pwritev in flight is written again: the same bytes at the same place, its buffers are not
    // reused before its callback, and fdatasync must not run before they are in the file.
    for (const c of this.unfinishedWrites()) writeChunkNow(c);
    for (const c of this.sealed) {
      writeChunkNow(c);
      c.seg.writesPending--;
    }
    this.sealed = [];
    this.sealedBytes = 0;
  }

  /** The chunks of the pwritevs in flight whose callback has not run yet. */
  private *unfinishedWrites(): Generator<SealedChunk> {
    for (const w of this.writing) if (!w.done) yield* w.chunks;
  }

  /** Closes the fds no write or read in flight still needs (after close or destroy). */
  private closeIdleSegments(): void {
    for (const s of this.segments) if (s.writesPending === 0) s.close();
  }

  /** A synced (and replicated) round of chunks: readers see them, their appends are confirmed. */
  private publish(round: { done: readonly DoneCallback[]; end: number }[]): void {
    if (this.closed) return;
    for (const r of round) {
      this.visibleOffset = r.end;
      for (const d of r.done) d.done(d.offset);
    }
    if (this.durableWaiters.length > 0) {
      const due = this.durableWaiters.filter((w) => w.until <= this.visibleOffset);
      this.durableWaiters = this.durableWaiters.filter((w) => w.until > this.visibleOffset);
      for (const w of due) w.callback();
    }
    for (const l of [...this.listeners]) l();
  }

  /** Runs `callback` once everything appended so far is fsynced (publisher confirms of AMQP publishes). */
  whenDurable(callback: () => void): void {
    const until = this.appendedEnd;
    if (until <= this.visibleOffset) queueMicrotask(callback);
    else this.durableWaiters.push({ until, callback });
  }

  /** Called whenever new chunks become visible. Returns the unsubscribe function. */
  onAppend(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  // ---- reading ----
  // Readers hold the offset they read next; each read finds its chunk by binary search in the index,
  // so retention may drop segments under a reader (it then continues at the first retained chunk).

  private locate(offset: number): { seg: Segment; chunk: number } | undefined {
    for (let s = this.segments.length - 1; s >= 0; s--) {
      const seg = this.segments[s]!;
      if (seg.chunks === 0 || seg.field(0, F_OFFSET) > offset) continue;
      let lo = 0, hi = seg.chunks - 1;
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1;
        if (seg.field(mid, F_OFFSET) <= offset) lo = mid;
        else hi = mid - 1;
      }
      return { seg, chunk: lo };
    }
    return undefined;
  }

  /** First offset of the chunk holding `offset` (RabbitMQ starts a numeric offset at its chunk). */
  chunkStart(offset: number): number {
    if (offset >= this.visibleOffset) return this.visibleOffset;
    if (offset <= this.firstOffset) return this.firstOffset;
    const at = this.locate(offset);
    return at ? at.seg.field(at.chunk, F_OFFSET) : this.firstOffset;
  }

  /** First offset of the last visible chunk (RabbitMQ's `last`); the next offset when empty. */
  lastChunkStart(): number {
    return this.chunkStart(this.visibleOffset - 1);
  }

  /** First offset of the first chunk written at or after `timestamp` (ms); the next offset if none. */
  offsetOfTimestamp(timestamp: number): number {
    for (const seg of this.segments) {
      if (seg.chunks === 0 || seg.lastTimestamp < timestamp) continue;
      for (let c = 0; c < seg.chunks; c++) if (seg.field(c, F_TIME) >= timestamp) return seg.field(c, F_OFFSET);
    }
    return this.visibleOffset;
  }

  /** The offset new records get once visible: RabbitMQ's `next`. */
  get nextOffsetVisible(): number {
    return this.visibleOffset;
  }

  /**
   * Reads the chunk holding `offset` (header and data, not the trailer) into a new buffer with
   * `reserve` free bytes in front (room for a frame header). Undefined when nothing visible is there
   * yet. An offset below the retained range reads the first retained chunk.
   */
  read(offset: number, reserve: number): { buf: Buffer; firstOffset: number; records: number } | undefined {
    if (offset >= this.visibleOffset) return undefined;
    const at = this.locate(Math.max(offset, this.firstOffset));
    if (!at) return undefined;
    const { seg, chunk } = at;
    const size = seg.field(chunk, F_SIZE);
    const buf = Buffer.allocUnsafe(reserve + size);
    fs.readSync(seg.open(), buf, reserve, size, seg.field(chunk, F_POS));
    const trailer = buf.readUInt32BE(reserve + 40);
    return {
      buf: trailer ? buf.subarray(0, buf.length - trailer) : buf,
      firstOffset: seg.field(chunk, F_OFFSET),
      records: seg.field(chunk, F_RECORDS),
    };
  }

  /** Bytes on disk (trailer included) of the visible chunk holding `offset`; 0 when there is none yet. */
  chunkBytesAt(offset: number): number {
    if (offset >= this.visibleOffset) return 0;
    const at = this.locate(Math.max(offset, this.firstOffset));
    return at ? at.seg.field(at.chunk, F_SIZE) : 0;
  }

  /**
   * Reads the chunk holding `offset` and up to `maxChunks - 1` visible chunks after it in the same
   * segment, with one preadv, into `dest` from `at`, leaving `gap` free bytes in front of each (a
   * frame header) — as many as fit. Chunks lie back to back in a segment, so the readv's buffers are
   * consecutive ranges of `dest`; each chunk's trailer is read too but lies outside the frame given to
   * `each(start, end, firstOffset, records)` (`dest[start, end)`: gap, header and data), and the next
   * frame follows right behind the trailer. A chunk is handed out only once it is read. Returns where
   * the bytes read end in `dest`: `at` when nothing is visible at `offset` or the first chunk does not
   * fit (chunkBytesAt tells which).
   */
  readChunks(offset: number, dest: Buffer, at: number, gap: number, maxChunks: number,
    each: (start: number, end: number, firstOffset: number, records: number) => void): number {
    if (offset >= this.visibleOffset) return at;
    const loc = this.locate(Math.max(offset, this.firstOffset));
    if (!loc) return at;
    const { seg, chunk: first } = loc;
    const ranges: Buffer[] = [];
    let end = at;
    let c = first;
    while (c < seg.chunks && ranges.length < maxChunks && seg.field(c, F_OFFSET) < this.visibleOffset) {
      const size = seg.field(c, F_SIZE);
      if (end + gap + size > dest.length) break;
      ranges.push(dest.subarray(end + gap, end + gap + size));
      end += gap + size;
      c++;
    }
    if (ranges.length === 0) return at;
    const want = end - at - gap * ranges.length;
    const got = ranges.length === 1
      ? fs.readSync(seg.open(), ranges[0]!, 0, want, seg.field(first, F_POS))
      : fs.readvSync(seg.open(), ranges, seg.field(first, F_POS));
    if (got !== want) throw new Error(`short read from ${seg.path}: ${got} of ${want} bytes`);
    let start = at;
    for (let i = 0; i < ranges.length; i++) {
      const size = ranges[i]!.length;
      const trailer = dest.readUInt32BE(start + gap + 40);
      each(start, start + gap + size - trailer, seg.field(first + i, F_OFFSET), seg.field(first + i, F_RECORDS));
      start += gap + size;
    }
    return end;
  }

  // ---- consumer offsets ----

  storeOffset(reference: string, offset: bigint): void {
    this.offsets.set(reference, offset);
    if (this.offsetsDirty) return;
    this.offsetsDirty = true;
    setImmediate(() => this.writeOffsets());
  }

  /**
   * Writes stored offsets now if any changed. Query_offset calls it before answering, so an offset a
   * client has seen answered is in the file and survives the broker's process being killed.
   */
  flushOffsets(): void {
    if (this.offsetsDirty && !this.closed) this.writeOffsets();
  }

  private writeOffsets(): void {
    if (!this.offsetsDirty) return;
    this.offsetsDirty = false;
    if (this.deleted) return;
    const text = JSON.stringify(Object.fromEntries([...this.offsets].map(([k, v]) => [k, String(v)])));
    replaceFile(join(this.dir, 'offsets.json'), join(this.dir, 'offsets.json.tmp'), text, this.changes, false);
  }

  /** Writes what is pending and waits for it to be on disk. */
  close(): void {
    if (this.closed) return;
    if (this.flushScheduled) this.flush();
    this.closed = true;
    this.writeSealedNow();
    if (this.offsetsDirty) this.writeOffsets();
    for (const s of this.segments) {
      this.trimTail(s);
      if (s.fd >= 0) fs.fdatasyncSync(s.fd);
    }
    this.closeIdleSegments();
    this.listeners.clear();
    for (const w of this.writableWaiters.splice(0)) w();
    clearInterval(this.trimTimer);
  }

  /** Closes and removes every file of the stream. */
  destroy(): void {
    this.deleted = true;
    this.pendingDone = [];
    this.closed = true;
    for (const c of this.sealed) c.seg.writesPending--;
    this.sealed = [];
    this.closeIdleSegments();
    this.listeners.clear();
    for (const w of this.writableWaiters.splice(0)) w();
    clearInterval(this.trimTimer);
    fs.rmSync(this.dir, { recursive: true, force: true });
    this.changes?.remove(this.dir);
  }
}
