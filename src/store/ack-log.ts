/**
 * A segment's ack log, `<firstSeq>.ack`: the ranges of its seqs that were settled (acked, rejected
 * or purged). This module owns the file end to end: the record layout, appending (coalesced ranges,
 * once per event-loop turn), the running crc32 for the clean-shutdown marker, and reading it back.
 *
 * While a busy round journals its records (many busy queues: persister.ts), the ranges a flush
 * encodes go to the shared journal instead of the file (defer()) and are appended to the file
 * later, with the next write() (at the latest before the journal file holding them is
 * checkpointed): an ack costs no write of its own per queue per round, and a kill -9 loses none.
 *
 * Record, 16 bytes, little-endian: "seqs [seq, seq+count) of this segment are settled"
 *   0 f64 seq, 8 u32 count, 12 u32 crc32 of bytes [0, 12)
 * Damaged or torn records are skipped when read (the message comes back: at-least-once).
 */
import fs from 'node:fs';
import type { CleanSegment } from './clean-shutdown.js';
import type { DataDirChanges } from '../data-dir-changes.js';
import { crc32, crc32Range } from './crc32.js';

export const ACK_RECORD = 16;

/** [start, end) seqs settled. */
export interface AckRange {
  start: number;
  end: number;
}

export class AckLog {
  /** Open for appending, or -1 (the owning list keeps only a few open). */
  private fd = -1;
  /** Bytes in the file, and their crc32; crc is undefined when the file holds damaged records. */
  size = 0;
  crc: number | undefined = 0;
  /** Ranges not yet written, flat [seq, count, seq, count, ...]. */
  private pending: number[] = [];
  /**
   * Ranges whose records went to the journal but not yet to the file (they follow its `size`
   * bytes), flat as `pending`. Kept as numbers, not as the encoded Buffers: a busy queue defers a
   * record or two per round for up to ACK_DEFER_BYTES, and each kept Buffer (a slice of Node's
   * pool) also kept that 8 KiB pool alive (100 busy queues: ~6,600 of them held at a time). Encoding
   * is deterministic, so write() puts the very bytes the journal holds into the file.
   */
  private deferred: number[] = [];
  /** Bytes of their records. */
  deferredBytes = 0;
  /** Its path relative to the data dir, once records of it went through the journal. */
  journalPath: string | undefined;

  constructor(readonly path: string) {}

  get hasPending(): boolean {
    return this.pending.length > 0;
  }

  /** Journaled records not yet appended to the file. */
  get hasDeferred(): boolean {
    return this.deferredBytes > 0;
  }

  get isOpen(): boolean {
    return this.fd >= 0;
  }

  /** Record seqs [seq, seq+count) as settled; extends the last range when they follow on. */
  add(seq: number, count: number): void {
    const a = this.pending;
    const n = a.length;
    if (n > 0 && a[n - 2]! + a[n - 1]! === seq) a[n - 1]! += count;
    else a.push(seq, count);
  }

  /** Append the deferred records and the pending ranges. Returns true when it had to open the file. */
  write(changes: DataDirChanges | undefined): boolean {
    const buf = encodeRanges(this.deferred, this.pending);
    const opened = this.fd < 0;
    if (opened) this.fd = fs.openSync(this.path, 'a');
    let written = 0;
    while (written < buf.length) written += fs.writeSync(this.fd, buf, written, buf.length - written);
    this.pending = [];
    this.deferred = [];
    this.deferredBytes = 0;
    changes?.write(this.path, this.size, buf);
    this.size += buf.length;
    if (this.crc !== undefined) this.crc = crc32(buf, this.crc);
    return opened;
  }

  /**
   * Encode the pending ranges and hand them to `journal` (they belong at `offset` of the file)
   * instead of writing them; they are appended by the next write(). The file is created now if it
   * does not exist, so that a replay of the journal finds it. Returns true when it had to open it.
   */
  defer(journal: (offset: number, records: Buffer) => void): boolean {
    const pending = this.pending;
    const records = encodeRanges(pending);
    const opened = this.fd < 0;
    if (opened) this.fd = fs.openSync(this.path, 'a');
    journal(this.size + this.deferredBytes, records);
    const deferred = this.deferred;
    for (let i = 0; i < pending.length; i++) deferred.push(pending[i]!);
    this.pending = [];
    this.deferredBytes += records.length;
    return opened;
  }

  /** fdatasync what was appended (clean close). */
  sync(): void {
    if (this.fd >= 0) fs.fdatasyncSync(this.fd);
  }

  close(): void {
    if (this.fd < 0) return;
    fs.closeSync(this.fd);
    this.fd = -1;
  }

  /**
   * Compaction dropped every record this log settles from the segment file: delete the file now
   * (synchronously, so a later append starts a new one). Only with nothing pending.
   */
  clearAfterCompaction(changes: DataDirChanges | undefined): void {
    this.close();
    this.journalPath = undefined;
    fs.rmSync(this.path, { force: true });
    changes?.remove(this.path);
    this.size = 0;
    this.crc = 0;
  }

  /** The segment is gone: drop pending ranges, close and unlink (off the main thread). */
  remove(onError: (err: Error) => void, changes: DataDirChanges | undefined): void {
    this.pending = [];
    this.deferred = [];
    this.deferredBytes = 0;
    changes?.remove(this.path);
    this.close();
    fs.unlink(this.path, (err) => err && err.code !== 'ENOENT' && onError(err));
  }

  /**
   * Recovery: the settled ranges, sorted and merged; sets size and crc for the clean-shutdown marker.
   * Records are checked one by one unless the marker vouches for the whole file (same size and crc,
   * not modified after `trustedBefore`). A torn last record is cut off, so later appends stay aligned
   * on record boundaries.
   */
  read(clean: CleanSegment | undefined, trustedBefore: number, changes?: DataDirChanges): AckRange[] {
    let fd: number;
    try {
      fd = fs.openSync(this.path, 'r+');
    } catch {
      return [];
    }
    let buf: Buffer;
    let whole: number;
    let trusted: boolean;
    let crc: number;
    try {
      const stat = fs.fstatSync(fd);
      buf = Buffer.allocUnsafe(stat.size);
      let length = 0;
      while (length < stat.size) {
        const n = fs.readSync(fd, buf, length, stat.size - length, length);
        if (n === 0) break;
        length += n;
      }
      whole = length - (length % ACK_RECORD);
      if (whole < length) {
        fs.ftruncateSync(fd, whole);
        changes?.truncate(this.path, whole);
      }
      crc = crc32(buf.subarray(0, whole));
      trusted =
        clean?.ackCrc !== undefined && clean.ackSize === length && stat.mtimeMs <= trustedBefore && clean.ackCrc === crc;
    } finally {
      fs.closeSync(fd);
    }
    const records = readAckRecords(buf, whole, !trusted);
    this.size = whole;
    this.crc = trusted || records.length === whole / ACK_RECORD ? crc : undefined;
    const ranges = records.map((r) => ({ start: r.seq, end: r.seq + r.count })).sort((a, b) => a.start - b.start);
    const merged: AckRange[] = [];
    for (const r of ranges) {
      const last = merged[merged.length - 1];
      if (last && r.start <= last.end) last.end = Math.max(last.end, r.end);
      else merged.push(r);
    }
    return merged;
  }
}

/** The records of flat [seq, count, ...] ranges: those of `first`, then those of `then`. */
function encodeRanges(first: readonly number[], then: readonly number[] = NO_RANGES): Buffer {
  const buf = Buffer.allocUnsafe(((first.length + then.length) / 2) * ACK_RECORD);
  writeRanges(buf, writeRanges(buf, 0, first), then);
  return buf;
}

const NO_RANGES: readonly number[] = [];

/** Write the records of `ranges` at buf[off]; returns the offset after them. */
function writeRanges(buf: Buffer, off: number, ranges: readonly number[]): number {
  for (let i = 0; i < ranges.length; i += 2, off += ACK_RECORD) writeAckRecord(buf, off, ranges[i]!, ranges[i + 1]!);
  return off;
}

export function writeAckRecord(buf: Buffer, off: number, seq: number, count: number): void {
  buf.writeDoubleLE(seq, off);
  buf.writeUInt32LE(count, off + 8);
  buf.writeUInt32LE(crc32Range(buf, off, off + 12), off + 12);
}

/**
 * Ack ranges [seq, seq+count) from an ack file's bytes; damaged or torn records are skipped. `verify`
 * false skips the per-record crc, for bytes already verified as a whole (clean-shutdown.ts).
 */
export function readAckRecords(buf: Buffer, length: number, verify = true): { seq: number; count: number }[] {
  const out: { seq: number; count: number }[] = [];
  for (let off = 0; off + ACK_RECORD <= length; off += ACK_RECORD) {
    if (verify && crc32Range(buf, off, off + 12) !== buf.readUInt32LE(off + 12)) continue;
    const seq = buf.readDoubleLE(off);
    const count = buf.readUInt32LE(off + 8);
    if (Number.isSafeInteger(seq) && seq >= 0) out.push({ seq, count });
  }
  return out;
}
