/**
 * The ready messages of one durable queue, on disk, with only two windows of them in memory.
 *
 * Every pushed message is appended to the queue's active segment file (transient ones too, so a
 * backlog of any kind can page; only persistent ones are recovered and only they wait for
 * fdatasync before whenDurable fires). The ready stream, in seq order, is
 *
 *     requeued (heap)  ++  head (memory)  ++  region (disk only)  ++  tail (memory)
 *
 * - requeued: envelopes that went out and came back; their seqs are below everything never
 *   delivered, so serving them first puts each back at its original position.
 * - head: the next messages to deliver, at most `windowMessages` / `windowBytes`.
 * - region: the middle of a long queue, only on disk; when head runs dry it is read back from the
 *   cursor, sequentially, a chunk (readChunkBytes) at a time. Records are sliced out of the chunk,
 *   not copied.
 * - tail: the latest pushes, at most one window, so a consumer that keeps up never reads back.
 * A queue shorter than a window lives in head alone and never touches the disk except to append.
 *
 * Settling (ack, reject, purge) appends an ack range to the segment's .ack file (coalesced, written
 * once per event-loop turn) and deletes the segment once nothing in it is live.
 *
 * Redelivered flag across a crash: the queue's `delivered` file holds a mark such that every
 * message ever shifted has seq <= mark. shift() only writes when it passes the mark, and then moves
 * it MARK_AHEAD seqs ahead, so it costs one 16-byte pwrite per MARK_AHEAD deliveries, and it is
 * written before the message can reach a socket. Since shift() always takes the lowest ready seq,
 * a recovered message with seq <= mark may have been delivered, and comes back redelivered=true;
 * at most MARK_AHEAD never-delivered messages per queue get the flag needlessly after a crash (the
 * spec allows it: the flag means "may have been delivered"). A clean close() writes the exact mark.
 * The mark is not fsynced, so it is exact for process crashes; after a power cut it can lag.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Message, type Envelope } from '../broker/message.js';
import type { MessageList } from '../broker/message-list.js';
import type { CleanSegment } from './clean-shutdown.js';
import { crc32, crc32Range } from './crc32.js';
import { Deque } from './deque.js';
import type { StoreLogger } from './logger.js';
import type { Persister, WriteClient } from './persister.js';
import {
  ACK_RECORD,
  BAD,
  MARK_FILE_BYTES,
  NEED_MORE,
  checkRecord,
  decodeRecord,
  encodeMark,
  headerUpperBound,
  recordSeq,
  resync,
  writeAckRecord,
  writeHeader,
} from './record.js';
import { Segment } from './segment.js';
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
}

export const DEFAULT_LIST_OPTIONS: DurableListOptions = {
  windowMessages: 2048,
  windowBytes: 4 * 1024 * 1024,
  segmentBytes: 16 * 1024 * 1024,
  readChunkBytes: 1024 * 1024,
};

/** Bodies up to this size are copied into the shared write slab; bigger ones are written from where they are. */
const COPY_BODY_MAX = 16 * 1024;
/** How far the delivered mark jumps ahead of the seq that passed it. */
export const MARK_AHEAD = 256;
/** Ack files kept open per queue (acks cluster at the head, in one or two segments). */
const OPEN_ACK_FILES = 2;
export const MARK_FILE = 'delivered';

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
}

/** An envelope that remembers where its record is, so settle() finds the segment at once. */
class StoredEnvelope implements Envelope {
  /** Settled or purged: a second settle is ignored instead of corrupting the live counts. */
  done = false;
  constructor(
    readonly seq: number,
    readonly message: Message,
    public redelivered: boolean,
    readonly segment: Segment,
    readonly offset: number,
  ) {}
}

function memorySize(envelope: Envelope): number {
  return envelope.message.body.length + envelope.message.rawProperties.length;
}

export class DurableMessageList implements MessageList, WriteClient {
  private _length = 0;
  private _bytes = 0;
  private nextSeq: number;
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
  /** Ready messages only on disk, between head and tail. */
  private regionCount = 0;
  /** Lowest seq the region can hold (for purge's ack ranges). */
  private regionFirstSeq = 0;
  /** Where the next region record is read from, and the last seq read there (for resync). */
  private cursorSeg: Segment | undefined;
  private cursorOff = 0;
  private cursorLastSeq = -1;
  /** The last chunk read; records are sliced from it, so it is never reused. */
  private chunk: Buffer | undefined;
  private chunkSeg: Segment | undefined;
  private chunkStart = 0;
  private chunkEnd = 0;

  /** Write buffer: iovecs for the active segment, and the open run in the shared slab. */
  private iov: Buffer[] = [];
  private runBuf: Buffer | undefined;
  private runStart = 0;
  private runEnd = 0;
  private pendingPersistent = false;
  private readonly ackDirty = new Set<Segment>();
  private readonly openAckSegments: Segment[] = [];
  /** Group-commit round that covers the latest persistent push. */
  private needRound = 0;

  private readonly recoveredMark: number;
  private markOnDisk: number;
  private highestShifted: number;
  private closed = false;

  constructor(
    readonly vhost: string,
    readonly name: string,
    /** This queue's directory. */
    readonly dir: string,
    private readonly persister: Persister,
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
    if (recovered) {
      this.segments = recovered.segments;
      this.nextSeq = recovered.nextSeq;
      this.recoveredMark = recovered.mark;
      this._length = recovered.length;
      this._bytes = recovered.bytes;
      this.regionCount = recovered.length;
      this.paging = recovered.length > 0;
      const first = this.segments[0];
      if (first) this.resetCursor(first, 0, first.firstSeq);
    } else {
      this.segments = [];
      this.nextSeq = 1;
      this.recoveredMark = 0;
    }
    this.markOnDisk = this.recoveredMark;
    this.highestShifted = this.recoveredMark;
    if (recovered?.markDamaged) {
      this.markOnDisk = -1;
      this.writeMark(this.recoveredMark);
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
    const segment = this.writableSegment(seq);
    const body = message.body;
    const props = message.rawProperties;
    const copyBody = body.length <= COPY_BODY_MAX;
    const upper = headerUpperBound(message.exchange, message.routingKey, props) + (copyBody ? body.length : 0);
    const persister = this.persister;
    const buf = persister.reserve(upper);
    const off = persister.slabPos;
    const headerLength = writeHeader(
      buf,
      off,
      seq,
      message.timestamp,
      message.persistent,
      message.exchange,
      message.routingKey,
      props,
      body.length,
    );
    let used = headerLength;
    let crc: number;
    if (copyBody) {
      used += body.copy(buf, off + headerLength);
      crc = crc32Range(buf, off + 8, off + used);
    } else {
      crc = crc32(body, crc32Range(buf, off + 8, off + used));
    }
    buf.writeUInt32LE(crc, off + 4);
    persister.commit(used);
    this.appendSlab(buf, off, off + used);
    if (!copyBody) this.appendOwn(body);

    const recordOffset = segment.end;
    segment.end += headerLength + body.length;
    segment.endSeq = seq + 1;
    segment.live++;
    if (message.persistent) {
      segment.persistentRecords++;
      segment.persistentBodyBytes += body.length;
      this.pendingPersistent = true;
      this.needRound = persister.openRoundId;
    }
    persister.markDirty(this);

    const envelope = new StoredEnvelope(seq, message, false, segment, recordOffset);
    this._length++;
    this._bytes += body.length;
    this.enqueue(envelope);
    return envelope;
  }

  shift(): Envelope | undefined {
    let envelope = this.requeued.pop() as StoredEnvelope | undefined;
    if (!envelope) {
      if (this.head.length === 0) this.refill();
      envelope = this.head.shift();
      if (!envelope) return undefined;
      this.headBytes -= memorySize(envelope);
      this.noteDelivered(envelope.seq);
    }
    this._length--;
    this._bytes -= envelope.message.body.length;
    return envelope;
  }

  peek(): Envelope | undefined {
    const requeued = this.requeued.peek();
    if (requeued) return requeued;
    if (this.head.length === 0) this.refill();
    return this.head.peek();
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
    if (envelope.message.persistent) this.addAck(segment, envelope.seq, 1);
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
        const from = Math.max(segment.firstSeq, this.regionFirstSeq);
        const to = Math.min(segment.endSeq, regionEnd);
        if (from >= to) continue;
        const n = segment.takeLive(from, to);
        taken += n;
        segment.live -= n;
        this.addAck(segment, from, to - from);
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
    this.regionCount = 0;
    this.paging = false;
    this.dropChunk();
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
    fs.rmSync(this.dir, { recursive: true, force: true });
    this.releaseMemory();
    this.onGone(this);
  }

  close(): void {
    if (this.closed) return;
    let clean = this.flushWrites();
    if (!clean) {
      this.log('error', 'could not write the last messages of a queue at close', { queue: this.name, vhost: this.vhost });
    }
    this.closed = true;
    this.persister.forget(this);
    try {
      // Exact mark on a clean stop: only what really went out comes back redelivered.
      if (this.highestShifted !== this.markOnDisk) this.writeMark(this.highestShifted, true);
      for (const segment of this.segments) {
        // The active segment, and rotated ones whose group-commit round has not run yet.
        if (segment.fd >= 0 && (segment === this.active || segment.syncRounds > 0)) fs.fdatasyncSync(segment.fd);
        if (segment.ackFd >= 0) fs.fdatasyncSync(segment.ackFd);
      }
    } catch (err) {
      clean = false;
      this.log('error', 'sync at close failed', { queue: this.name, vhost: this.vhost, error: (err as Error).message });
    }
    this.closeFiles();
    this.releaseMemory();
    this.onGone(this, clean ? this.cleanSegments() : undefined);
  }

  /** The segments the clean-shutdown marker can vouch for: all written, whole-file crc known. */
  private cleanSegments(): CleanSegment[] {
    const out: CleanSegment[] = [];
    for (const s of this.segments) {
      if (s.deleted || s.fileCrc === undefined || s.written !== s.end || s.pendingAcks.length > 0) continue;
      out.push({
        firstSeq: s.firstSeq,
        size: s.written,
        crc: s.fileCrc,
        endSeq: s.endSeq,
        ackSize: s.ackSize,
        ackCrc: s.ackCrc,
        persistentRecords: s.persistentRecords,
        persistentBodyBytes: s.persistentBodyBytes,
      });
    }
    return out;
  }

  /** WriteClient: write the buffered records and ack ranges (called once per turn by the persister). */
  flushWrites(): boolean {
    try {
      this.closeRun();
      const segment = this.active;
      if (this.iov.length > 0 && segment) {
        const total = segment.end - segment.written;
        writevAll(segment.fd, this.iov, segment.written, total);
        segment.written = segment.end;
        // One call per buffer written (not per record): the whole-file crc for the clean-shutdown marker.
        let fileCrc = segment.fileCrc;
        if (fileCrc !== undefined) for (const b of this.iov) fileCrc = crc32(b, fileCrc);
        segment.fileCrc = fileCrc;
        this.iov = [];
        if (this.pendingPersistent) this.persister.needsSync(segment);
        this.pendingPersistent = false;
      }
      for (const seg of this.ackDirty) {
        if (!seg.deleted && seg.pendingAcks.length > 0) this.writeAcks(seg);
        this.ackDirty.delete(seg);
      }
      return true;
    } catch (err) {
      this.log('error', 'write to the message store failed; will retry', {
        queue: this.name,
        vhost: this.vhost,
        error: (err as Error).message,
      });
      // The shared slab is reused after this flush: keep a private copy of what is still unwritten.
      if (this.iov.length > 0) this.iov = [Buffer.concat(this.iov)];
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
    segment.openForAppend();
    this.persister.needsDirSync(this.dir);
    this.segments.push(segment);
    this.active = segment;
    return segment;
  }

  private appendSlab(buf: Buffer, start: number, end: number): void {
    if (this.runBuf === buf && this.runEnd === start) {
      this.runEnd = end;
      return;
    }
    this.closeRun();
    this.runBuf = buf;
    this.runStart = start;
    this.runEnd = end;
  }

  private appendOwn(buf: Buffer): void {
    this.closeRun();
    this.iov.push(buf);
  }

  private closeRun(): void {
    if (!this.runBuf) return;
    this.iov.push(this.runBuf.subarray(this.runStart, this.runEnd));
    this.runBuf = undefined;
  }

  private addAck(segment: Segment, seq: number, count: number): void {
    segment.addAck(seq, count);
    this.ackDirty.add(segment);
    this.persister.markDirty(this);
  }

  private writeAcks(segment: Segment): void {
    const ranges = segment.pendingAcks;
    const buf = Buffer.allocUnsafe((ranges.length / 2) * ACK_RECORD);
    for (let i = 0, off = 0; i < ranges.length; i += 2, off += ACK_RECORD) {
      writeAckRecord(buf, off, ranges[i]!, ranges[i + 1]!);
    }
    if (segment.ackFd < 0) {
      segment.ackFd = fs.openSync(segment.ackPath, 'a');
      this.openAckSegments.push(segment);
      if (this.openAckSegments.length > OPEN_ACK_FILES) this.openAckSegments.shift()!.closeAckFd();
    }
    let written = 0;
    while (written < buf.length) written += fs.writeSync(segment.ackFd, buf, written, buf.length - written);
    segment.pendingAcks = [];
    segment.ackSize += buf.length;
    if (segment.ackCrc !== undefined) segment.ackCrc = crc32(buf, segment.ackCrc);
  }

  private noteDelivered(seq: number): void {
    if (seq > this.highestShifted) this.highestShifted = seq;
    if (seq > this.markOnDisk) this.writeMark(seq + MARK_AHEAD);
  }

  /** Rewrite the delivered mark in place (open, pwrite 16 bytes, close: it happens once per MARK_AHEAD deliveries). */
  private writeMark(mark: number, sync = false): void {
    if (mark === this.markOnDisk && !sync) return;
    let fd = -1;
    try {
      fd = fs.openSync(path.join(this.dir, MARK_FILE), fs.constants.O_RDWR | fs.constants.O_CREAT);
      fs.writeSync(fd, encodeMark(mark), 0, MARK_FILE_BYTES, 0);
      if (sync) fs.fdatasyncSync(fd);
      this.markOnDisk = mark;
    } catch (err) {
      this.log('error', 'could not write the delivered mark', { queue: this.name, error: (err as Error).message });
    } finally {
      if (fd >= 0) fs.closeSync(fd);
    }
  }

  // ---- the windows ----

  private enqueue(envelope: StoredEnvelope): void {
    const size = memorySize(envelope);
    const { windowMessages, windowBytes } = this.options;
    if (!this.paging) {
      if (this.head.length === 0 || (this.head.length < windowMessages && this.headBytes + size <= windowBytes)) {
        this.head.push(envelope);
        this.headBytes += size;
        return;
      }
      this.paging = true;
    }
    this.tail.push(envelope);
    this.tailBytes += size;
    while (this.tail.length > windowMessages || (this.tailBytes > windowBytes && this.tail.length > 1)) {
      this.pageOut(this.tail.shift()!);
    }
  }

  /** The oldest tail envelope leaves memory: it is now only in its segment file. */
  private pageOut(envelope: StoredEnvelope): void {
    this.tailBytes -= memorySize(envelope);
    if (this.regionCount === 0) this.resetCursor(envelope.segment, envelope.offset, envelope.seq);
    this.regionCount++;
  }

  private resetCursor(segment: Segment, offset: number, seq: number): void {
    if (this.cursorSeg && this.cursorSeg !== segment && this.cursorSeg !== this.active) this.cursorSeg.closeFd();
    this.cursorSeg = segment;
    this.cursorOff = offset;
    this.cursorLastSeq = seq - 1;
    this.regionFirstSeq = seq;
  }

  /** Fill the head window from the region (disk), then from the tail. */
  private refill(): void {
    if (!this.paging) return;
    const { windowMessages, windowBytes } = this.options;
    while (this.head.length < windowMessages && (this.head.length === 0 || this.headBytes < windowBytes)) {
      let envelope: StoredEnvelope | undefined;
      if (this.regionCount > 0) {
        envelope = this.readNext();
        if (!envelope) {
          this.log('error', 'messages expected on disk were not found; dropping them from the count', {
            queue: this.name,
            vhost: this.vhost,
            missing: this.regionCount,
          });
          this._length -= this.regionCount;
          this.regionCount = 0;
          continue;
        }
        this.regionCount--;
      } else {
        envelope = this.tail.shift();
        if (!envelope) break;
        this.tailBytes -= memorySize(envelope);
      }
      this.head.push(envelope);
      this.headBytes += memorySize(envelope);
    }
    if (this.regionCount === 0 && this.tail.length === 0) {
      this.paging = false;
      this.dropChunk();
    }
  }

  /** The next live record at the cursor, as a new envelope; undefined if the disk has no more. */
  private readNext(): StoredEnvelope | undefined {
    for (;;) {
      const segment = this.cursorSeg;
      if (!segment) return undefined;
      if (segment.deleted || (this.cursorOff >= segment.end && segment !== this.active)) {
        const next = this.segmentAfter(segment.firstSeq);
        if (!next) return undefined;
        if (segment !== this.active) segment.closeFd();
        this.cursorSeg = next;
        this.cursorOff = 0;
        this.cursorLastSeq = next.firstSeq - 1;
        continue;
      }
      if (this.cursorOff >= segment.end) return undefined;
      if (this.cursorOff >= segment.written && !this.flushWrites()) return undefined;

      let length = this.checkAtCursor(segment, this.options.readChunkBytes);
      if (length === NEED_MORE) {
        const rel = this.cursorOff - this.chunkStart;
        const wanted = this.chunkEnd - this.cursorOff >= 4 ? this.chunk!.readUInt32LE(rel) : 0;
        if (this.cursorOff + wanted <= segment.written) {
          this.loadChunk(segment, this.cursorOff, Math.max(this.options.readChunkBytes, wanted));
          length = checkRecord(this.chunk!, 0, this.chunkEnd - this.chunkStart);
        }
      }
      if (length > 0 && recordSeq(this.chunk!, this.cursorOff - this.chunkStart) <= this.cursorLastSeq) length = BAD;
      if (length <= 0) {
        this.skipDamage(segment);
        continue;
      }
      const rel = this.cursorOff - this.chunkStart;
      const offset = this.cursorOff;
      const record = decodeRecord(this.chunk!, rel, length);
      this.cursorOff += length;
      this.cursorLastSeq = record.seq;
      if (!segment.isLive(record.seq)) continue;
      this.regionFirstSeq = record.seq + 1;
      const message = new Message(
        record.exchange,
        record.routingKey,
        record.rawProperties,
        record.body,
        record.persistent,
        record.timestamp,
      );
      return new StoredEnvelope(record.seq, message, record.seq <= this.recoveredMark, segment, offset);
    }
  }

  /** checkRecord at the cursor, loading a chunk there first if the cached one does not cover it. */
  private checkAtCursor(segment: Segment, chunkBytes: number): number {
    const off = this.cursorOff;
    if (this.chunkSeg !== segment || off < this.chunkStart || off + 12 > this.chunkEnd) {
      this.loadChunk(segment, off, chunkBytes);
    }
    return checkRecord(this.chunk!, off - this.chunkStart, this.chunkEnd - this.chunkStart);
  }

  private loadChunk(segment: Segment, offset: number, size: number): void {
    const n = Math.min(size, segment.written - offset);
    const buf = Buffer.allocUnsafeSlow(Math.max(n, 0));
    readFully(segment.readFd(), buf, offset);
    this.chunk = buf;
    this.chunkSeg = segment;
    this.chunkStart = offset;
    this.chunkEnd = offset + n;
  }

  private dropChunk(): void {
    this.chunk = undefined;
    this.chunkSeg = undefined;
  }

  /**
   * A damaged record at the cursor (recovery met the same damage and already reported it, unless
   * the file changed since): move to the next intact record, as recovery did, or to the segment end.
   */
  private skipDamage(segment: Segment): void {
    const from = this.cursorOff;
    this.loadChunk(segment, from, segment.written - from);
    const next = resync(this.chunk!, 0, this.chunkEnd - this.chunkStart, this.cursorLastSeq);
    this.cursorOff = next < 0 ? segment.end : from + next;
    this.log('debug', 'skipped damaged bytes while reading back', {
      queue: this.name,
      file: segment.path,
      offset: from,
      bytes: this.cursorOff - from,
    });
  }

  // ---- segments ----

  private settleQuietly(envelope: StoredEnvelope): void {
    if (envelope.done) return;
    envelope.done = true;
    const segment = envelope.segment;
    if (segment.deleted) return;
    segment.live--;
    if (envelope.message.persistent) this.addAck(segment, envelope.seq, 1);
  }

  /** Every record in it is settled: give the disk space back. */
  private retire(segment: Segment): void {
    const i = this.segments.indexOf(segment);
    if (i >= 0) this.segments.splice(i, 1);
    this.ackDirty.delete(segment);
    const open = this.openAckSegments.indexOf(segment);
    if (open >= 0) this.openAckSegments.splice(open, 1);
    if (this.chunkSeg === segment) this.dropChunk();
    segment.remove((err) => this.log('warn', 'could not delete a segment file', { file: segment.path, error: err.message }));
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

  private segmentAfter(firstSeq: number): Segment | undefined {
    for (const segment of this.segments) if (segment.firstSeq > firstSeq) return segment;
    return undefined;
  }

  private closeFiles(): void {
    for (const segment of this.segments) {
      segment.closeAckFd();
      segment.closeFd();
    }
  }

  private releaseMemory(): void {
    this.head.clear();
    this.tail.clear();
    this.requeued.drain();
    this.iov = [];
    this.runBuf = undefined;
    this.dropChunk();
  }
}

/** pwritev all of `buffers` (total bytes `total`) at `position`, finishing short writes. */
function writevAll(fd: number, buffers: Buffer[], position: number, total: number): void {
  let written = fs.writevSync(fd, buffers, position);
  while (written < total) {
    // Rare (signals, quotas): rebuild the iovecs from where the kernel stopped.
    let skip = written;
    const rest: Buffer[] = [];
    for (const b of buffers) {
      if (skip >= b.length) skip -= b.length;
      else {
        rest.push(skip > 0 ? b.subarray(skip) : b);
        skip = 0;
      }
    }
    const n = fs.writevSync(fd, rest, position + written);
    if (n <= 0) throw new Error('short write to segment file');
    written += n;
  }
}

function readFully(fd: number, buf: Buffer, position: number): void {
  let done = 0;
  while (done < buf.length) {
    const n = fs.readSync(fd, buf, done, buf.length - done, position + done);
    if (n === 0) throw new Error('segment file shorter than expected');
    done += n;
  }
}

