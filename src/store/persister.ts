/**
 * Group commit for one message store, shared by all its queues.
 *
 * Pushes append() record bytes to a shared write slab (a SegmentWriter queues large bodies as
 * iovecs of their own) and mark their list dirty. Once per event-loop turn (setImmediate, so every socket read of the turn
 * is in) flushAll() makes each dirty list pwritev its bytes to its segment file: a syscall per
 * queue per turn, not per message. Then a round starts: one fdatasync per segment file written
 * since the previous round (in libuv's thread pool, all in parallel) plus an fsync of directories
 * that got new files; when all of them are done, the round's whenDurable callbacks fire in order.
 * Writes made while a round is in flight go to the next round, which starts as soon as the
 * current one ends: under load each fdatasync covers everything that arrived during the last one.
 *
 * Many busy queues: when a flush writes more than `directSyncs` lists, their records go to the
 * store's shared journal (journal.ts) and the round writes and fdatasyncs that one file, whatever
 * the number of queues: the lists keep the journaled records in memory and write them to their
 * segment files later, many rounds at a time (segment-writer.ts: deferred writes; at the latest
 * before the journal file holding them is checkpointed), and their ack records go to the journal
 * too (ack-log.ts). A flush of one or two busy lists writes and fdatasyncs their segment files
 * (no bytes written twice). The journal write of a round that starts at once is done by libuv's
 * thread pool (the round's fdatasync follows it; the next turns append to a second slab); if it
 * fails, that round confirms nothing and the next one makes its records durable in their segment
 * files (journalWritten).
 *
 * Cluster leader (`changes` given): a round's callbacks also wait until the replication position
 * reached when the round started is fdatasynced by enough followers (data-dir-changes.ts); the next
 * round does not wait for that, so local syncs and replication overlap.
 */
import fs from 'node:fs';
import type { DataDirChanges } from '../data-dir-changes.js';
import type { Journal, JournalFile } from './journal.js';
import type { StoreLogger } from './logger.js';
import type { AckLog } from './ack-log.js';
import type { Segment } from './segment.js';
import { syncPath } from './durable-file.js';
import { eachLimited } from './limited.js';
import { memoryReleased } from '../memory/released.js';

/**
 * Something with buffered writes (a durable list): writes them, returns false if it failed.
 * `mayDefer`: records the open round makes durable through the journal may stay in memory.
 */
export interface WriteClient {
  flushWrites(mayDefer?: boolean): boolean;
}

/** Something holding journaled records not yet written to their files (a list's segment writer, its ack logs). */
export interface DeferredWrites {
  /** Write what it holds; `done(ok)` once it is in its files (false: a write failed, kept). */
  writeDeferred(done: (ok: boolean) => void): void;
  /** Write what it holds now (clean close); false if that failed (kept). */
  writeDeferredNow(): boolean;
  /** Store sweep: give buffers back if nothing was deferred since the last call; true once it holds none. */
  releaseIdleBuffer(): boolean;
}

/** A list's segment writer deferring records (segment-writer.ts). */
export interface DeferringWriter extends DeferredWrites {
  readonly owner?: WriteClient | undefined;
  /** The journal write holding its flushed records succeeded / failed (then it writes them itself; may throw). */
  journaled(segment: Segment): void;
  journalFailed(segment: Segment): void;
  /**
   * The thread pool's journal write holding records it already took as journaled failed: its next
   * flush writes everything it holds to its segment file and has the open round fdatasync it.
   */
  journalWriteFailed(): void;
  keepForRetry(): void;
}

/**
 * A file written without a sync of its own, synced by its own group commit (the definitions log):
 * every round waits until what it holds is on disk, so no message is confirmed ahead of it.
 */
export interface SyncSource {
  readonly file: string;
  readonly pendingSync: boolean;
  whenSynced(callback: () => void, failed: (err: Error) => void): void;
}

/** Encodes one record into the slab (append()), and is told where it landed. */
export interface SlabWriter {
  /** Write the record at buf[off]; return its length (at most the maxBytes given to append()). */
  encodeInto(buf: Buffer, off: number): number;
  /** The record's bytes are buf[start, end) until the next flush: buffer them for it. */
  appended(buf: Buffer, start: number, end: number): void;
}

interface Round {
  readonly id: number;
  readonly files: Set<Segment>;
  /** Directories, and small files written without a sync (queue.json), that the round fsyncs. */
  readonly paths: Set<string>;
  readonly callbacks: (() => void)[];
  /** The journal file to fdatasync (written in this round), and whether it was sealed as the round began. */
  journal: JournalFile | undefined;
  sealed: boolean;
  failed: boolean;
  /** Replication position its writes reach (set when it starts). */
  position: number;
  /** The thread pool's write of its journal entries (its fdatasync waits for it). */
  journalWrite: JournalWrite | undefined;
  /** Its journal write failed: what it covered is made durable by the next round, which takes its callbacks. */
  redo: boolean;
}

/** A journal batch being written by the thread pool (Journal.writePendingAsync). */
interface JournalWrite {
  done: boolean;
  failed: boolean;
  readonly waiters: (() => void)[];
  /** Segment files already holding their journaled bytes, and writers holding theirs in memory: pinned open until it ends. */
  readonly segments: Segment[];
  readonly deferred: { segment: Segment; writer: DeferringWriter }[];
  /** The slab its entries point into: reused only once it is written. */
  readonly slab: Buffer;
}

/** Buffered bytes (slab and large bodies) beyond which a turn writes them even while a round is in flight. */
const DEFER_BYTES = 4 * 1024 * 1024;
/**
 * As big as DEFER_BYTES: a turn of small messages fills the slab no sooner than it reaches DEFER_BYTES,
 * so with many busy queues a round's records are flushed once (at its end), not also mid-turn when
 * a 1 MiB slab filled (each flush costs a journal entry and a buffer copy per busy list).
 */
const SLAB_BYTES = DEFER_BYTES;
/**
 * Two: a lone busy queue (plus one rotating) writes no journal bytes. Beyond that a flush journals
 * all its segment writes, the first two included: with 100 busy queues, rounds that fdatasynced two
 * segment files beside the journal (each a metadata commit of its own on ext4, racing the
 * checkpoints' syncs) took longer than rounds that synced the journal alone (bench/store-throughput.ts,
 * 100 queues: 82-107k confirmed msg/s against 119-136k).
 */
export const DIRECT_SYNCS = 2;
const RETRY_MS = 1000;
/**
 * A list's buffer of journaled bytes not yet written to its segment file (segment-writer.ts).
 * 128 KiB: with 100 busy queues a list gets ~16 KiB per round, so its file is written every ~8
 * rounds instead of every round.
 */
export const DEFER_LIST_BYTES = 128 * 1024;
/**
 * Memory all lists may hold in buffers of journaled records not yet written to their segment
 * files (DEFER_LIST_BYTES each, including those the thread pool is writing and the pool of free
 * ones): 256 buffers; beyond that, lists write every round. A busy list holds two at times (one
 * filling, one the pool is writing), so this lets 128 busy lists defer: with 128 buffers, 100 busy
 * queues ran out at ~2 % of their flushes, and each such flush rewrote the buffer still in flight
 * on the event loop (~0.25 µs of main thread per message).
 */
export const DEFER_TOTAL_BYTES = 32 * 1024 * 1024;

/** The slab while the store is idle (releaseIdleBuffers): append() takes a new one. */
const NO_SLAB = Buffer.alloc(0);

function newRound(id: number): Round {
  return { id, files: new Set(), paths: new Set(), callbacks: [], journal: undefined, sealed: false, failed: false, position: 0, journalWrite: undefined, redo: false };
}

export class Persister {
  /**
   * Shared write buffer: record headers and small bodies are copied here once, then written once.
   * Taken at the first append, let go once a sweep finds the store idle (releaseIdleBuffers).
   */
  private slab: Buffer = NO_SLAB;
  private slabPos = 0;
  /** stats.flushes at the previous sweep: the same means the store was idle since. */
  private flushesAtSweep = 0;
  /**
   * The slab to take while the thread pool writes a journal batch pointing into the current one
   * (kept between rounds, given back by a sweep that finds it unused since the previous one).
   */
  private spareSlab: Buffer | undefined;
  private spareSlabUsed = false;
  /** The journal batch the thread pool is writing, if any. */
  private journalWrite: JournalWrite | undefined;
  /** Large bodies buffered as iovecs of their own since the last flush (heldBody()). */
  private bodyBytes = 0;
  private readonly dirty = new Set<WriteClient>();
  private scheduled = false;
  private open: Round = newRound(1);
  private inFlight: Round | undefined;
  /** Rounds synced locally, waiting for the followers (cluster leader only), oldest first. */
  private readonly replicating: Round[] = [];
  private completed = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private closed = false;
  /** Segments whose writes are in the journal's unwritten batch (kept open until it is written). */
  private journalBatch: Segment[] = [];
  /**
   * Segments whose writes went through the journal, by journal path (openJournaled). An entry goes
   * when a checkpoint finds its segment closed, so it holds at most the segments the journal files
   * still cover.
   */
  private readonly journaledSegments = new Map<string, Segment>();
  /** Writers whose records are in the journal's unwritten batch and in no file yet. */
  private deferBatch: { segment: Segment; writer: DeferringWriter }[] = [];
  /** Writers holding a buffer of deferred records, and the bytes of those buffers. */
  private readonly deferHolders = new Set<DeferredWrites>();
  private deferBufferBytes = 0;
  /** Free deferred-record buffers (counted in deferBufferBytes), and the fewest it held since the last sweep. */
  private readonly deferPool: Buffer[] = [];
  private deferPoolLow = 0;
  /** The journal's unwritten batch holds a tombstone: the round must fdatasync it. */
  private journalNeedsSync = false;
  private sealRequested = false;
  /** The flush in progress writes more than directSyncs lists: its segment writes all go through the journal. */
  private journalAll = false;
  /**
   * Counters for benchmarks and tests (flushes: flushAll calls that had something to write;
   * journalBehind: segment writes fdatasynced directly because journal checkpoints were behind).
   */
  readonly stats = {
    flushes: 0, rounds: 0, fdatasyncs: 0, fdatasyncsDone: 0, bytesWritten: 0, journalBytes: 0, journalBehind: 0,
    /**
     * The message store's I/O as rabbitmq_io_* reports it: write calls (a pwritev of a queue's turn
     * counts once) and the time spent in them, segment read-backs, and the time fdatasyncs took
     * (summed per call: parallel syncs add up, as RabbitMQ sums per operation).
     */
    writeOps: 0, writeMs: 0, readOps: 0, readBytes: 0, readMs: 0, syncMs: 0,
  };

  constructor(
    private readonly log: StoreLogger,
    /** Told about every write to the data dir (the disk alarm re-checks free space early from it). */
    private readonly onDiskWrite: (bytes: number) => void = () => {},
    private readonly journal?: Journal,
    /** Segment files a round fdatasyncs itself before the rest of its writes go through the journal. */
    private readonly directSyncs = DIRECT_SYNCS,
    /** Replication's change feed and durability gate (cluster leader only). */
    readonly changes?: DataDirChanges,
  ) {
    // A journal file is deleted once the segment files it covers are fdatasynced: first they must hold its records.
    if (journal) {
      journal.beforeCheckpoint = (done) => this.writeAllDeferred(done);
      journal.openFile = (relPath) => this.openJournaled(relPath);
    }
  }

  /** A list wrote `bytes` to one of its files, in one call that took `ms`. */
  wrote(bytes: number, ms = 0): void {
    if (bytes <= 0) return;
    const st = this.stats;
    st.bytesWritten += bytes;
    st.writeOps++;
    st.writeMs += ms;
    this.onDiskWrite(bytes);
  }

  /** A list read `bytes` back from a segment file, in one call that took `ms`. */
  read(bytes: number, ms: number): void {
    const st = this.stats;
    st.readOps++;
    st.readBytes += bytes;
    st.readMs += ms;
  }

  /** The round that will make durable whatever is pushed right now. */
  get openRoundId(): number {
    return this.open.id;
  }

  get completedRoundId(): number {
    return this.completed;
  }

  /**
   * Append one record of at most `maxBytes` to the slab: `writer` encodes it in place and is told
   * where it landed. When the slab is full, every list is flushed first so it can be reused.
   */
  append(maxBytes: number, writer: SlabWriter): void {
    if (this.slabPos + maxBytes > this.slab.length) {
      if (this.slabPos > 0) this.flushAll();
      // The first append since the store was idle, or a header with huge properties (that slab goes at the next flush).
      if (maxBytes > this.slab.length) this.slab = Buffer.allocUnsafeSlow(Math.max(maxBytes, SLAB_BYTES));
    }
    const buf = this.slab;
    const start = this.slabPos;
    const end = start + writer.encodeInto(buf, start);
    this.slabPos = end;
    writer.appended(buf, start, end);
  }

  /** A writer buffered a body too large for the slab: it counts towards DEFER_BYTES. */
  heldBody(bytes: number): void {
    this.bodyBytes += bytes;
  }

  private readonly syncSources: SyncSource[] = [];

  /** Every round from now on waits for `source`'s pending sync (see SyncSource). */
  addSyncSource(source: SyncSource): void {
    this.syncSources.push(source);
  }

  markDirty(client: WriteClient): void {
    this.dirty.add(client);
    this.schedule();
  }

  private schedule(): void {
    if (!this.scheduled && !this.closed) {
      this.scheduled = true;
      setImmediate(this.turnEnd);
    }
  }

  forget(client: WriteClient): void {
    this.dirty.delete(client);
  }

  /** Bytes for this segment were written: the open round must fdatasync it. */
  needsSync(segment: Segment): void {
    if (this.open.files.has(segment)) return;
    segment.syncRounds++;
    this.open.files.add(segment);
  }

  /**
   * `buffers` (`total` bytes) holding a persistent record were just written at `position` of
   * `segment`: the open round makes them durable, by fdatasyncing the segment or through the journal.
   */
  makeDurable(segment: Segment, buffers: readonly Buffer[], position: number, total: number): void {
    const journal = this.journal;
    if (!journal || this.open.files.has(segment) || (!this.journalAll && this.open.files.size < this.directSyncs)) {
      this.needsSync(segment);
      return;
    }
    if (!journal.accepting) {
      this.stats.journalBehind++;
      this.needsSync(segment);
      return;
    }
    this.journaling(segment, journal);
    journal.addWrite(segment.journalPath!, position, buffers, total);
    // Keeps its fd open until the batch is written (the fallback on a failed write fdatasyncs it).
    segment.syncRounds++;
    this.journalBatch.push(segment);
  }

  /**
   * Whether a flush of `segment` may leave its records in memory, in the journal only: the flush
   * journals everything (more than directSyncs lists), the journal takes writes, the round does
   * not fdatasync the segment anyway, and no replication feed needs the segment writes now.
   */
  canDefer(segment: Segment): boolean {
    return this.journalsRound() && !this.open.files.has(segment);
  }

  /** The flush under way journals its writes (more than directSyncs lists, journal accepting, no replication feed). */
  journalsRound(): boolean {
    const journal = this.journal;
    return !!journal && this.journalAll && journal.accepting && !this.changes;
  }

  /** Ack `records` for `offset` of `acks`' file go to the journal only (the checkpoint does not fdatasync ack files). */
  journalAck(acks: AckLog, offset: number, records: Buffer): void {
    const journal = this.journal!;
    acks.journalPath ??= journal.relative(acks.path);
    journal.addWrite(acks.journalPath, offset, [records], records.length, false);
  }

  /**
   * `buffers` (`total` bytes, persistent records for `position` of `segment`) go to the journal
   * only; `writer` is told whether that write succeeded (journaled) or not (journalFailed).
   */
  journalDeferred(segment: Segment, writer: DeferringWriter, buffers: readonly Buffer[], position: number, total: number): void {
    const journal = this.journal!;
    this.journaling(segment, journal);
    journal.addWrite(segment.journalPath!, position, buffers, total);
    segment.syncRounds++;
    this.deferBatch.push({ segment, writer });
  }

  /** `segment`'s writes go through the journal: its checkpoints may fdatasync its open fd (openJournaled). */
  private journaling(segment: Segment, journal: Journal): void {
    if (segment.journalPath !== undefined) return;
    segment.journalPath = journal.relative(segment.path);
    this.journaledSegments.set(segment.journalPath, segment);
  }

  /** Journal checkpoint: the open fd of the segment file at `relPath`, pinned until released (or undefined: open it by path). */
  private openJournaled(relPath: string): { fd: number; release(): void } | undefined {
    const segment = this.journaledSegments.get(relPath);
    if (!segment) return undefined;
    // Closed, deleted or compacted (a new file under that name): forget it; a later journaled write adds it again.
    if (segment.fd < 0 || segment.deleted || segment.journalPath !== relPath) {
      this.journaledSegments.delete(relPath);
      return undefined;
    }
    segment.syncRounds++;
    return { fd: segment.fd, release: () => segment.synced() };
  }

  /** `writer` holds deferred records (written by writeAllDeferred, its buffers given back when idle). */
  deferring(writer: DeferredWrites): void {
    this.deferHolders.add(writer);
  }

  /** A buffer of DEFER_LIST_BYTES for a writer's deferred records, if DEFER_TOTAL_BYTES allows. */
  takeDeferBuffer(): Buffer | undefined {
    const pooled = this.deferPool.pop();
    if (pooled) {
      this.deferPoolLow = Math.min(this.deferPoolLow, this.deferPool.length);
      return pooled;
    }
    if (this.closed || this.deferBufferBytes + DEFER_LIST_BYTES > DEFER_TOTAL_BYTES) return undefined;
    this.deferBufferBytes += DEFER_LIST_BYTES;
    return Buffer.allocUnsafeSlow(DEFER_LIST_BYTES);
  }

  /** A writer no longer needs `buf` (from takeDeferBuffer, or reserveDeferBuffer's count). */
  giveDeferBuffer(buf: Buffer): void {
    if (buf.length === DEFER_LIST_BYTES && !this.closed) this.deferPool.push(buf);
    else this.deferBufferBytes -= buf.length;
  }

  /** A buffer of `bytes` a writer holds beyond the bound (its bytes through failed writes). */
  reserveDeferBuffer(bytes: number): void {
    this.deferBufferBytes += bytes;
  }

  /** Bytes of deferred-record buffers held by all lists (tests of the bound). */
  get deferredBufferBytes(): number {
    return this.deferBufferBytes;
  }

  /** Bytes of write buffers held: the slabs and the deferred-record buffers (tests of their release). */
  get bufferBytes(): number {
    return this.slab.length + (this.spareSlab?.length ?? 0) + this.deferBufferBytes;
  }

  /** Every writer writes the records it deferred; `done(false)` if some write failed (they keep them). */
  writeAllDeferred(done: (ok: boolean) => void): void {
    let pending = 1;
    let ok = true;
    const one = (written: boolean): void => {
      if (!written) ok = false;
      if (--pending === 0) done(ok);
    };
    for (const writer of this.deferHolders) {
      pending++;
      writer.writeDeferred(one);
    }
    one(true);
  }

  logDeferredWriteFailure(segment: Segment, err: Error): void {
    this.log('error', 'writing journaled records to their segment file failed; kept in memory for retry', { file: segment.path, error: err.message });
  }

  /** A segment file or a queue directory is being deleted: the journal must never replay older writes into it. */
  forgetFile(file: string): void {
    if (!this.journal) return;
    this.journal.addTombstone(this.journal.relative(file));
    this.journalNeedsSync = true;
  }

  /**
   * `file` is about to be replaced (compaction): tombstone it in the journal and call back once a
   * round made that durable, so no replay can ever write its old bytes into the new file.
   */
  forgetFileDurably(file: string, callback: () => void): void {
    this.forgetFile(file);
    this.onDurable(this.open.id, callback);
    this.schedule();
  }

  /** Store sweep: if the journal got nothing since the last sweep, the next round seals it for a checkpoint. */
  checkpointIfIdle(): void {
    if (this.journal?.idleWithEntries()) {
      this.sealRequested = true;
      this.schedule();
    }
    // A checkpoint put off by a failed segment write tries again.
    this.journal?.checkpoint();
    this.releaseIdleBuffers();
  }

  /**
   * Store sweep: memory comes back once the load ends. Writers that deferred nothing since the last
   * sweep give their buffers back; free buffers no writer took since then go; and once a whole
   * sweep interval passed without a flush, the pool and the slab go too (the next append takes a
   * new slab, the next deferring writer a new buffer: one allocation per busy period). What goes
   * is counted as released memory, so the reclaimer's collection unmaps it within seconds
   * (memory/released.ts; otherwise the dead buffers waited for a collection load would bring).
   */
  private releaseIdleBuffers(): void {
    const idle = this.stats.flushes === this.flushesAtSweep;
    this.flushesAtSweep = this.stats.flushes;
    for (const writer of this.deferHolders) if (writer.releaseIdleBuffer()) this.deferHolders.delete(writer);
    // Free buffers no writer took since the last sweep go (all of them once the store is idle).
    let released = 0;
    for (let n = idle ? this.deferPool.length : this.deferPoolLow; n > 0 && this.deferPool.length > 0; n--) released += this.deferPool.pop()!.length;
    this.deferPoolLow = this.deferPool.length;
    this.deferBufferBytes -= released;
    if (!this.spareSlabUsed && this.spareSlab) {
      released += this.spareSlab.length;
      this.spareSlab = undefined;
    }
    this.spareSlabUsed = false;
    if (idle && this.slabPos === 0 && this.slab !== NO_SLAB) {
      released += this.slab.length;
      this.slab = NO_SLAB;
    }
    if (released > 0) memoryReleased(released);
  }

  /**
   * The open round must fsync this path: a directory a file was created in, or a small file
   * written without a sync of its own (a new queue's queue.json).
   */
  needsPathSync(fileOrDir: string): void {
    this.open.paths.add(fileOrDir);
    this.schedule();
  }

  /** Call back when round `roundId` is done (at once, on a microtask, if it already is). */
  onDurable(roundId: number, callback: () => void): void {
    if (roundId <= this.completed) queueMicrotask(callback);
    else if (this.inFlight && roundId === this.inFlight.id) this.inFlight.callbacks.push(callback);
    else if (roundId < this.open.id) {
      const round = this.replicating.find((r) => r.id === roundId);
      if (round) round.callbacks.push(callback);
      // A round whose journal write failed: the round after it carries its callbacks (completeRound).
      else if (roundId > this.completed) (this.inFlight ?? this.open).callbacks.push(callback);
      else queueMicrotask(callback);
    }
    else this.open.callbacks.push(callback);
  }

  /** Write every dirty list's buffered bytes now. Returns false if some write failed (kept for retry). */
  flushAll(): boolean {
    if (this.dirty.size > 0) this.stats.flushes++;
    this.journalAll = this.dirty.size > this.directSyncs;
    let ok = true;
    for (const client of this.dirty) {
      if (client.flushWrites(true)) this.dirty.delete(client);
      else ok = false;
    }
    if (this.journalBatch.length > 0 || this.deferBatch.length > 0 || this.journal?.hasPending) {
      if (!this.writeJournal()) ok = false;
    }
    // Failed clients copied their pending bytes out of the slab, so it is free either way.
    this.slabPos = 0;
    this.bodyBytes = 0;
    if (this.slab.length > SLAB_BYTES) this.slab = NO_SLAB;
    if (!ok && !this.retryTimer && !this.closed) {
      this.retryTimer = setTimeout(() => {
        this.retryTimer = undefined;
        this.turnEnd();
      }, RETRY_MS);
    }
    return ok;
  }

  /**
   * The journal batch refers to the slab: written before the slab is reused. Returns false if the
   * journal write failed and so did writing some deferred records to their segment file instead
   * (they are kept, their list flushes again).
   */
  private writeJournal(): boolean {
    // While the pool writes a batch, nothing else is journaled (Journal.accepting) but tombstones: they wait for it.
    if (this.journalWrite) return true;
    const journal = this.journal!;
    const segments = this.journalBatch;
    const deferred = this.deferBatch;
    this.journalBatch = [];
    this.deferBatch = [];
    // A batch a round is about to fdatasync goes to the thread pool when that round starts right
    // after this flush (none in flight) and points at nothing but the slab and its own buffers
    // (no large body, which could be freed meanwhile).
    if ((this.journalNeedsSync || segments.length > 0 || deferred.length > 0) && journal.hasPending && !this.inFlight && !this.changes && this.bodyBytes === 0 && !this.closed) {
      const write: JournalWrite = { done: false, failed: false, waiters: [], segments, deferred, slab: this.slab };
      const queued = journal.writePendingAsync((dir) => this.needsPathSync(dir), (err) => this.journalWritten(write, err));
      if (queued >= 0) {
        this.journalWrite = write;
        this.open.journal = journal.currentFile;
        this.open.journalWrite = write;
        this.journalNeedsSync = false;
        this.stats.journalBytes += queued;
        this.wrote(queued);
        // Taken as journaled now (copied out of the slab); if the write fails, journalWritten has them written again.
        for (const { segment, writer } of deferred) writer.journaled(segment);
        // The pool reads the slab until the write ends: the next turns append to another.
        this.slab = this.spareSlab ?? Buffer.allocUnsafeSlow(SLAB_BYTES);
        this.spareSlab = undefined;
        this.spareSlabUsed = true;
        return true;
      }
      return this.journalWriteFailed(segments, deferred);
    }
    const t0 = performance.now();
    const written = journal.writePending((dir) => this.needsPathSync(dir));
    if (written >= 0) {
      // A batch of ack records alone needs no fdatasync (acks are never synced): no round for it.
      if (this.journalNeedsSync || segments.length > 0 || deferred.length > 0) this.open.journal = journal.currentFile;
      this.journalNeedsSync = false;
      this.stats.journalBytes += written;
      this.wrote(written, performance.now() - t0);
      for (const segment of segments) segment.synced();
      for (const { segment, writer } of deferred) {
        writer.journaled(segment);
        segment.synced();
      }
      return true;
    }
    return this.journalWriteFailed(segments, deferred);
  }

  /**
   * The thread pool's journal write ended. On failure its round (waiting for it) completes nothing:
   * the segment files holding journaled bytes are fdatasynced by the next round, the writers that
   * kept records in memory write them to their files in the next flush, and the next round takes the
   * callbacks (completeRound; Journal put the write's tombstones back in the batch).
   */
  private journalWritten(write: JournalWrite, err: Error | null): void {
    this.journalWrite = undefined;
    write.done = true;
    if (write.slab.length === SLAB_BYTES && !this.closed) this.spareSlab = write.slab;
    if (err) {
      write.failed = true;
      this.journalNeedsSync = true;
      for (const segment of write.segments) {
        if (segment.fd >= 0) this.needsSync(segment);
        segment.synced();
      }
      for (const { segment, writer } of write.deferred) {
        if (!segment.deleted) {
          // Its records may be in this file already (a rotation wrote them) or only in memory.
          if (segment.fd >= 0) this.needsSync(segment);
          writer.journalWriteFailed();
          if (writer.owner) this.dirty.add(writer.owner);
        }
        segment.synced();
      }
      this.schedule();
    } else {
      for (const segment of write.segments) segment.synced();
      for (const { segment } of write.deferred) segment.synced();
    }
    for (const waiter of write.waiters.splice(0)) waiter();
  }

  /** The journal write of a batch failed at once: its records go to their segment files, fdatasynced by the open round. */
  private journalWriteFailed(segments: Segment[], deferred: { segment: Segment; writer: DeferringWriter }[]): boolean {
    // The segments' own bytes are written: fdatasync them in the open round instead (already pinned).
    for (const segment of segments) {
      if (this.open.files.has(segment)) segment.synced();
      else this.open.files.add(segment);
    }
    // Deferred records are in no file: written now, and fdatasynced by the open round.
    let ok = true;
    for (const { segment, writer } of deferred) {
      try {
        writer.journalFailed(segment);
      } catch (err) {
        this.log('error', 'write to the message store failed; will retry', { file: segment.path, error: (err as Error).message });
        writer.keepForRetry();
        if (writer.owner) this.dirty.add(writer.owner);
        ok = false;
      }
      segment.synced();
    }
    return ok;
  }

  close(): void {
    this.closed = true;
    // Lists write what they deferred when they close; one that did not (or could not) keeps the journal for the next start.
    let keepJournal = false;
    for (const writer of this.deferHolders) if (!writer.writeDeferredNow()) keepJournal = true;
    for (const buf of this.deferPool.splice(0)) this.deferBufferBytes -= buf.length;
    this.journal?.closeSync(this.journalBatch.map((s) => s.journalPath!), keepJournal);
    for (const segment of this.journalBatch) segment.synced();
    this.journalBatch = [];
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
  }

  private readonly turnEnd = (): void => {
    this.scheduled = false;
    // While a round is in flight the next one cannot start: with many lists to write, the turns'
    // bytes wait for its end (finishRound flushes), so a busy list writes once per round, not once
    // per turn, unless a slow sync lets more than DEFER_BYTES pile up. One or two lists write every
    // turn, so the next round's fdatasync starts the moment the current one ends.
    if (this.inFlight && this.dirty.size > this.directSyncs && this.slabPos + this.bodyBytes < DEFER_BYTES) return;
    // A round must not start while some list's bytes are unwritten: its callbacks are in it.
    if (this.flushAll()) this.startRound();
  };

  private startRound(): void {
    if (this.inFlight) return;
    const round = this.open;
    const sealed = this.journal?.sealIfDue(this.sealRequested);
    this.sealRequested = false;
    if (sealed) {
      round.journal = sealed;
      round.sealed = true;
    }
    if (round.files.size === 0 && round.paths.size === 0 && round.callbacks.length === 0 && !round.journal) return;
    this.open = newRound(round.id + 1);
    this.inFlight = round;
    if (this.changes) round.position = this.changes.position;
    this.stats.rounds++;
    let pending = 1;
    const done = (err: NodeJS.ErrnoException | null, what: string): void => {
      if (err) {
        round.failed = true;
        this.log('error', 'fsync failed: confirms of this round are withheld', { file: what, error: err.message });
      }
      if (--pending === 0) this.finishRound(round);
    };
    for (const segment of round.files) {
      if (segment.fd < 0) {
        segment.synced();
        continue;
      }
      pending++;
      this.stats.fdatasyncs++;
      const t0 = performance.now();
      fs.fdatasync(segment.fd, (err) => {
        this.stats.fdatasyncsDone++;
        this.stats.syncMs += performance.now() - t0;
        segment.synced();
        done(err, segment.path);
      });
    }
    pending += round.paths.size;
    syncPaths(round.paths, done);
    for (const source of this.syncSources) {
      if (!source.pendingSync) continue;
      pending++;
      source.whenSynced(() => done(null, source.file), (err) => done(err as NodeJS.ErrnoException, source.file));
    }
    const journal = round.journal;
    if (journal && journal.fd >= 0) {
      pending++;
      const sync = (): void => {
        const write = round.journalWrite;
        if (write?.failed) {
          round.redo = true;
          return done(null, '');
        }
        this.stats.fdatasyncs++;
        const t0 = performance.now();
        journal.sync((err) => {
          this.stats.fdatasyncsDone++;
          this.stats.syncMs += performance.now() - t0;
          done(err, journal.file);
        });
      };
      if (round.journalWrite && !round.journalWrite.done) round.journalWrite.waiters.push(sync);
      else sync();
    }
    done(null, '');
  }

  private finishRound(round: Round): void {
    this.inFlight = undefined;
    if (this.changes) {
      this.replicating.push(round);
      this.changes.whenReplicated(round.position, () => this.completeRound(this.replicating.shift()!));
    } else {
      this.completeRound(round);
    }
    if (this.flushAll()) this.startRound();
    // No new round: the load paused, and the second slab would only hold memory until the next sweep.
    if (!this.inFlight && !this.journalWrite && this.spareSlab) {
      memoryReleased(this.spareSlab.length);
      this.spareSlab = undefined;
    }
  }

  private completeRound(round: Round): void {
    if (round.redo && !round.failed) {
      // Not durable: the next round makes its writes durable (journalWritten) and fires its callbacks
      // first. (A round whose fdatasync failed keeps them withheld, as below: no later round redoes that.)
      this.open.callbacks.unshift(...round.callbacks);
      if (round.sealed) this.journal!.checkpoint();
      return;
    }
    this.completed = round.id;
    if (round.sealed) this.journal!.checkpoint();
    if (!round.failed) {
      for (const callback of round.callbacks) {
        try {
          callback();
        } catch (err) {
          // One failing callback must not cost the others their confirm; surface it anyway.
          process.nextTick(() => {
            throw err;
          });
        }
      }
    }
  }
}

/**
 * Path fsyncs a round runs at once. Each holds a descriptor from its open to its close, and a
 * round after thousands of declares (a definitions import) has thousands of new directories: all
 * at once ran the process out of descriptors (EMFILE) for everything else.
 */
const PATH_SYNCS = 8;

/** fsync every path of `paths`, PATH_SYNCS at a time, calling back once per path. */
function syncPaths(paths: Iterable<string>, callback: (err: NodeJS.ErrnoException | null, fileOrDir: string) => void): void {
  eachLimited(paths, PATH_SYNCS, (fileOrDir, ended) => syncPath(fileOrDir, ended), callback);
}
