/**
 * The ready messages of one durable queue, on disk, with only two windows of them in memory.
 *
 * Every pushed message is appended to the queue's active segment file by its SegmentWriter
 * (transient ones too, so a backlog of any kind can page; only persistent ones are recovered and
 * only they wait for fdatasync before whenDurable fires). The ready stream, in seq order, is
 *
 *     requeued (heap)  ++  head (memory)  ++  region (disk only)  ++  tail (memory)
 *
 * - requeued: envelopes that went out and came back; their seqs are below everything never
 *   delivered, so serving them first puts each back at its original position.
 * - head: the next messages to deliver, at most `windowMessages` / `windowBytes`.
 * - region: the middle of a long queue, only on disk; when head runs dry its SegmentReader reads
 *   it back from a cursor, sequentially, a chunk (readChunkBytes) at a time, without copying records.
 * - tail: the latest pushes, at most one window, so a consumer that keeps up never reads back.
 * A queue shorter than a window lives in head alone and never touches the disk except to append.
 *
 * Settling (ack, reject, purge) adds an ack range to the segment's AckLog (ack-log.ts: coalesced,
 * written once per event-loop turn) and deletes the segment once nothing in it is live.
 * Each file format has one module that writes and reads it: record.ts with segment-writer.ts and
 * segment-reader.ts (and recovery.ts after a crash) for `.seg`, ack-log.ts for `.ack`,
 * delivered-mark.ts for `delivered`.
 *
 * Redelivered flag across a crash: shift() tells the queue's DeliveredMark (delivered-mark.ts)
 * before a message can reach a socket; a recovered message at or below the mark comes back
 * redelivered=true.
 */
import fs from 'node:fs';
import type { Envelope, Message } from '../broker/message.js';
import type { MessageList } from '../broker/message-list.js';
import { readTimestampProperty } from '../protocol/properties.js';
import { BACKLOG_BYTES, backlogChanged, backlogCount } from '../memory/body-slabs.js';
import type { CleanSegment } from './clean-shutdown.js';
import type { DataDirChanges } from '../data-dir-changes.js';
import { Deque } from './deque.js';
import type { StoreLogger } from './logger.js';
import type { Persister, WriteClient } from './persister.js';
import { DeliveredMark } from './delivered-mark.js';
import { Segment } from './segment.js';
import { SegmentReader, type SegmentSource } from './segment-reader.js';
import { SegmentWriter } from './segment-writer.js';
import { COMPACT_BELOW_LIVE, type CompactionHost } from './segment-compactor.js';
import { StoredEnvelope } from './stored-envelope.js';
import { SeqHeap } from './seq-heap.js';

export interface DurableListOptions {
  /** Most envelopes kept in memory at the head, and again at the tail. */
  windowMessages: number;
  /** Most body+properties bytes kept in memory at the head, and again at the tail. */
  windowBytes: number;
  /** Start a new segment file once the active one reaches this size. */
  segmentBytes: number;
  /** Read-back chunk size. */
  readChunkBytes: number;
  /** All backlogged lists' windows together, beyond which each list's shrink (ALL_WINDOWS_BYTES). */
  allWindowsBytes: number;
  /**
   * A list for a non-durable queue: messages that fit in the head window are never written (a
   * consumer that keeps up costs no I/O at all); beyond it they are paged to segment files like a
   * durable queue's, but nothing is ever fsynced, no ack or delivered-mark files are kept, the
   * directory is created at the first page-out, and it is removed at close (and any leftover at the
   * next start): transient lists are never recovered.
   */
  transient?: boolean;
}

/**
 * The windows of all lists holding a backlog, head and tail together, bodies and properties. A flood
 * of many queues would otherwise cost each its two full windows (100 flooded transient queues of
 * 1 KiB messages: 769 MiB of RSS); beyond this each list's windows shrink in proportion, down to
 * MIN_WINDOW_BYTES / MIN_WINDOW_MESSAGES (reached at 512 backlogged queues; only beyond that does
 * the windows' memory grow with the queue count again). A list's head already filled is not written
 * out when its share shrinks (a transient head is in no file): it shrinks as it is consumed; the tail
 * is trimmed at the next push.
 */
export const ALL_WINDOWS_BYTES = 256 * 1024 * 1024;
const MIN_WINDOW_BYTES = BACKLOG_BYTES;
const MIN_WINDOW_MESSAGES = 128;

export const DEFAULT_LIST_OPTIONS: DurableListOptions = {
  windowMessages: 2048,
  windowBytes: 4 * 1024 * 1024,
  segmentBytes: 16 * 1024 * 1024,
  readChunkBytes: 1024 * 1024,
  allWindowsBytes: ALL_WINDOWS_BYTES,
};

/** Ack files kept open per queue (acks cluster at the head, in one or two segments). */
const OPEN_ACK_FILES = 2;
/**
 * A durable queue whose consumers keep up is drained at almost every sweep: its active segment is
 * deleted then only once no message was pushed since the previous sweep, or once it holds this
 * much. Deleting it at every sweep made each busy queue create a segment file and an ack file
 * every 2 s (file creation is a journaled metadata change that can wait behind the fdatasyncs of
 * group commit, on the event loop: with 100 busy queues, 100 creations per sweep).
 */
const DRAINED_SEGMENT_KEEP_BYTES = 4 * 1024 * 1024;
/** Journaled ack records an ack log keeps before a flush appends them to its file (16 bytes each). */
const ACK_DEFER_BYTES = 4096;

/** What recovery found in a queue directory. */
export interface RecoveredQueueState {
  segments: Segment[];
  nextSeq: number;
  /** Recovered messages with seq <= mark come back redelivered. */
  mark: number;
  /** The mark file was damaged (mark is then the highest seq): write a good one at once. */
  markDamaged: boolean;
  length: number;
  bytes: number;
  /** The first live message's accept time and timestamp property, read during the scan. */
  head?: HeadStamp | undefined;
}

/** What the queue reports of its head message while the head is only on disk (right after recovery). */
export interface HeadStamp {
  /** ms since epoch when the broker accepted it. */
  acceptedAt: number;
  /** Its timestamp property, seconds. */
  timestamp: number | undefined;
}

function memorySize(envelope: Envelope): number {
  return messageMemorySize(envelope.message);
}

function messageMemorySize(message: Message): number {
  return message.body.length + message.rawProperties.length;
}

export class DurableMessageList implements MessageList, WriteClient, SegmentSource, CompactionHost {
  private _length = 0;
  private _bytes = 0;
  protected nextSeq: number;
  /** All segments, ascending firstSeq; the last one is `active` once something was pushed. */
  private segments: Segment[];
  private active: Segment | undefined;

  private readonly requeued: SeqHeap;
  private readonly head = new Deque<StoredEnvelope>();
  private headBytes = 0;
  private readonly tail = new Deque<StoredEnvelope>();
  private tailBytes = 0;
  /** The head window filled up: new pushes go to the tail, whose overflow becomes region. */
  private paging = false;
  /** Paging, or BACKLOG_BYTES in the head: published bodies go to slabs meanwhile (body-slabs.ts). */
  private backlog = false;
  /** Ready messages only on disk, between head and tail, and their body bytes. */
  private regionCount = 0;
  private regionBytes = 0;
  /** nextSeq at the previous sweep (releaseDrainedSegment): nothing was pushed since if it is the same. */
  private seqAtSweep = 0;
  /** Messages written to / read back from the segment files since the list was opened. */
  diskWrites = 0;
  diskReads = 0;
  /** Reads the region back from the segment files. */
  private readonly reader: SegmentReader;

  /** Buffers the active segment's records until the persister's once-per-turn flush. */
  private readonly writer: SegmentWriter;
  private readonly ackDirty = new Set<Segment>();
  /** Segments whose ack logs hold journaled records not yet in their files (AckLog.defer). */
  private readonly ackDeferred = new Set<Segment>();
  /** What the persister calls to write them (journal checkpoint) and to forget this list once it holds none. */
  private readonly deferredAcks = {
    writeDeferred: (done: (ok: boolean) => void): void => done(this.writeDeferredAcks()),
    writeDeferredNow: (): boolean => this.writeDeferredAcks(),
    releaseIdleBuffer: (): boolean => this.ackDeferred.size === 0,
  };
  private readonly openAckSegments: Segment[] = [];
  /** Group-commit round that covers the latest persistent push. */
  private needRound = 0;

  protected readonly mark: DeliveredMark;
  /**
   * After recovery every ready message is in the region, none in memory: what the scan saw of the
   * first one stands in for the head until the first read-back. Otherwise the head window is never
   * empty while the list pages (shift() refills it), so the head is always in memory.
   */
  private recoveredHead: HeadStamp | undefined;
  protected closed = false;
  private readonly transient: boolean;
  /**
   * Every message is recovered after a restart, whatever its delivery mode: a quorum queue's, as
   * RabbitMQ's quorum queues keep every message (set by the queue's declaration, also on a recovered list).
   */
  persistAll = false;
  /** Replication's change feed (cluster leader, durable lists only). */
  readonly changes: DataDirChanges | undefined;

  constructor(
    readonly vhost: string,
    readonly name: string,
    /** This queue's directory. */
    readonly dir: string,
    readonly persister: Persister,
    private readonly log: StoreLogger,
    private readonly options: DurableListOptions,
    recovered: RecoveredQueueState | undefined,
    /**
     * Told when the list is closed or destroyed, so the store forgets it; after a clean close, with
     * what the clean-shutdown marker must say about its segments.
     */
    private readonly onGone: (list: DurableMessageList, clean?: CleanSegment[]) => void,
  ) {
    this.requeued = new SeqHeap();
    this.transient = options.transient === true;
    this.writer = new SegmentWriter(persister, !this.transient, this);
    const recoveredMark = recovered?.mark ?? 0;
    this.reader = new SegmentReader(this, log, name, options.readChunkBytes, recoveredMark);
    // A transient list has a mark object but never writes it (shift() skips it).
    this.changes = this.transient ? undefined : persister.changes;
    this.mark = new DeliveredMark(dir, log, name, recoveredMark, recovered?.markDamaged ?? false, this.changes);
    if (recovered) {
      this.segments = recovered.segments;
      this.nextSeq = recovered.nextSeq;
      this._length = recovered.length;
      this._bytes = recovered.bytes;
      this.regionCount = recovered.length;
      this.regionBytes = recovered.bytes;
      this.setPaging(recovered.length > 0);
      this.recoveredHead = recovered.head;
      const first = this.segments[0];
      if (first) this.reader.reset(first, 0, first.firstSeq);
    } else {
      this.segments = [];
      this.nextSeq = 1;
    }
  }

  get length(): number {
    return this._length;
  }

  get bytes(): number {
    return this._bytes;
  }

  /** Bytes of segment files on disk (ack and mark files not counted). */
  get diskBytes(): number {
    let n = 0;
    for (const s of this.segments) n += s.end;
    return n;
  }

  /** Ready messages only on disk (none of their bytes in memory). */
  get pagedOut(): number {
    return this.regionCount;
  }

  get pagedOutBytes(): number {
    return this.regionBytes;
  }

  get segmentCount(): number {
    return this.segments.length;
  }

  /** Envelopes held in memory by the list itself (windows + requeued), for tests of the bound. */
  get inMemory(): number {
    return this.head.length + this.tail.length + this.requeued.length;
  }

  push(message: Message): Envelope {
    if (this.closed) throw new Error(`queue '${this.name}' in vhost '${this.vhost}' is closed`);
    const seq = this.nextSeq++;
    if (this.transient && !this.paging && this.headHasRoom(messageMemorySize(message))) {
      // Not written at all: it leaves memory only by being delivered (or purged).
      const envelope = new StoredEnvelope(seq, message, false, undefined, -1);
      this._length++;
      this._bytes += message.body.length;
      this.head.push(envelope);
      this.headBytes += messageMemorySize(message);
      if (!this.backlog && this.headBytes >= BACKLOG_BYTES) this.noteBacklog();
      return envelope;
    }
    const segment = this.writableSegment(seq);
    const recordLength = this.writer.append(seq, message, message.persistent || this.persistAll);
    this.diskWrites++;
    const body = message.body;
    const recordOffset = segment.end;
    segment.end += recordLength;
    segment.endSeq = seq + 1;
    segment.live++;
    segment.records++;
    if (this.recovers(message)) {
      segment.persistentRecords++;
      segment.persistentBodyBytes += body.length;
      this.needRound = this.persister.openRoundId;
    }
    this.persister.markDirty(this);

    const envelope = new StoredEnvelope(seq, message, false, segment, recordOffset);
    this._length++;
    this._bytes += body.length;
    this.enqueue(envelope);
    return envelope;
  }

  /** The message's record is recovered after a restart (so its ack must be recorded too). */
  private recovers(message: Message): boolean {
    return !this.transient && (message.persistent || this.persistAll);
  }

  shift(): Envelope | undefined {
    let envelope = this.requeued.pop() as StoredEnvelope | undefined;
    if (!envelope) {
      if (this.head.length === 0) this.refill();
      envelope = this.head.shift();
      if (!envelope) return undefined;
      this.headBytes -= memorySize(envelope);
      if (this.backlog && this.headBytes < BACKLOG_BYTES) this.noteBacklog();
      if (!this.transient) this.mark.delivered(envelope.seq);
    }
    this._length--;
    this._bytes -= envelope.message.body.length;
    // Read the next window now rather than at the next shift: the same read, but the head (its age,
    // its timestamp) stays in memory for whoever looks at the queue meanwhile.
    if (this.head.length === 0 && this.paging) this.refill();
    return envelope;
  }

  peek(): Envelope | undefined {
    const requeued = this.requeued.peek();
    if (requeued) return requeued;
    if (this.head.length === 0) this.refill();
    return this.head.peek();
  }

  oldestAcceptedAt(): number | undefined {
    const head = this.headInMemory();
    if (head) return head.message.timestamp;
    return this._length > 0 ? this.headFromDisk()?.acceptedAt : undefined;
  }

  headTimestamp(): number | undefined {
    const head = this.headInMemory();
    if (head) return readTimestampProperty(head.message.rawProperties);
    return this._length > 0 ? this.headFromDisk()?.timestamp : undefined;
  }

  /** The next message to deliver if it is in memory (peek() without its read-back). */
  private headInMemory(): Envelope | undefined {
    return this.requeued.peek() ?? this.head.peek() ?? (this.regionCount === 0 ? this.tail.peek() : undefined);
  }

  /** The head is only on disk: after recovery the scan's note; otherwise (never expected) read it back. */
  private headFromDisk(): HeadStamp | undefined {
    if (this.recoveredHead) return this.recoveredHead;
    const head = this.peek();
    return head && { acceptedAt: head.message.timestamp, timestamp: readTimestampProperty(head.message.rawProperties) };
  }

  requeue(envelope: Envelope): void {
    envelope.redelivered = true;
    this.requeued.push(envelope);
    this._length++;
    this._bytes += envelope.message.body.length;
  }

  settle(envelope: Envelope): void {
    if (this.closed) return;
    if (envelope instanceof StoredEnvelope) {
      if (envelope.done) return;
      envelope.done = true;
    }
    const segment = envelope instanceof StoredEnvelope ? envelope.segment : this.segmentFor(envelope.seq);
    if (!segment || segment.deleted) return;
    segment.live--;
    // Transient records are dropped by recovery anyway: no need to record their acks.
    if (this.recovers(envelope.message)) this.addAck(segment, envelope.seq, 1);
    if (segment.live <= 0 && segment !== this.active) this.retire(segment);
  }

  purge(): number {
    if (this.closed) return 0;
    const count = this._length;
    for (const envelope of this.requeued.drain()) this.settleQuietly(envelope as StoredEnvelope);
    for (const envelope of this.head) this.settleQuietly(envelope);
    if (this.regionCount > 0) {
      const regionEnd = this.tail.length > 0 ? this.tail.peek()!.seq : this.nextSeq;
      let taken = 0;
      for (const segment of this.segments) {
        const from = Math.max(segment.firstSeq, this.reader.firstUnread);
        const to = Math.min(segment.endSeq, regionEnd);
        if (from >= to) continue;
        const n = segment.takeLive(from, to);
        taken += n;
        segment.live -= n;
        if (!this.transient) this.addAck(segment, from, to - from);
      }
      if (taken !== this.regionCount) {
        this.log('warn', 'purge found a different count on disk than expected', {
          queue: this.name,
          vhost: this.vhost,
          expected: this.regionCount,
          found: taken,
        });
      }
    }
    for (const envelope of this.tail) this.settleQuietly(envelope);
    this.head.clear();
    this.tail.clear();
    this.headBytes = this.tailBytes = 0;
    this.regionCount = this.regionBytes = 0;
    this.setPaging(false);
    this.reader.dropChunk();
    this.recoveredHead = undefined;
    this._length = 0;
    this._bytes = 0;
    for (const segment of this.segments.slice()) {
      if (segment.live <= 0 && segment !== this.active) this.retire(segment);
    }
    return count;
  }

  whenDurable(callback: () => void): void {
    if (this.closed || this.needRound <= this.persister.completedRoundId) queueMicrotask(callback);
    else this.persister.onDurable(this.needRound, callback);
  }

  destroy(): void {
    if (this.closed) return;
    this.closed = true;
    this.persister.forget(this);
    this.closeFiles();
    if (!this.transient) this.persister.forgetFile(this.dir);
    fs.rmSync(this.dir, { recursive: true, force: true });
    this.changes?.remove(this.dir);
    this.releaseMemory();
    this.onGone(this);
  }

  close(): void {
    if (this.closed) return;
    if (this.transient) return this.destroy();
    let clean = this.flushWrites();
    if (!clean) {
      this.log('error', 'could not write the last messages of a queue at close', { queue: this.name, vhost: this.vhost });
    }
    this.closed = true;
    this.persister.forget(this);
    try {
      this.mark.closeExact();
      for (const segment of this.segments) {
        // The active segment, and rotated ones whose group-commit round has not run yet.
        if (segment.fd >= 0 && (segment === this.active || segment.syncRounds > 0)) fs.fdatasyncSync(segment.fd);
        segment.acks.sync();
      }
    } catch (err) {
      clean = false;
      this.log('error', 'sync at close failed', { queue: this.name, vhost: this.vhost, error: (err as Error).message });
    }
    this.closeFiles();
    this.releaseMemory();
    this.onGone(this, clean ? this.cleanSegments() : undefined);
  }

  /**
   * Disk comes back: an active segment in which nothing is live any more (everything consumed and
   * settled, or purged) is deleted now instead of when it fills up, so a drained queue holds no
   * file at all (the next push starts a new one). Called by the store's sweep, every few seconds,
   * not on every settle: a queue whose consumers keep up would otherwise create a file per message.
   * A durable queue still being published to keeps a small one (DRAINED_SEGMENT_KEEP_BYTES).
   */
  releaseDrainedSegment(): void {
    const active = this.active;
    const pushed = this.nextSeq !== this.seqAtSweep;
    this.seqAtSweep = this.nextSeq;
    this.mark.closeIfIdle();
    if (!pushed && !this.closed) this.closeIdleFiles();
    if (this.closed || !active || active.live > 0 || this.paging) return;
    if (pushed && !this.transient && active.end < DRAINED_SEGMENT_KEEP_BYTES) return;
    if (!this.flushWrites()) return;
    active.endSeq = this.nextSeq;
    this.active = undefined;
    this.retire(active);
  }

  /**
   * Nothing was pushed since the last sweep: the active segment's fd and the ack files' fds are
   * closed (each is opened again by its next write). A queue holding messages would otherwise keep
   * its files open for as long as it holds them: thousands of idle durable queues, thousands of
   * descriptors, and under a low limit the next queue's open fails. A closing fd waits for the
   * rounds and pool writes still using it (Segment.closeFd).
   */
  private closeIdleFiles(): void {
    const active = this.active;
    if (active && !this.writer.hasBuffered) active.closeFd();
    for (const segment of this.openAckSegments) segment.acks.close();
    this.openAckSegments.length = 0;
  }

  /**
   * Segments worth compacting now (segment-compactor.ts): not the active one, every live message in
   * them already read into memory (the list never reads them again; they are kept for recovery
   * only), and fewer than a quarter of their records live.
   */
  compactionCandidates(now: number): Segment[] {
    if (this.closed || this.transient) return [];
    const below = this.compactableBelow();
    const out: Segment[] = [];
    for (const s of this.segments) {
      if (s.endSeq > below) break;
      if (!s.compacting && this.worthCompacting(s) && s.compactRetryAt <= now) out.push(s);
    }
    return out;
  }

  /** CompactionHost: checked again before each step, since the list may have moved on. */
  stillCompactable(segment: Segment): boolean {
    return !this.closed && segment.endSeq <= this.compactableBelow() && this.worthCompacting(segment);
  }

  /** CompactionHost: the file is replaced, its cached chunk and read fd must go. */
  replacing(segment: Segment): void {
    this.reader.forget(segment);
  }

  private worthCompacting(s: Segment): boolean {
    return (
      s !== this.active &&
      !s.deleted &&
      s.live > 0 &&
      s.live < s.records * COMPACT_BELOW_LIVE &&
      s.live * 2 <= s.compactSkippedAtLive
    );
  }

  /** Seqs below this are never read from disk again: ready ones are in the head window or requeued, the rest out with consumers. */
  private compactableBelow(): number {
    if (!this.paging) return this.nextSeq;
    if (this.regionCount > 0) return this.reader.firstUnread;
    return this.tail.peek()?.seq ?? this.nextSeq;
  }

  /** The segments the clean-shutdown marker can vouch for: all written, whole-file crc known. */
  private cleanSegments(): CleanSegment[] {
    const out: CleanSegment[] = [];
    for (const s of this.segments) {
      if (s.deleted || s.fileCrc === undefined || s.written !== s.end || s.acks.hasPending || s.acks.hasDeferred) continue;
      out.push({
        firstSeq: s.firstSeq,
        size: s.written,
        crc: s.fileCrc,
        endSeq: s.endSeq,
        ackSize: s.acks.size,
        ackCrc: s.acks.crc,
        persistentRecords: s.persistentRecords,
        persistentBodyBytes: s.persistentBodyBytes,
      });
    }
    return out;
  }

  /**
   * WriteClient: write the buffered records and ack ranges (called once per turn by the persister,
   * with `mayDefer`: records the round journals may stay in memory; without it, as readers, the
   * compactor, rotation and close need, the segment file is complete afterwards).
   */
  flushWrites(mayDefer = false): boolean {
    try {
      const segment = this.active;
      if (segment) this.writer.flushTo(segment, mayDefer);
      for (const seg of this.ackDirty) {
        if (!seg.deleted && seg.acks.hasPending) this.writeAcks(seg, mayDefer);
        this.ackDirty.delete(seg);
      }
      if (!mayDefer) for (const seg of this.ackDeferred) this.writeAcks(seg, false);
      return true;
    } catch (err) {
      this.log('error', 'write to the message store failed; will retry', {
        queue: this.name,
        vhost: this.vhost,
        error: (err as Error).message,
      });
      this.writer.keepForRetry();
      return false;
    }
  }

  // ---- writing ----

  /** The active segment, rotated first if it is full (or created if there is none). */
  private writableSegment(seq: number): Segment {
    const active = this.active;
    if (active && active.end < this.options.segmentBytes) return active;
    if (active) {
      // Its bytes must go to its own file before records start going to the next one.
      if (!this.flushWrites()) return active;
      active.endSeq = seq;
      active.closeFd();
      this.active = undefined;
      if (active.live <= 0) this.retire(active);
    }
    const segment = new Segment(this.dir, seq);
    segment.endSeq = seq;
    if (this.transient) {
      // Created at the first page-out; never synced (nothing in it survives a restart).
      if (this.segments.length === 0) fs.mkdirSync(this.dir, { recursive: true });
    } else {
      this.persister.needsPathSync(this.dir);
    }
    segment.openForAppend();
    this.changes?.truncate(segment.path, 0);
    this.segments.push(segment);
    this.active = segment;
    return segment;
  }

  private addAck(segment: Segment, seq: number, count: number): void {
    segment.acks.add(seq, count);
    this.ackDirty.add(segment);
    this.persister.markDirty(this);
  }

  /**
   * Append a segment's pending ack ranges (and any it deferred) to its file, or, when `mayDefer` and
   * the round journals its writes, hand them to the journal and keep them for a later write.
   */
  private writeAcks(segment: Segment, mayDefer: boolean): void {
    const acks = segment.acks;
    let opened: boolean;
    if (mayDefer && acks.deferredBytes < ACK_DEFER_BYTES && this.persister.journalsRound()) {
      opened = acks.defer((offset, records) => this.persister.journalAck(acks, offset, records));
      this.ackDeferred.add(segment);
      this.persister.deferring(this.deferredAcks);
    } else {
      this.ackDeferred.delete(segment);
      if (segment.deleted) return;
      const before = acks.size;
      const t0 = performance.now();
      opened = acks.write(this.changes);
      this.persister.wrote(acks.size - before, performance.now() - t0);
    }
    if (!opened) return;
    // Acks cluster at the head, in one or two segments: keep only the latest few files open.
    this.openAckSegments.push(segment);
    if (this.openAckSegments.length > OPEN_ACK_FILES) this.openAckSegments.shift()!.acks.close();
  }

  /** Journal checkpoint: every ack log appends the records it deferred; false if a write failed (kept). */
  private writeDeferredAcks(): boolean {
    if (this.closed) {
      // Destroyed (nothing to keep), or closed after a failed flush (acks are never needed for safety).
      this.ackDeferred.clear();
      return true;
    }
    try {
      for (const seg of this.ackDeferred) this.writeAcks(seg, false);
      return true;
    } catch (err) {
      this.log('error', 'writing journaled acks to their files failed; will retry', { queue: this.name, vhost: this.vhost, error: (err as Error).message });
      return false;
    }
  }

  // ---- the windows ----

  /** Bodies of the whole broker go to slabs that give memory back while any list holds a backlog (body-slabs.ts). */
  private setPaging(paging: boolean): void {
    this.paging = paging;
    this.noteBacklog();
  }

  private noteBacklog(): void {
    const backlog = this.paging || (this.headBytes >= BACKLOG_BYTES && !this.closed);
    if (backlog === this.backlog) return;
    this.backlog = backlog;
    backlogChanged(backlog);
  }

  /** This list's window (head or tail) in bytes: the configured one, or its share of ALL_WINDOWS_BYTES. */
  private windowBytes(): number {
    const configured = this.options.windowBytes;
    const budget = this.options.allWindowsBytes;
    const all = backlogCount() * 2 * configured;
    if (all <= budget) return configured;
    return Math.min(configured, Math.max(MIN_WINDOW_BYTES, (configured * budget) / all));
  }

  /** This list's window in messages, shrunk in the same proportion as its bytes. */
  private windowMessages(windowBytes: number): number {
    const { windowMessages, windowBytes: configured } = this.options;
    if (windowBytes === configured) return windowMessages;
    return Math.min(windowMessages, Math.max(MIN_WINDOW_MESSAGES, Math.floor((windowMessages * windowBytes) / configured)));
  }

  /** A message of `size` bytes still fits in the head window. */
  private headHasRoom(size: number): boolean {
    const n = this.head.length;
    if (n === 0) return true;
    const windowBytes = this.windowBytes();
    return n < this.windowMessages(windowBytes) && this.headBytes + size <= windowBytes;
  }

  private enqueue(envelope: StoredEnvelope): void {
    const size = memorySize(envelope);
    if (!this.paging) {
      if (this.headHasRoom(size)) {
        this.head.push(envelope);
        this.headBytes += size;
        if (!this.backlog && this.headBytes >= BACKLOG_BYTES) this.noteBacklog();
        return;
      }
      this.setPaging(true);
    }
    this.tail.push(envelope);
    this.tailBytes += size;
    const windowBytes = this.windowBytes();
    const windowMessages = this.windowMessages(windowBytes);
    while (this.tail.length > windowMessages || (this.tailBytes > windowBytes && this.tail.length > 1)) {
      this.pageOut(this.tail.shift()!);
    }
  }

  /** The oldest tail envelope leaves memory: it is now only in its segment file. */
  private pageOut(envelope: StoredEnvelope): void {
    this.tailBytes -= memorySize(envelope);
    // Tail envelopes were pushed while paging, so they are always written.
    if (this.regionCount === 0) this.reader.reset(envelope.segment!, envelope.offset, envelope.seq);
    this.regionCount++;
    this.regionBytes += envelope.message.body.length;
  }

  /** Fill the head window from the region (disk), then from the tail. */
  private refill(): void {
    if (!this.paging) return;
    this.recoveredHead = undefined;
    const windowBytes = this.windowBytes();
    const windowMessages = this.windowMessages(windowBytes);
    while (this.head.length < windowMessages && (this.head.length === 0 || this.headBytes < windowBytes)) {
      let envelope: StoredEnvelope | undefined;
      if (this.regionCount > 0) {
        envelope = this.reader.next();
        if (!envelope) {
          this.log('error', 'messages expected on disk were not found; dropping them from the count', {
            queue: this.name,
            vhost: this.vhost,
            missing: this.regionCount,
          });
          this._length -= this.regionCount;
          this._bytes -= this.regionBytes;
          this.regionCount = this.regionBytes = 0;
          continue;
        }
        this.regionCount--;
        this.regionBytes -= envelope.message.body.length;
        this.diskReads++;
      } else {
        envelope = this.tail.shift();
        if (!envelope) break;
        this.tailBytes -= memorySize(envelope);
      }
      this.head.push(envelope);
      this.headBytes += memorySize(envelope);
    }
    if (this.regionCount === 0 && this.tail.length === 0) {
      this.setPaging(false);
      this.reader.dropChunk();
    }
  }

  // ---- segments ----

  private settleQuietly(envelope: StoredEnvelope): void {
    if (envelope.done) return;
    envelope.done = true;
    const segment = envelope.segment;
    if (!segment || segment.deleted) return;
    segment.live--;
    if (this.recovers(envelope.message)) this.addAck(segment, envelope.seq, 1);
  }

  /** Every record in it is settled: give the disk space back. */
  private retire(segment: Segment): void {
    const i = this.segments.indexOf(segment);
    if (i >= 0) this.segments.splice(i, 1);
    this.ackDirty.delete(segment);
    this.ackDeferred.delete(segment);
    const open = this.openAckSegments.indexOf(segment);
    if (open >= 0) this.openAckSegments.splice(open, 1);
    this.reader.forget(segment);
    if (segment.journalPath) this.persister.forgetFile(segment.path);
    segment.remove((err) => this.log('warn', 'could not delete a segment file', { file: segment.path, error: err.message }), this.changes);
  }

  /** The segment holding seq (last one with firstSeq <= seq). */
  private segmentFor(seq: number): Segment | undefined {
    const s = this.segments;
    let lo = 0;
    let hi = s.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (s[mid]!.firstSeq <= seq) lo = mid + 1;
      else hi = mid;
    }
    return lo > 0 ? s[lo - 1] : undefined;
  }

  /** SegmentSource: a chunk was read back (rabbitmq_io_read_*). */
  noteRead(bytes: number, ms: number): void {
    this.persister.read(bytes, ms);
  }

  /** SegmentSource: the segment being appended to. */
  get activeSegment(): Segment | undefined {
    return this.active;
  }

  /** SegmentSource: the first segment after the one starting at `firstSeq`. */
  segmentAfter(firstSeq: number): Segment | undefined {
    for (const segment of this.segments) if (segment.firstSeq > firstSeq) return segment;
    return undefined;
  }

  private closeFiles(): void {
    this.mark.close();
    for (const segment of this.segments) {
      segment.acks.close();
      segment.closeFd();
    }
  }

  private releaseMemory(): void {
    this.setPaging(false);
    this.head.clear();
    this.tail.clear();
    this.requeued.drain();
    this.writer.clear();
    this.reader.dropChunk();
  }
}
