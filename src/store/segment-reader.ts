/**
 * Reading a queue's message records back from its segment files, in seq order, from a cursor: the
 * durable list's "region" (ready messages only on disk). Reads are sequential, a chunk at a time;
 * records are sliced out of the chunk as views, not copied, so a chunk is never reused. Damaged
 * bytes (recovery already reported them, unless the file changed since) are skipped the way
 * recovery skips them: resync to the next intact record with a higher seq.
 */
import fs from 'node:fs';
import { Message } from '../broker/message.js';
import { readDeliveryMode } from '../protocol/properties.js';
import type { StoreLogger } from './logger.js';
import { BAD, NEED_MORE, checkRecord, decodeRecord, recordSeq, resync } from './record.js';
import type { Segment } from './segment.js';
import { StoredEnvelope } from './stored-envelope.js';

/** What the reader needs from the list that owns the segments. */
export interface SegmentSource {
  /** The segment being appended to (its bytes may still be buffered). */
  readonly activeSegment: Segment | undefined;
  /** The first segment after the one starting at `firstSeq`. */
  segmentAfter(firstSeq: number): Segment | undefined;
  /** Write buffered records, so that they can be read back; false if that failed. */
  flushWrites(): boolean;
  /** `bytes` were read back in one call that took `ms` (the store's I/O counters). */
  noteRead(bytes: number, ms: number): void;
}

export class SegmentReader {
  /** Where the next record is read from, and the last seq read there (for resync). */
  private cursorSeg: Segment | undefined;
  private cursorOff = 0;
  private cursorLastSeq = -1;
  /** The last chunk read; records are sliced from it, so it is never reused. */
  private chunk: Buffer | undefined;
  private chunkSeg: Segment | undefined;
  private chunkStart = 0;
  private chunkEnd = 0;
  /** Lowest seq not read yet (the region's first possible seq, for purge's ack ranges). */
  firstUnread = 0;

  constructor(
    private readonly source: SegmentSource,
    private readonly log: StoreLogger,
    private readonly queue: string,
    private readonly readChunkBytes: number,
    /** Records at or below the recovered delivered mark come back redelivered. */
    private readonly recoveredMark: number,
  ) {}

  /** Read from `segment` at `offset`, where the record of `seq` starts. */
  reset(segment: Segment, offset: number, seq: number): void {
    if (this.cursorSeg && this.cursorSeg !== segment && this.cursorSeg !== this.source.activeSegment) this.cursorSeg.closeFd();
    this.cursorSeg = segment;
    this.cursorOff = offset;
    this.cursorLastSeq = seq - 1;
    this.firstUnread = seq;
  }

  /** The next live record at the cursor, as a new envelope; undefined if the disk has no more. */
  next(): StoredEnvelope | undefined {
    for (;;) {
      const segment = this.cursorSeg;
      if (!segment) return undefined;
      if (segment.deleted || (this.cursorOff >= segment.end && segment !== this.source.activeSegment)) {
        const next = this.source.segmentAfter(segment.firstSeq);
        if (!next) return undefined;
        if (segment !== this.source.activeSegment) segment.closeFd();
        this.cursorSeg = next;
        this.cursorOff = 0;
        this.cursorLastSeq = next.firstSeq - 1;
        continue;
      }
      if (this.cursorOff >= segment.end) return undefined;
      if (this.cursorOff >= segment.written && !this.source.flushWrites()) return undefined;

      let length = this.checkAtCursor(segment, this.readChunkBytes);
      if (length === NEED_MORE) {
        const rel = this.cursorOff - this.chunkStart;
        const wanted = this.chunkEnd - this.cursorOff >= 4 ? this.chunk!.readUInt32LE(rel) : 0;
        if (this.cursorOff + wanted <= segment.written) {
          this.loadChunk(segment, this.cursorOff, Math.max(this.readChunkBytes, wanted));
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
      this.firstUnread = record.seq + 1;
      const message = new Message(
        record.exchange,
        record.routingKey,
        record.rawProperties,
        record.body,
        // A quorum queue's records are all flagged persistent: the message keeps its own delivery mode.
        record.persistent && readDeliveryMode(record.rawProperties) === 2,
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
    const t0 = performance.now();
    readFully(segment.openFd(), buf, offset);
    this.source.noteRead(buf.length, performance.now() - t0);
    this.chunk = buf;
    this.chunkSeg = segment;
    this.chunkStart = offset;
    this.chunkEnd = offset + n;
  }

  dropChunk(): void {
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
      queue: this.queue,
      file: segment.path,
      offset: from,
      bytes: this.cursorOff - from,
    });
  }

  /** The segment is being deleted: do not keep its bytes. */
  forget(segment: Segment): void {
    if (this.chunkSeg === segment) this.dropChunk();
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
