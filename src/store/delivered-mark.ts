/**
 * The delivered mark: a queue's `delivered` file, 16 bytes rewritten in place, saying "every message
 * with seq <= mark may have been handed to a consumer". Recovered messages at or below it come back
 * redelivered=true. This module owns the file end to end: its layout, writing it and reading it back.
 *
 * Layout (little-endian): 0 f64 mark, 8 u32 crc32 of bytes [0, 8), 12 u32 magic 0x4b52414d.
 *
 * A delivery only writes when its seq passes the mark on disk, and then moves the mark MARK_AHEAD
 * seqs ahead: one 16-byte pwrite per MARK_AHEAD deliveries, made before the message can reach a
 * socket. Since deliveries take the lowest ready seq, at most MARK_AHEAD never-delivered messages
 * per queue get the flag needlessly after a crash (the spec allows it: the flag means "may have
 * been delivered"). A clean close writes the exact mark, synced. The mark is not fsynced otherwise,
 * so it is exact for process crashes; after a power cut it can lag.
 *
 * Cluster leader (`changes` given): a follower may be promoted after a kill at any instant, so a
 * mark only counts once the followers have it: `replicated` is the highest mark they acknowledged
 * (a replicated list, replicated-message-list.ts, delivers nothing above it), and `keepAhead()`
 * writes the next mark while deliveries are still half a REPLICATED_MARK_AHEAD below the last one, so
 * under load the replicated mark stays ahead and deliveries do not wait for it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { crc32 } from './crc32.js';
import type { DataDirChanges } from '../data-dir-changes.js';
import type { StoreLogger } from './logger.js';

export const MARK_FILE = 'delivered';
const MARK_FILE_BYTES = 16;
const MARK_MAGIC = 0x4b52414d;
/** How far the mark jumps ahead of the seq that passed it. */
export const MARK_AHEAD = 256;
/**
 * The same on a cluster leader, where deliveries wait for the followers to have the mark: half of
 * it may go out per replication round trip of a mark (256 capped a consumer at 128 per round trip,
 * ~10k msg/s on a busy machine, below the publisher's confirmed rate), at the price of at most this
 * many needless redelivered flags per queue after a failover.
 */
export const REPLICATED_MARK_AHEAD = 2048;

export function encodeMark(mark: number): Buffer {
  const buf = Buffer.alloc(MARK_FILE_BYTES);
  buf.writeDoubleLE(mark, 0);
  buf.writeUInt32LE(crc32(buf.subarray(0, 8)), 8);
  buf.writeUInt32LE(MARK_MAGIC, 12);
  return buf;
}

/** The mark, or undefined when the bytes are damaged (the caller then assumes everything may have been delivered). */
export function decodeMark(buf: Buffer, length: number): number | undefined {
  if (length < MARK_FILE_BYTES || buf.readUInt32LE(12) !== MARK_MAGIC) return undefined;
  if (crc32(buf.subarray(0, 8)) !== buf.readUInt32LE(8)) return undefined;
  const mark = buf.readDoubleLE(0);
  return Number.isSafeInteger(mark) && mark >= 0 ? mark : undefined;
}

/** The queue directory's mark: 0 if never written, undefined if damaged. */
export function readMark(dir: string): number | undefined {
  let buf: Buffer;
  try {
    buf = fs.readFileSync(path.join(dir, MARK_FILE));
  } catch {
    return 0;
  }
  return decodeMark(buf, buf.length);
}

export class DeliveredMark {
  private onDisk: number;
  private highestDelivered: number;
  /** Cluster leader: the highest mark the followers acknowledged (at first the recovered one). */
  private replicatedMark: number;
  private readonly ahead: number;
  /** Cluster leader: told (on a microtask) when `replicated` moved up. */
  onReplicated: (() => void) | undefined;
  /** The file, kept open while the mark is being written (closeIfIdle). */
  private fd = -1;
  private writtenSinceSweep = false;

  constructor(
    private readonly dir: string,
    private readonly log: StoreLogger,
    private readonly queue: string,
    /** The mark recovery read (0 for a new queue). */
    recovered: number,
    /** The file was damaged: write a good one at once. */
    damaged: boolean,
    private readonly changes: DataDirChanges | undefined,
  ) {
    this.onDisk = recovered;
    this.highestDelivered = recovered;
    this.replicatedMark = recovered;
    this.ahead = changes ? REPLICATED_MARK_AHEAD : MARK_AHEAD;
    if (damaged) {
      this.onDisk = -1;
      this.write(recovered);
    }
  }

  /** A message is about to be handed out for the first time. */
  delivered(seq: number): void {
    if (seq > this.highestDelivered) this.highestDelivered = seq;
    if (seq > this.onDisk) this.write(seq + this.ahead);
  }

  /** Cluster leader: messages up to this seq may go out (the followers have a mark covering them). */
  get replicated(): number {
    return this.replicatedMark;
  }

  /** Cluster leader: make sure a mark covering `seq` is written (its replication then moves `replicated`). */
  cover(seq: number): void {
    if (seq > this.onDisk) this.write(seq + this.ahead);
  }

  /** Cluster leader: `seq` went out; write the next mark early when deliveries near the written one. */
  keepAhead(seq: number): void {
    if (this.onDisk - seq < this.ahead / 2) this.write(seq + this.ahead);
  }

  /** Clean stop: the exact mark, synced, so only what really went out comes back redelivered. */
  closeExact(): void {
    if (this.highestDelivered !== this.onDisk) this.write(this.highestDelivered, true);
  }

  /**
   * Store sweep: close the file if the mark was not written since the previous sweep (a busy
   * queue keeps it open rather than opening and closing it every MARK_AHEAD deliveries).
   */
  closeIfIdle(): void {
    if (this.fd >= 0 && !this.writtenSinceSweep) this.close();
    this.writtenSinceSweep = false;
  }

  close(): void {
    if (this.fd < 0) return;
    const fd = this.fd;
    this.fd = -1;
    try {
      fs.closeSync(fd);
    } catch {
      // Nothing was pending on it.
    }
  }

  /** Rewrite in place (pwrite 16 bytes: it happens once per MARK_AHEAD deliveries). */
  private write(mark: number, sync = false): void {
    if (mark === this.onDisk && !sync) return;
    try {
      const file = path.join(this.dir, MARK_FILE);
      if (this.fd < 0) this.fd = fs.openSync(file, fs.constants.O_RDWR | fs.constants.O_CREAT);
      const fd = this.fd;
      this.writtenSinceSweep = true;
      const bytes = encodeMark(mark);
      fs.writeSync(fd, bytes, 0, MARK_FILE_BYTES, 0);
      const changes = this.changes;
      if (changes) {
        changes.write(file, 0, bytes);
        // May call back at once (nothing to wait for): onReplicated then runs on a microtask.
        changes.whenReplicated(changes.position, () => this.markReplicated(mark));
      }
      if (sync) fs.fdatasyncSync(fd);
      this.onDisk = mark;
    } catch (err) {
      this.log('error', 'could not write the delivered mark', { queue: this.queue, error: (err as Error).message });
      this.close();
    }
  }

  private markReplicated(mark: number): void {
    if (mark <= this.replicatedMark) return;
    this.replicatedMark = mark;
    const notify = this.onReplicated;
    if (notify) queueMicrotask(notify);
  }
}
