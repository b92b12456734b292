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
 */
import fs from 'node:fs';
import type { StoreLogger } from './logger.js';
import type { Segment } from './segment.js';

/** Something with buffered writes (a durable list): writes them, returns false if it failed. */
export interface WriteClient {
  flushWrites(): boolean;
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
  readonly dirs: Set<string>;
  readonly callbacks: (() => void)[];
  failed: boolean;
}

const SLAB_BYTES = 1024 * 1024;
const RETRY_MS = 1000;

function newRound(id: number): Round {
  return { id, files: new Set(), dirs: new Set(), callbacks: [], failed: false };
}

export class Persister {
  /** Shared write buffer: record headers and small bodies are copied here once, then written once. */
  private slab = Buffer.allocUnsafeSlow(SLAB_BYTES);
  private slabPos = 0;
  private readonly dirty = new Set<WriteClient>();
  private scheduled = false;
  private open: Round = newRound(1);
  private inFlight: Round | undefined;
  private completed = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private closed = false;
  /** Counters for benchmarks and tests (flushes: flushAll calls that had something to write). */
  readonly stats = { flushes: 0, rounds: 0, fdatasyncs: 0, fdatasyncsDone: 0, bytesWritten: 0 };

  constructor(
    private readonly log: StoreLogger,
    /** Told about every write to the data dir (the disk alarm re-checks free space early from it). */
    private readonly onDiskWrite: (bytes: number) => void = () => {},
  ) {}

  /** A list wrote `bytes` to one of its files. */
  wrote(bytes: number): void {
    this.stats.bytesWritten += bytes;
    this.onDiskWrite(bytes);
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
      this.flushAll();
      // Only a header with huge properties gets here; the slab shrinks back at the next flush.
      if (maxBytes > this.slab.length) this.slab = Buffer.allocUnsafeSlow(maxBytes);
    }
    const buf = this.slab;
    const start = this.slabPos;
    const end = start + writer.encodeInto(buf, start);
    this.slabPos = end;
    writer.appended(buf, start, end);
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

  /** A file was created in this directory: the open round must fsync the directory. */
  needsDirSync(dir: string): void {
    this.open.dirs.add(dir);
    this.schedule();
  }

  /** Call back when round `roundId` is done (at once, on a microtask, if it already is). */
  onDurable(roundId: number, callback: () => void): void {
    if (roundId <= this.completed) queueMicrotask(callback);
    else if (this.inFlight && roundId === this.inFlight.id) this.inFlight.callbacks.push(callback);
    else this.open.callbacks.push(callback);
  }

  /** Write every dirty list's buffered bytes now. Returns false if some write failed (kept for retry). */
  flushAll(): boolean {
    if (this.dirty.size > 0) this.stats.flushes++;
    let ok = true;
    for (const client of this.dirty) {
      if (client.flushWrites()) this.dirty.delete(client);
      else ok = false;
    }
    // Failed clients copied their pending bytes out of the slab, so it is free either way.
    this.slabPos = 0;
    if (this.slab.length > SLAB_BYTES) this.slab = Buffer.allocUnsafeSlow(SLAB_BYTES);
    if (!ok && !this.retryTimer && !this.closed) {
      this.retryTimer = setTimeout(() => {
        this.retryTimer = undefined;
        this.turnEnd();
      }, RETRY_MS);
    }
    return ok;
  }

  close(): void {
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
  }

  private readonly turnEnd = (): void => {
    this.scheduled = false;
    // A round must not start while some list's bytes are unwritten: its callbacks are in it.
    if (this.flushAll()) this.startRound();
  };

  private startRound(): void {
    if (this.inFlight) return;
    const round = this.open;
    if (round.files.size === 0 && round.dirs.size === 0 && round.callbacks.length === 0) return;
    this.open = newRound(round.id + 1);
    this.inFlight = round;
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
      fs.fdatasync(segment.fd, (err) => {
        this.stats.fdatasyncsDone++;
        segment.synced();
        done(err, segment.path);
      });
    }
    for (const dir of round.dirs) {
      pending++;
      syncDir(dir, (err) => done(err, dir));
    }
    done(null, '');
  }

  private finishRound(round: Round): void {
    this.inFlight = undefined;
    this.completed = round.id;
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
    if (this.flushAll()) this.startRound();
  }
}

function syncDir(dir: string, callback: (err: NodeJS.ErrnoException | null) => void): void {
  fs.open(dir, 'r', (err, fd) => {
    if (err) return callback(err.code === 'ENOENT' ? null : err);
    fs.fsync(fd, (syncErr) => fs.close(fd, () => callback(syncErr)));
  });
}
