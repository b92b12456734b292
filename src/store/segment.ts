/**
 * One segment of a queue: `<firstSeq>.seg` holds message records in seq order (record.ts), its
 * AckLog `<firstSeq>.ack` the ranges of them that were settled (ack-log.ts). The segment is deleted
 * (both files) once no record in it is live (not yet settled) and it is no longer the one being
 * appended to.
 */
import fs from 'node:fs';
import path from 'node:path';
import { AckLog } from './ack-log.js';
import type { DataDirChanges } from '../data-dir-changes.js';

const NAME_DIGITS = 16;
export const SEGMENT_FILE = /^(\d{16})\.seg$/;

export function segmentFileName(firstSeq: number): string {
  return `${String(firstSeq).padStart(NAME_DIGITS, '0')}.seg`;
}

export class Segment {
  readonly path: string;
  readonly acks: AckLog;
  /** Open fd (read/write for the active segment, read-only for others while read), or -1. */
  fd = -1;
  /** Bytes of records appended, including ones still in the write buffer. */
  end = 0;
  /** Bytes actually written to the file. */
  written = 0;
  /** One past the highest seq it can hold; the active segment's grows with every push. */
  endSeq: number;
  /** Records not yet settled (ready, or out with a consumer). */
  live = 0;
  /**
   * Records in the file (settled or not): with `live` it tells the compactor (segment-compactor.ts)
   * how much of the file is dead weight. After a compaction, the records it kept.
   */
  records = 0;
  /** A compaction of this segment is under way. */
  compacting = false;
  /** A compaction found too little to gain with this many live: try again once half of them are gone. */
  compactSkippedAtLive = Infinity;
  /** A compaction failed (I/O): not before this time (ms since epoch). */
  compactRetryAt = 0;
  /**
   * Recovered segments with holes (acked or transient records dropped at recovery): bit i set
   * means seq firstSeq+i is live. Undefined means every record in the file is live, which is
   * always the case for segments written by this process (settled records are never read back).
   */
  liveBits: Uint8Array | undefined;
  /**
   * crc32 of the file's bytes [0, written), kept up to date by every write, while those bytes are
   * known to be whole intact records; undefined when they are not (recovery skipped damage inside).
   * The clean-shutdown marker records it (clean-shutdown.ts).
   */
  fileCrc: number | undefined = 0;
  /** Persistent records in the file (acked or not) and the sum of their body sizes, for the marker. */
  persistentRecords = 0;
  persistentBodyBytes = 0;
  deleted = false;
  /** Its path relative to the data dir, once its writes have gone through the journal. */
  journalPath: string | undefined;
  /** Group-commit rounds that will fdatasync this segment and have not yet: closing waits for them. */
  syncRounds = 0;
  private closeAfterSync = false;

  constructor(
    readonly dir: string,
    readonly firstSeq: number,
  ) {
    this.path = path.join(dir, segmentFileName(firstSeq));
    this.acks = new AckLog(this.path.slice(0, -4) + '.ack');
    this.endSeq = firstSeq;
  }

  isLive(seq: number): boolean {
    const bits = this.liveBits;
    if (!bits) return true;
    const i = seq - this.firstSeq;
    return i >= 0 && (bits[i >>> 3]! & (1 << (i & 7))) !== 0;
  }

  /** How many of seqs [from, to) are live, clearing them (purge). */
  takeLive(from: number, to: number): number {
    const bits = this.liveBits;
    if (!bits) return to - from;
    let n = 0;
    for (let i = from - this.firstSeq; i < to - this.firstSeq; i++) {
      const mask = 1 << (i & 7);
      if (bits[i >>> 3]! & mask) {
        n++;
        bits[i >>> 3]! &= ~mask;
      }
    }
    return n;
  }

  openForAppend(): void {
    this.fd = fs.openSync(this.path, 'wx+');
  }

  /**
   * The open fd, for reads and appends alike: opened again (read/write) if it was closed — a
   * segment read back and let go, or the active one after an idle sweep (closeIdleFiles).
   */
  openFd(): number {
    if (this.fd < 0) this.fd = fs.openSync(this.path, 'r+');
    return this.fd;
  }

  /** Close the data fd, after the fdatasync of a round in flight if there is one. */
  closeFd(): void {
    if (this.fd < 0) return;
    if (this.syncRounds > 0) {
      this.closeAfterSync = true;
      return;
    }
    // The last close of an unlinked file frees its blocks: off the main thread (hundreds of µs on ext4).
    if (this.deleted) fs.close(this.fd, () => {});
    else fs.closeSync(this.fd);
    this.fd = -1;
  }

  /** A round finished (or skipped) this segment's fdatasync. */
  synced(): void {
    this.syncRounds--;
    if (this.syncRounds === 0 && this.closeAfterSync) {
      this.closeAfterSync = false;
      this.closeFd();
    }
  }

  /** Gone for good: close and unlink both files (off the main thread; a leftover is cleaned by recovery). */
  remove(onError: (err: Error) => void, changes: DataDirChanges | undefined): void {
    this.deleted = true;
    changes?.remove(this.path);
    this.acks.remove(onError, changes);
    this.closeFd();
    fs.unlink(this.path, (err) => err && err.code !== 'ENOENT' && onError(err));
  }
}
