/**
 * Recovery of one queue directory after a clean stop or a crash.
 *
 * Each segment is read whole (they are bounded by segmentBytes) and walked record by record, each
 * one checked by length, magic and crc32:
 * - a record that fails is damage. The scan looks for the next intact record (resync on the magic
 *   bytes, then a full check, with a seq above the last good one). If there is one, the bytes in
 *   between are skipped and reported (file, offset, bytes, seqs lost); if there is none, this is a
 *   torn tail (a write cut short by kill -9 or power loss): the file is truncated there.
 * - intact records that are transient, or covered by the segment's ack ranges, are dead.
 * Live records are not loaded: the list reads them back when its head reaches them. A segment with
 * nothing live is deleted. Nothing here throws for damaged data: the worst case is a queue that
 * comes back with fewer messages, and a log line saying so.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { RecoveredQueueState } from './durable-message-list.js';
import { MARK_FILE } from './durable-message-list.js';
import type { StoreLogger } from './logger.js';
import {
  checkRecord,
  decodeMark,
  readAckRecords,
  recordHeaderLength,
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
  transientDropped: number;
  damagedRegions: number;
  tornTails: number;
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

export function recoverQueueDir(
  dir: string,
  log: StoreLogger,
  scratch: ScratchBuffer,
  totals: RecoveryTotals,
  progress: () => void,
): RecoveredQueue | undefined {
  const meta = readQueueMeta(dir);
  if (!meta) {
    log('warn', 'queue directory without a readable queue.json; left alone', { dir });
    return undefined;
  }
  const names = fs.readdirSync(dir);
  const segmentNames = names.filter((n) => SEGMENT_FILE.test(n)).sort();
  const withSegment = new Set(segmentNames.map((n) => n.slice(0, -4)));
  for (const n of names) {
    // Ack files whose segment is gone, and temporary files of an interrupted create, are leftovers.
    if ((n.endsWith('.ack') && !withSegment.has(n.slice(0, -4))) || n.endsWith('.tmp')) {
      fs.rmSync(path.join(dir, n), { force: true });
    }
  }

  const segments: Segment[] = [];
  let highestSeq = 0;
  let length = 0;
  let bytes = 0;
  for (const name of segmentNames) {
    const firstSeq = Number(SEGMENT_FILE.exec(name)![1]);
    highestSeq = Math.max(highestSeq, firstSeq);
    const found = recoverSegment(dir, firstSeq, meta, log, scratch, totals);
    progress();
    if (!found) continue;
    const { segment, liveBytes } = found;
    highestSeq = Math.max(highestSeq, segment.endSeq - 1);
    if (segment.live === 0) {
      fs.rmSync(segment.path, { force: true });
      fs.rmSync(segment.ackPath, { force: true });
      continue;
    }
    segments.push(segment);
    length += segment.live;
    bytes += liveBytes;
  }

  let mark = readMark(dir);
  const markDamaged = mark === undefined;
  if (mark === undefined) {
    log('warn', 'delivered mark damaged: every recovered message is marked redelivered', { dir });
    mark = highestSeq;
  }
  const nextSeq = Math.max(highestSeq, mark, 0) + 1;
  return { meta, segments, nextSeq, mark, markDamaged, length, bytes };
}

function recoverSegment(
  dir: string,
  firstSeq: number,
  meta: QueueMeta,
  log: StoreLogger,
  scratch: ScratchBuffer,
  totals: RecoveryTotals,
): { segment: Segment; liveBytes: number } | undefined {
  const segment = new Segment(dir, firstSeq);
  const acked = readAckRanges(segment.ackPath);
  const fd = fs.openSync(segment.path, 'r+');
  try {
    let size = fs.fstatSync(fd).size;
    const buf = scratch.ensure(size);
    let done = 0;
    while (done < size) {
      const n = fs.readSync(fd, buf, done, size - done, done);
      if (n === 0) break;
      done += n;
    }
    size = done;

    let bits = new Uint8Array(Math.ceil(size / 33 / 8) + 1);
    let off = 0;
    let lastSeq = firstSeq - 1;
    let records = 0;
    let live = 0;
    let liveBytes = 0;
    let ackIndex = 0;
    while (off < size) {
      let length = checkRecord(buf, off, size);
      if (length > 0 && recordSeq(buf, off) <= lastSeq) length = -1;
      if (length <= 0) {
        const next = resync(buf, off, size, lastSeq);
        if (next < 0) {
          log('warn', 'dropped a torn or damaged tail of a segment', {
            vhost: meta.vhost,
            queue: meta.name,
            file: segment.path,
            offset: off,
            bytes: size - off,
          });
          totals.tornTails++;
          fs.ftruncateSync(fd, off);
          size = off;
          break;
        }
        const nextSeq = recordSeq(buf, next);
        log('warn', 'skipped damaged bytes in a segment', {
          vhost: meta.vhost,
          queue: meta.name,
          file: segment.path,
          offset: off,
          bytes: next - off,
          seqsLost: Math.max(0, nextSeq - lastSeq - 1),
        });
        totals.damagedRegions++;
        off = next;
        continue;
      }
      const seq = recordSeq(buf, off);
      lastSeq = seq;
      records++;
      while (ackIndex < acked.length && acked[ackIndex]!.end <= seq) ackIndex++;
      const isAcked = ackIndex < acked.length && acked[ackIndex]!.start <= seq;
      if (!recordPersistent(buf, off)) totals.transientDropped++;
      else if (!isAcked) {
        const i = seq - firstSeq;
        if (i >>> 3 >= bits.length) {
          const grown = new Uint8Array(Math.max(bits.length * 2, (i >>> 3) + 1));
          grown.set(bits);
          bits = grown;
        }
        bits[i >>> 3]! |= 1 << (i & 7);
        live++;
        liveBytes += length - recordHeaderLength(buf, off);
      }
      off += length;
    }

    if (records === 0 && size === 0) {
      fs.rmSync(segment.path, { force: true });
      fs.rmSync(segment.ackPath, { force: true });
      return undefined;
    }
    segment.end = segment.written = size;
    segment.endSeq = lastSeq + 1;
    segment.live = live;
    // Every record live and no seq missing: no need for the bitmap.
    const dense = live === records && lastSeq - firstSeq + 1 === records;
    segment.liveBits = dense ? undefined : bits.slice(0, ((lastSeq - firstSeq) >>> 3) + 1);
    totals.messages += live;
    totals.bytes += size;
    totals.segments++;
    return { segment, liveBytes };
  } finally {
    fs.closeSync(fd);
  }
}

/** The segment's ack ranges, sorted and merged, as [start, end) seqs. */
function readAckRanges(ackPath: string): { start: number; end: number }[] {
  let buf: Buffer;
  try {
    buf = fs.readFileSync(ackPath);
  } catch {
    return [];
  }
  const ranges = readAckRecords(buf, buf.length)
    .map((r) => ({ start: r.seq, end: r.seq + r.count }))
    .sort((a, b) => a.start - b.start);
  const merged: { start: number; end: number }[] = [];
  for (const r of ranges) {
    const last = merged[merged.length - 1];
    if (last && r.start <= last.end) last.end = Math.max(last.end, r.end);
    else merged.push(r);
  }
  return merged;
}

/** The delivered mark: 0 if never written, undefined if damaged. */
function readMark(dir: string): number | undefined {
  let buf: Buffer;
  try {
    buf = fs.readFileSync(path.join(dir, MARK_FILE));
  } catch {
    return 0;
  }
  return decodeMark(buf, buf.length);
}
