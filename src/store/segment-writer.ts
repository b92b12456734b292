/**
 * Appending message records to a queue's active segment file. A record (layout in record.ts) is
 * encoded once into the persister's shared slab, body included when small; a large body is queued
 * as its own iovec, so it is never copied. Consecutive records of one queue form one run of the
 * slab; once per group-commit round (or turn, when no round is in flight) the persister has the
 * list flush, and the runs and bodies go to the file in one pwritev. The segment's whole-file crc32 (for the clean-shutdown marker) is
 * advanced per buffer written, not per record.
 *
 * Deferred writes (many busy queues): when the round makes a flush durable through the shared
 * journal (persister.ts), the records need not reach the segment file in that round at all. The
 * flush then only hands them to the journal; once the journal has them they are copied into this
 * writer's own buffer (DEFER_LIST_BYTES) and written to the file later, in one pwritev for many
 * rounds, by libuv's thread pool: when the buffer is full (write-behind: the buffer goes to the
 * pool's write and the writer takes another from the persister's pool), and before the journal
 * file holding them is checkpointed. So the event loop pays neither a write per round per queue
 * nor the copy into the page cache of every record a second time. Whenever the file must be
 * complete at once (read-back, rotation, close: flushTo without mayDefer) everything pending is
 * written synchronously, a buffer still being written by the pool included: writing the same bytes
 * at the same offset twice is harmless. The pending bytes are always the file's next bytes: the
 * file is a prefix of the segment, its end is `segment.written`, then come the flight's bytes (if
 * any), then the buffer's [0, deferLen).
 */
import type { Message } from '../broker/message.js';
import { crc32, crc32Range } from './crc32.js';
import { DEFER_LIST_BYTES, type Persister, type SlabWriter, type WriteClient } from './persister.js';
import { writevAll, writevAllAsync } from './durable-file.js';
import { headerUpperBound, writeHeader } from './record.js';
import type { Segment } from './segment.js';

/** Bodies up to this size are copied into the shared write slab; bigger ones are written from where they are. */
const COPY_BODY_MAX = 16 * 1024;
/** Pending bytes handed to the thread pool's pwritev (a flight): the file's next bytes after `segment.written`. */
interface Flight {
  readonly views: Buffer[];
  readonly length: number;
  /** Buffers of the persister's pool it holds (given back once the pool's write is done with them). */
  readonly owned: Buffer[];
  /** The pool's write is under way (its buffers must not be reused). */
  writing: boolean;
  /** The bytes are in the file (written by the pool, or again synchronously), or no longer wanted. */
  landed: boolean;
  /** Called when the pool's write ends. */
  readonly waiters: (() => void)[];
}

export class SegmentWriter implements SlabWriter {
  /** Buffers for the next pwritev, and the open run in the shared slab. */
  private iov: Buffer[] = [];
  private runBuf: Buffer | undefined;
  private runStart = 0;
  private runEnd = 0;
  /** A persistent record is among the buffered bytes: the flush must be fdatasynced. */
  private pendingPersistent = false;
  /** The record being appended (set for the persister's encodeInto callback). */
  private seq = 0;
  private message: Message | undefined;
  private copyBody = false;
  private persistent = false;
  private headerLength = 0;
  /** Journaled bytes not yet in the file, in file order from segment.written of deferSegment: the flight's, then deferBuf[0, deferLen). */
  private flight: Flight | undefined;
  private deferBuf: Buffer | undefined;
  private deferLen = 0;
  private deferSegment: Segment | undefined;
  /** The buffer was used since the store's last sweep (an idle list gives it back: releaseIdleBuffer). */
  private deferUsed = false;
  /** A journal write holding records it took as journaled failed: the next flush writes and fdatasyncs them (journalWriteFailed). */
  private redo = false;

  constructor(
    private readonly persister: Persister,
    /** False for a transient list: its records are never fdatasynced, whatever their delivery mode. */
    private readonly syncs = true,
    /** The list it writes for (flushed again if a write it deferred has to be retried). */
    readonly owner?: WriteClient,
  ) {}

  get hasBuffered(): boolean {
    return this.iov.length > 0 || this.runBuf !== undefined || this.deferredBytes > 0;
  }

  /** Journaled bytes not yet known to be in the segment file. */
  get deferredBytes(): number {
    return (this.flight?.length ?? 0) + this.deferLen;
  }

  /**
   * Buffer the record of `message` at `seq`; returns the bytes it takes in the segment file.
   * `persistent`: the record's flag, recovery keeps it (the message's delivery mode, or any message of a
   * quorum queue; a transient list's records are never recovered, whatever the flag).
   */
  append(seq: number, message: Message, persistent: boolean): number {
    const body = message.body;
    const copyBody = body.length <= COPY_BODY_MAX;
    this.seq = seq;
    this.persistent = persistent;
    this.message = message;
    this.copyBody = copyBody;
    const upper = headerUpperBound(message.exchange, message.routingKey, message.rawProperties) + (copyBody ? body.length : 0);
    this.persister.append(upper, this);
    this.message = undefined;
    if (!copyBody) {
      this.closeRun();
      this.iov.push(body);
      this.persister.heldBody(body.length);
    }
    if (persistent && this.syncs) this.pendingPersistent = true;
    return this.headerLength + body.length;
  }

  /** SlabWriter: encode the current record at buf[off]; returns the bytes used in the slab. */
  encodeInto(buf: Buffer, off: number): number {
    const m = this.message!;
    const body = m.body;
    const headerLength = writeHeader(buf, off, this.seq, m.timestamp, this.persistent, m.exchange, m.routingKey, m.rawProperties, body.length);
    this.headerLength = headerLength;
    let used = headerLength;
    let crc: number;
    if (this.copyBody) {
      used += body.copy(buf, off + headerLength);
      crc = crc32Range(buf, off + 8, off + used);
    } else {
      crc = crc32(body, crc32Range(buf, off + 8, off + used));
    }
    buf.writeUInt32LE(crc, off + 4);
    return used;
  }

  /** SlabWriter: buf[start, end) holds the record; extend the open run or start a new one. */
  appended(buf: Buffer, start: number, end: number): void {
    if (this.runBuf === buf && this.runEnd === start) {
      this.runEnd = end;
      return;
    }
    this.closeRun();
    this.runBuf = buf;
    this.runStart = start;
    this.runEnd = end;
  }

  /**
   * Write everything buffered to `segment` at its written offset (throws on failure: the caller
   * keeps the bytes with keepForRetry()). Has the persister's open round make them durable
   * when a persistent record was among them. With `mayDefer` (the persister's round flush) the new
   * records may instead go to the journal only and wait in memory (see the file comment).
   */
  flushTo(segment: Segment, mayDefer = false): void {
    this.closeRun();
    if (this.redo) {
      // Before writing, so the open round fdatasyncs the file whatever becomes of the new records.
      this.persister.needsSync(segment);
      this.writeOut(segment);
      this.redo = false;
      return;
    }
    if (this.iov.length === 0) {
      if (!mayDefer && this.deferredBytes > 0) this.writeOut(segment);
      return;
    }
    // Not while writes of deferred bytes fail (the buffer grew past its size): write, and retry.
    if (mayDefer && this.pendingPersistent && this.deferLen <= DEFER_LIST_BYTES && this.persister.canDefer(segment)) {
      const position = segment.written + this.deferredBytes;
      this.persister.journalDeferred(segment, this, this.iov, position, segment.end - position);
      this.deferSegment = segment;
      return;
    }
    this.writeOut(segment);
  }

  /**
   * The journal write holding the flushed records succeeded: keep them (copied out of the shared
   * slab) until the buffer is full, then have the thread pool write the buffer and start another.
   */
  journaled(segment: Segment): void {
    let total = 0;
    for (const b of this.iov) total += b.length;
    if (this.deferBuf && this.deferLen + total > this.deferBuf.length) this.writeBehind(segment);
    // The buffer may be one kept through failed writes (see below), of another size than usual.
    if (this.deferLen + total <= (this.deferBuf?.length ?? DEFER_LIST_BYTES) && this.reserveBuffer()) {
      const buf = this.deferBuf!;
      for (const b of this.iov) {
        buf.set(b, this.deferLen);
        this.deferLen += b.length;
      }
      this.iov = [];
      this.pendingPersistent = false;
      this.deferUsed = true;
      this.persister.deferring(this);
      return;
    }
    try {
      this.writeOut(segment, false);
    } catch (err) {
      // They are durable in the journal: keep them with the deferred bytes, in a buffer as big as
      // needed (only while writes fail; the next flushes write instead of deferring, see flushTo).
      this.persister.logDeferredWriteFailure(segment, err as Error);
      const kept = Buffer.concat([...this.pendingViews(), ...this.iov]);
      this.dropPending();
      if (this.deferBuf) this.persister.giveDeferBuffer(this.deferBuf);
      this.persister.reserveDeferBuffer(kept.length);
      this.deferBuf = kept;
      this.deferLen = kept.length;
      this.iov = [];
      this.pendingPersistent = false;
      this.persister.deferring(this);
    }
  }

  /**
   * The journal write failed: the records are in no file. Write them (with anything deferred) to
   * the segment now and have the round fdatasync it. Throws if that fails too (keepForRetry then).
   */
  journalFailed(segment: Segment): void {
    this.writeOut(segment, false);
    this.persister.needsSync(segment);
  }

  /** The thread pool's journal write holding records it took as journaled failed (see redo). */
  journalWriteFailed(): void {
    this.redo = true;
  }

  /**
   * Journal checkpoint: have the thread pool write every pending byte; `done(ok)` once they are
   * in the file (false: the write failed, they are kept and the checkpoint waits for the next sweep).
   */
  writeDeferred(done: (ok: boolean) => void): void {
    const segment = this.deferSegment;
    if (this.deferredBytes === 0 || !segment || segment.deleted) {
      this.dropPending();
      return done(true);
    }
    const flight = this.flight;
    if (flight?.writing) {
      flight.waiters.push(() => this.writeDeferred(done));
      return;
    }
    const views = this.pendingViews();
    const owned = [...(flight?.owned ?? []), ...(this.deferBuf && this.deferLen > 0 ? [this.deferBuf] : [])];
    if (this.deferLen > 0) this.deferBuf = undefined;
    this.deferLen = 0;
    this.flight = undefined;
    this.fly(segment, views, owned).waiters.push(() => done(this.flight === undefined));
  }

  /** Write every pending byte now (clean close); false if the write failed (they are kept). */
  writeDeferredNow(): boolean {
    const segment = this.deferSegment;
    if (this.deferredBytes === 0 || !segment || segment.deleted) {
      this.dropPending();
      return true;
    }
    try {
      this.writeFile(segment, this.pendingViews(), this.deferredBytes);
      this.wrotePending();
      return true;
    } catch (err) {
      this.persister.logDeferredWriteFailure(segment, err as Error);
      return false;
    }
  }

  /** Store sweep: a list that deferred nothing since the last sweep gives its buffer back. */
  releaseIdleBuffer(): boolean {
    if (this.flight) return false;
    if (!this.deferBuf) return true;
    if (this.deferUsed || this.deferLen > 0) {
      this.deferUsed = false;
      return false;
    }
    this.persister.giveDeferBuffer(this.deferBuf);
    this.deferBuf = undefined;
    return true;
  }

  private reserveBuffer(): boolean {
    this.deferBuf ??= this.persister.takeDeferBuffer();
    return this.deferBuf !== undefined;
  }

  /** The full buffer goes to the thread pool's write (unless one is under way or failed): the records go to a new one. */
  private writeBehind(segment: Segment): void {
    const buf = this.deferBuf!;
    if (this.flight || this.deferLen === 0 || buf.length !== DEFER_LIST_BYTES) return;
    this.fly(segment, [buf.subarray(0, this.deferLen)], [buf]);
    this.deferBuf = undefined;
    this.deferLen = 0;
  }

  /**
   * pwritev `views` (the file's next bytes) in the thread pool. The segment's fd stays open until
   * that is done (Segment.syncRounds). A failed write leaves the flight in place, not writing:
   * its bytes are still pending, written by the next synchronous write or checkpoint.
   */
  private fly(segment: Segment, views: Buffer[], owned: Buffer[]): Flight {
    let length = 0;
    for (const v of views) length += v.length;
    const flight: Flight = { views, length, owned, writing: true, landed: false, waiters: [] };
    this.flight = flight;
    const position = segment.written;
    segment.syncRounds++;
    this.persister.wrote(length);
    writevAllAsync(segment.openFd(), views, position, length, (err) => {
      flight.writing = false;
      segment.synced();
      if (!flight.landed) {
        if (err) {
          this.persister.logDeferredWriteFailure(segment, err);
        } else {
          this.landed(segment, flight);
          this.flight = undefined;
        }
      }
      if (flight.landed) for (const b of flight.owned) this.persister.giveDeferBuffer(b);
      for (const w of flight.waiters.splice(0)) w();
    });
    return flight;
  }

  /** The flight's bytes are in the file: it ends there now. */
  private landed(segment: Segment, flight: Flight): void {
    flight.landed = true;
    segment.written += flight.length;
    let fileCrc = segment.fileCrc;
    if (fileCrc !== undefined) for (const b of flight.views) fileCrc = crc32(b, fileCrc);
    segment.fileCrc = fileCrc;
  }

  /** The pending bytes, in file order. */
  private pendingViews(): Buffer[] {
    const views = this.flight ? [...this.flight.views] : [];
    if (this.deferLen > 0) views.push(this.deferBuf!.subarray(0, this.deferLen));
    return views;
  }

  /** The pending bytes were written synchronously (writeFile advanced the file's end over them). */
  private wrotePending(): void {
    const flight = this.flight;
    if (flight) {
      flight.landed = true;
      // A flight still being written gives its buffers back when the pool is done with them.
      if (!flight.writing) for (const b of flight.owned) this.persister.giveDeferBuffer(b);
      this.flight = undefined;
    }
    this.wroteDeferred();
  }

  /** Forget the pending bytes (their segment is gone, or they were copied elsewhere). */
  private dropPending(): void {
    this.wrotePending();
    this.deferLen = 0;
  }

  /**
   * pwritev the deferred bytes and the new records to the file (nothing changes if that throws);
   * `makeDurable`: the new records' persistent bytes go to the open round (journal or fdatasync),
   * as a write that was not deferred.
   */
  private writeOut(segment: Segment, makeDurable = true): void {
    const deferred = this.deferredBytes;
    const buffers = deferred > 0 ? [...this.pendingViews(), ...this.iov] : this.iov;
    const position = segment.written;
    const total = segment.end - position;
    this.writeFile(segment, buffers, total);
    if (deferred > 0) this.wrotePending();
    if (makeDurable && this.pendingPersistent) this.persister.makeDurable(segment, this.iov, position + deferred, total - deferred);
    this.iov = [];
    this.pendingPersistent = false;
  }

  /** pwritev `buffers` (`total` bytes) at the file's end. */
  private writeFile(segment: Segment, buffers: Buffer[], total: number): void {
    const position = segment.written;
    const t0 = performance.now();
    writevAll(segment.openFd(), buffers, position, total);
    const writeMs = performance.now() - t0;
    if (this.syncs) this.persister.changes?.write(segment.path, position, buffers);
    this.persister.wrote(total, writeMs);
    segment.written = position + total;
    let fileCrc = segment.fileCrc;
    if (fileCrc !== undefined) for (const b of buffers) fileCrc = crc32(b, fileCrc);
    segment.fileCrc = fileCrc;
  }

  /** The buffer's bytes are in the file; an oversized buffer (kept through failed writes) goes. */
  private wroteDeferred(): void {
    this.deferLen = 0;
    if (this.deferBuf && this.deferBuf.length !== DEFER_LIST_BYTES) {
      this.persister.giveDeferBuffer(this.deferBuf);
      this.deferBuf = undefined;
    }
  }

  /** A write failed: the shared slab is reused after this flush, so keep a private copy of what is unwritten. */
  keepForRetry(): void {
    this.closeRun();
    if (this.iov.length > 0) this.iov = [Buffer.concat(this.iov)];
  }

  /** Drop whatever is buffered (the list is gone). */
  clear(): void {
    this.iov = [];
    this.runBuf = undefined;
    this.dropPending();
    if (this.deferBuf) this.persister.giveDeferBuffer(this.deferBuf);
    this.deferBuf = undefined;
  }

  private closeRun(): void {
    if (!this.runBuf) return;
    this.iov.push(this.runBuf.subarray(this.runStart, this.runEnd));
    this.runBuf = undefined;
  }
}
