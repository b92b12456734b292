/**
 * Recovery of one queue directory after a clean stop or a crash.
 *
 * Each segment is read whole (they are bounded by segmentBytes), then:
 * - after a clean stop, if the clean-shutdown marker (clean-shutdown.ts) lists the segment with the
 *   same size and whole-file crc32, and the file is not newer than the marker, it holds exactly the
 *   intact records that were written: one crc32 call over the file replaces the per-record checks,
 *   and the records are only walked by their length fields (for the seqs, the persistent flag and
 *   the acks). The same goes for its .ack file.
 * - otherwise (a crash, no marker, a file that changed or was damaged since) every record is checked
 *   by length, magic and crc32. A record that fails is damage. The scan looks for the next intact
 *   record (resync on the magic bytes, then a full check, with a seq above the last good one). If
 *   there is one, the bytes in between are skipped and reported (file, offset, bytes, seqs and
 *   messages lost); if there is none, this is a torn tail (a write cut short by kill -9 or power
 *   loss): the file is truncated there, and the log says how many messages that dropped.
 * - intact records that are transient, or covered by the segment's ack ranges, are dead.
 * Live records are not loaded: the list reads them back when its head reaches them. A segment with
 * nothing live is deleted. Nothing here throws for damaged data: the worst case is a queue that
 * comes back with fewer messages, and a log line saying so.
 *
 * "Messages lost" counts the seqs whose records were dropped and that were not acked (transient
 * ones among them, which a restart drops anyway, cannot be told apart). It is exact when the seqs
 * the damaged bytes held are known: inside a segment (the next intact record's seq), and for a torn
 * tail when the clean-shutdown marker recorded the segment's end or a later segment starts where
 * this one ended. Otherwise (a torn tail of the last segment after a crash) it is a lower bound:
 * the records whose headers can still be read in the dropped bytes.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { AckRange } from './ack-log.js';
import type { CleanSegment } from './clean-shutdown.js';
import { crc32 } from './crc32.js';
import type { DataDirChanges } from '../data-dir-changes.js';
import type { HeadStamp, RecoveredQueueState } from './durable-message-list.js';
import { readMark } from './delivered-mark.js';
import type { StoreLogger } from './logger.js';
import {
  FIXED_HEADER,
  MAX_RECORD,
  checkRecord,
  recordHeaderLength,
  recordHeadStamp,
  recordPersistent,
  recordSeq,
  resync,
} from './record.js';
import { SEGMENT_FILE, Segment } from './segment.js';

export const QUEUE_META_FILE = 'queue.json';

export interface QueueMeta {
  vhost: string;
  name: string;
}

export interface RecoveredQueue extends RecoveredQueueState {
  meta: QueueMeta;
}

/** Totals across a whole store recovery, for the progress log. */
export interface RecoveryTotals {
  messages: number;
  bytes: number;
  segments: number;
  /** Segments verified by one whole-file crc against the clean-shutdown marker. */
  segmentsTrusted: number;
  transientDropped: number;
  damagedRegions: number;
  tornTails: number;
  /** Messages dropped with damaged bytes; a lower bound unless messagesLostExact. */
  messagesLost: number;
  messagesLostExact: boolean;
}

export function newRecoveryTotals(): RecoveryTotals {
  return {
    messages: 0,
    bytes: 0,
    segments: 0,
    segmentsTrusted: 0,
    transientDropped: 0,
    damagedRegions: 0,
    tornTails: 0,
    messagesLost: 0,
    messagesLostExact: true,
  };
}

/** What the clean-shutdown marker says about one queue directory. */
export interface QueueCleanState {
  segments: Map<number, CleanSegment>;
  /** The marker's mtime: files modified later are not trusted. */
  writtenAtMs: number;
}

/** A reusable read buffer, so recovering many segments does not allocate one each. */
export class ScratchBuffer {
  buf = Buffer.allocUnsafeSlow(0);
  ensure(size: number): Buffer {
    if (this.buf.length < size) this.buf = Buffer.allocUnsafeSlow(Math.max(size, this.buf.length * 2));
    return this.buf;
  }
}

export function readQueueMeta(dir: string): QueueMeta | undefined {
  try {
    const meta = JSON.parse(fs.readFileSync(path.join(dir, QUEUE_META_FILE), 'utf8')) as Partial<QueueMeta>;
    if (typeof meta.vhost === 'string' && typeof meta.name === 'string') return { vhost: meta.vhost, name: meta.name };
  } catch {
    // Missing or unreadable: the caller reports it.
  }
  return undefined;
}

/** Everything recoverSegment needs besides the segment itself. */
interface SegmentContext {
  dir: string;
  meta: QueueMeta;
  log: StoreLogger;
  scratch: ScratchBuffer;
  totals: RecoveryTotals;
  clean: QueueCleanState | undefined;
  changes: DataDirChanges | undefined;
}

function removeSegmentFiles(segment: Segment, changes: DataDirChanges | undefined): void {
  fs.rmSync(segment.path, { force: true });
  fs.rmSync(segment.acks.path, { force: true });
  changes?.remove(segment.path);
  changes?.remove(segment.acks.path);
}

export async function recoverQueueDir(
  dir: string,
  log: StoreLogger,
  scratch: ScratchBuffer,
  totals: RecoveryTotals,
  progress: () => void,
  clean?: QueueCleanState,
  /** Replication's change feed: what recovery cuts or deletes is reported (cluster leader only). */
  changes?: DataDirChanges,
): Promise<RecoveredQueue | undefined> {
  const meta = readQueueMeta(dir);
  const names = fs.readdirSync(dir);
  const segmentNames = names.filter((n) => SEGMENT_FILE.test(n)).sort();
  if (!meta) {
    // A declare whose queue.json a crash caught before the group-commit round that syncs it: no
    // message in it was ever confirmed, and the declare at start-up makes a new directory anyway.
    if (segmentNames.length === 0) {
      fs.rmSync(dir, { recursive: true, force: true });
      changes?.remove(dir);
      log('info', 'queue directory without queue.json nor messages removed', { dir });
      return undefined;
    }
    log('warn', 'queue directory without a readable queue.json; left alone', { dir });
    return undefined;
  }
  const withSegment = new Set(segmentNames.map((n) => n.slice(0, -4)));
  for (const n of names) {
    // Ack files whose segment is gone, and temporary files of an interrupted create, are leftovers.
    if ((n.endsWith('.ack') && !withSegment.has(n.slice(0, -4))) || n.endsWith('.tmp')) {
      fs.rmSync(path.join(dir, n), { force: true });
      changes?.remove(path.join(dir, n));
    }
  }

  const ctx: SegmentContext = { dir, meta, log, scratch, totals, clean, changes };
  const firstSeqs = segmentNames.map((name) => Number(SEGMENT_FILE.exec(name)![1]));
  const segments: Segment[] = [];
  let highestSeq = 0;
  let length = 0;
  let bytes = 0;
  let head: HeadStamp | undefined;
  for (let i = 0; i < firstSeqs.length; i++) {
    const firstSeq = firstSeqs[i]!;
    highestSeq = Math.max(highestSeq, firstSeq);
    const found = await recoverSegment(ctx, firstSeq, firstSeqs[i + 1]);
    progress();
    if (!found) continue;
    const { segment, liveBytes } = found;
    highestSeq = Math.max(highestSeq, segment.endSeq - 1);
    if (segment.live === 0) {
      removeSegmentFiles(segment, changes);
      continue;
    }
    segments.push(segment);
    length += segment.live;
    bytes += liveBytes;
    head ??= found.head;
  }

  let mark = readMark(dir);
  const markDamaged = mark === undefined;
  if (mark === undefined) {
    log('warn', 'delivered mark damaged: every recovered message is marked redelivered', { dir });
    mark = highestSeq;
  }
  const nextSeq = Math.max(highestSeq, mark, 0) + 1;
  return { meta, segments, nextSeq, mark, markDamaged, length, bytes, head };
}

/**
 * What a walk over one segment's intact records found: which seqs are live (persistent and not
 * acked), how many and how big.
 */
class SegmentScan {
  bits: Uint8Array;
  lastSeq: number;
  records = 0;
  live = 0;
  liveBytes = 0;
  transient = 0;
  /** Persistent records, acked or not, and their body bytes (Segment.persistentRecords/-BodyBytes). */
  persistent = 0;
  persistentBodyBytes = 0;
  /** Bytes skipped as damage inside the file (the file then is not all intact records). */
  damaged = false;
  /** The first live record's accept time and timestamp property: the queue's head after recovery. */
  head: HeadStamp | undefined;
  private ackIndex = 0;

  constructor(
    readonly firstSeq: number,
    size: number,
    private readonly acked: AckRange[],
  ) {
    // Records are at least FIXED_HEADER bytes: this rarely has to grow.
    this.bits = new Uint8Array(Math.ceil(size / FIXED_HEADER / 8) + 1);
    this.lastSeq = firstSeq - 1;
  }

  /** An intact record at `off`, `length` bytes, with a seq above every earlier one. */
  add(buf: Buffer, off: number, length: number, seq: number): void {
    this.lastSeq = seq;
    this.records++;
    const acked = this.acked;
    while (this.ackIndex < acked.length && acked[this.ackIndex]!.end <= seq) this.ackIndex++;
    const isAcked = this.ackIndex < acked.length && acked[this.ackIndex]!.start <= seq;
    if (!recordPersistent(buf, off)) {
      this.transient++;
      return;
    }
    const bodyBytes = length - recordHeaderLength(buf, off);
    this.persistent++;
    this.persistentBodyBytes += bodyBytes;
    if (isAcked) return;
    if (this.live === 0) this.head = recordHeadStamp(buf, off);
    const i = seq - this.firstSeq;
    if (i >>> 3 >= this.bits.length) {
      const grown = new Uint8Array(Math.max(this.bits.length * 2, (i >>> 3) + 1));
      grown.set(this.bits);
      this.bits = grown;
    }
    this.bits[i >>> 3]! |= 1 << (i & 7);
    this.live++;
    this.liveBytes += bodyBytes;
  }

  /**
   * What a walk would find in a verified file that the marker says holds one persistent record for
   * every seq in [firstSeq, endSeq), none of them acked: no need to walk it.
   */
  assumeAllLive(buf: Buffer, endSeq: number, bodyBytes: number): void {
    this.head = recordHeadStamp(buf, 0);
    this.records = this.persistent = this.live = endSeq - this.firstSeq;
    this.lastSeq = endSeq - 1;
    this.liveBytes = this.persistentBodyBytes = bodyBytes;
  }

  /**
   * Walk records already verified as a whole (the file's crc matched the marker) by their length
   * fields alone. False if the structure is off anyway (then the caller checks every record).
   */
  walkTrusted(buf: Buffer, size: number): boolean {
    let off = 0;
    while (off < size) {
      if (size - off < FIXED_HEADER) return false;
      const length = buf.readUInt32LE(off);
      if (length < FIXED_HEADER || length > size - off) return false;
      const seq = recordSeq(buf, off);
      if (!(seq > this.lastSeq) || !Number.isSafeInteger(seq)) return false;
      this.add(buf, off, length, seq);
      off += length;
    }
    return true;
  }

  /** Seqs in [from, to) that are not acked. */
  unackedIn(from: number, to: number): number {
    let n = Math.max(0, to - from);
    for (const r of this.acked) {
      const overlap = Math.min(r.end, to) - Math.max(r.start, from);
      if (overlap > 0) n -= overlap;
    }
    return n;
  }

  /**
   * Lower bound of the messages in a torn tail buf[off, size): the records whose headers can still
   * be read there (length, magic and seq look right), chained by their lengths, and not acked.
   */
  readableInTail(buf: Buffer, off: number, size: number): number {
    let n = 0;
    let seq = this.lastSeq;
    while (size - off >= 20) {
      const length = buf.readUInt32LE(off);
      if (length < FIXED_HEADER || length > MAX_RECORD || buf[off + 8] !== 0x57 || buf[off + 9] !== 0x52) break;
      const s = recordSeq(buf, off);
      if (!Number.isSafeInteger(s) || s <= seq) break;
      n += this.unackedIn(s, s + 1);
      seq = s;
      off += length;
    }
    return n;
  }

  /** The live-seq bitmap for the Segment, or undefined when every seq in it is live. */
  liveBits(): Uint8Array | undefined {
    const dense = this.live === this.records && this.lastSeq - this.firstSeq + 1 === this.records;
    return dense ? undefined : this.bits.slice(0, ((this.lastSeq - this.firstSeq) >>> 3) + 1);
  }
}

async function recoverSegment(
  ctx: SegmentContext,
  firstSeq: number,
  nextFirstSeq: number | undefined,
): Promise<{ segment: Segment; liveBytes: number; head: HeadStamp | undefined } | undefined> {
  const { totals, clean } = ctx;
  const segment = new Segment(ctx.dir, firstSeq);
  const cleanSegment = clean?.segments.get(firstSeq);
  const trustedBefore = clean?.writtenAtMs ?? -Infinity;
  const acked = segment.acks.read(cleanSegment, trustedBefore, ctx.changes);
  const fd = fs.openSync(segment.path, 'r+');
  try {
    const stat = fs.fstatSync(fd);
    const buf = ctx.scratch.ensure(stat.size);
    const read = await readWithCrc(fd, buf, stat.size);
    let size = read.length;

    let scan: SegmentScan | undefined;
    let trusted = false;
    if (
      cleanSegment &&
      cleanSegment.size === size &&
      stat.mtimeMs <= trustedBefore &&
      read.crc === cleanSegment.crc
    ) {
      const seqs = cleanSegment.endSeq - firstSeq;
      if (acked.length === 0 && seqs > 0 && cleanSegment.persistentRecords === seqs) {
        // The common case (nothing consumed from it yet): the marker says it all.
        scan = new SegmentScan(firstSeq, 0, acked);
        scan.assumeAllLive(buf, cleanSegment.endSeq, cleanSegment.persistentBodyBytes);
      } else {
        scan = new SegmentScan(firstSeq, size, acked);
        if (!scan.walkTrusted(buf, size)) scan = undefined;
      }
      if (scan) {
        segment.fileCrc = cleanSegment.crc;
        trusted = true;
      }
    }
    if (!scan) {
      scan = new SegmentScan(firstSeq, size, acked);
      // The marker knows what the file held if it was damaged in place or cut short since.
      const markerEndSeq = cleanSegment && size <= cleanSegment.size ? cleanSegment.endSeq : undefined;
      const intactEnd = scanChecked(ctx, segment, buf, size, scan, markerEndSeq ?? nextFirstSeq);
      if (intactEnd < size) {
        fs.ftruncateSync(fd, intactEnd);
        ctx.changes?.truncate(segment.path, intactEnd);
        size = intactEnd;
      }
      segment.fileCrc = scan.damaged ? undefined : intactEnd < read.length ? crc32(buf.subarray(0, size)) : read.crc;
    }

    totals.transientDropped += scan.transient;
    if (scan.records === 0 && size === 0) {
      removeSegmentFiles(segment, ctx.changes);
      return undefined;
    }
    segment.end = segment.written = size;
    segment.endSeq = scan.lastSeq + 1;
    segment.live = scan.live;
    segment.records = scan.records;
    segment.liveBits = scan.liveBits();
    segment.persistentRecords = scan.persistent;
    segment.persistentBodyBytes = scan.persistentBodyBytes;
    totals.messages += scan.live;
    totals.bytes += size;
    totals.segments++;
    // Counted with the segments, so a verified but empty file (compacted down to nothing, removed above) is neither.
    if (trusted) totals.segmentsTrusted++;
    return { segment, liveBytes: scan.liveBytes, head: scan.head };
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Check every record of buf[0, size), feeding the intact ones to `scan`, reporting damage. Returns
 * where the intact records end (size, or the start of a torn tail). `knownEndSeq` is one past the
 * last seq the file held, when something else says so (marker, next segment): it makes the count
 * of messages lost in a torn tail exact.
 */
function scanChecked(
  ctx: SegmentContext,
  segment: Segment,
  buf: Buffer,
  size: number,
  scan: SegmentScan,
  knownEndSeq: number | undefined,
): number {
  const { meta, log, totals } = ctx;
  let off = 0;
  while (off < size) {
    let length = checkRecord(buf, off, size);
    if (length > 0 && recordSeq(buf, off) <= scan.lastSeq) length = -1;
    if (length > 0) {
      scan.add(buf, off, length, recordSeq(buf, off));
      off += length;
      continue;
    }
    const next = resync(buf, off, size, scan.lastSeq);
    if (next < 0) {
      const exact = knownEndSeq !== undefined && knownEndSeq > scan.lastSeq;
      const messagesLost = exact ? scan.unackedIn(scan.lastSeq + 1, knownEndSeq) : scan.readableInTail(buf, off, size);
      log('warn', 'dropped a torn or damaged tail of a segment', {
        vhost: meta.vhost,
        queue: meta.name,
        file: segment.path,
        offset: off,
        bytes: size - off,
        messagesLost,
        messagesLostExact: exact,
      });
      totals.tornTails++;
      totals.messagesLost += messagesLost;
      if (!exact) totals.messagesLostExact = false;
      return off;
    }
    const nextSeq = recordSeq(buf, next);
    const messagesLost = scan.unackedIn(scan.lastSeq + 1, nextSeq);
    log('warn', 'skipped damaged bytes in a segment', {
      vhost: meta.vhost,
      queue: meta.name,
      file: segment.path,
      offset: off,
      bytes: next - off,
      seqsLost: Math.max(0, nextSeq - scan.lastSeq - 1),
      messagesLost,
    });
    totals.damagedRegions++;
    totals.messagesLost += messagesLost;
    scan.damaged = true;
    off = next;
  }
  return size;
}

/** Files at least this big are read in chunks, each chunk's crc computed while the next one is read. */
const PIPELINE_MIN_BYTES = 1024 * 1024;
const PIPELINE_CHUNK_BYTES = 4 * 1024 * 1024;

/**
 * Read up to `size` bytes from the start of the file into buf (fewer if it is shorter now), with
 * the crc32 of what was read. Big files are read in the thread pool a chunk ahead, so reading and
 * checksumming run on two cores; small ones synchronously (a thread-pool round trip costs more).
 */
async function readWithCrc(fd: number, buf: Buffer, size: number): Promise<{ length: number; crc: number }> {
  if (size < PIPELINE_MIN_BYTES) {
    const length = readUpTo(fd, buf, size);
    return { length, crc: crc32(buf.subarray(0, length)) };
  }
  const readAt = (position: number): Promise<number> =>
    new Promise((resolve, reject) => {
      const n = Math.min(PIPELINE_CHUNK_BYTES, size - position);
      fs.read(fd, buf, position, n, position, (err, bytes) => (err ? reject(err) : resolve(bytes)));
    });
  let crc = 0;
  let done = 0;
  let next: Promise<number> | undefined = readAt(0);
  while (next) {
    const n = await next;
    if (n === 0) break;
    const start = done;
    done += n;
    next = done < size ? readAt(done) : undefined;
    crc = crc32(buf.subarray(start, done), crc);
  }
  return { length: done, crc };
}

/** Read up to `size` bytes from the start of the file (fewer if it is shorter now). */
function readUpTo(fd: number, buf: Buffer, size: number): number {
  let done = 0;
  while (done < size) {
    const n = fs.readSync(fd, buf, done, size - done, done);
    if (n === 0) break;
    done += n;
  }
  return done;
}
