/**
 * Appending message records to a queue's active segment file. A record (layout in record.ts) is
 * encoded once into the persister's shared slab, body included when small; a large body is queued
 * as its own iovec, so it is never copied. Consecutive records of one queue form one run of the
 * slab; once per group-commit round (or turn, when no round is in flight) the persister has the
 * list flush, and the runs and bodies go to the file in one pwritev. The segment's whole-file crc32 (for the clean-shutdown marker) is
 * advanced per buffer written, not per record.
 */
import type { Message } from '../broker/message.js';
import { crc32, crc32Range } from './crc32.js';
import type { Persister, SlabWriter } from './persister.js';
import { writevAll } from './durable-file.js';
import { headerUpperBound, writeHeader } from './record.js';
import type { Segment } from './segment.js';

/** Bodies up to this size are copied into the shared write slab; bigger ones are written from where they are. */
const COPY_BODY_MAX = 16 * 1024;

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
  private headerLength = 0;

  constructor(
    private readonly persister: Persister,
    /** False for a transient list: its records are never fdatasynced, whatever their delivery mode. */
    private readonly syncs = true,
  ) {}

  get hasBuffered(): boolean {
    return this.iov.length > 0 || this.runBuf !== undefined;
  }

  /** Buffer the record of `message` at `seq`; returns the bytes it takes in the segment file. */
  append(seq: number, message: Message): number {
    const body = message.body;
    const copyBody = body.length <= COPY_BODY_MAX;
    this.seq = seq;
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
    if (message.persistent && this.syncs) this.pendingPersistent = true;
    return this.headerLength + body.length;
  }

  /** SlabWriter: encode the current record at buf[off]; returns the bytes used in the slab. */
  encodeInto(buf: Buffer, off: number): number {
    const m = this.message!;
    const body = m.body;
    const headerLength = writeHeader(buf, off, this.seq, m.timestamp, m.persistent, m.exchange, m.routingKey, m.rawProperties, body.length);
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
   * when a persistent record was among them.
   */
  flushTo(segment: Segment): void {
    this.closeRun();
    if (this.iov.length === 0) return;
    const total = segment.end - segment.written;
    const position = segment.written;
    const t0 = performance.now();
    writevAll(segment.fd, this.iov, position, total);
    const writeMs = performance.now() - t0;
    if (this.syncs) this.persister.changes?.write(segment.path, position, this.iov);
    this.persister.wrote(total, writeMs);
    segment.written = segment.end;
    let fileCrc = segment.fileCrc;
    if (fileCrc !== undefined) for (const b of this.iov) fileCrc = crc32(b, fileCrc);
    segment.fileCrc = fileCrc;
    if (this.pendingPersistent) this.persister.makeDurable(segment, this.iov, position, total);
    this.iov = [];
    this.pendingPersistent = false;
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
  }

  private closeRun(): void {
    if (!this.runBuf) return;
    this.iov.push(this.runBuf.subarray(this.runStart, this.runEnd));
    this.runBuf = undefined;
  }
}
