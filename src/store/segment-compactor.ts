/**
 * Compaction: disk comes back when consumers ack out of order. A segment is deleted once nothing in
 * it is live; one message held unacked (or requeued and still queued) would otherwise keep its whole
 * 16 MiB file. The compactor rewrites such a segment in place, keeping only the records a restart
 * would recover, under the same name and with the same seqs.
 *
 * Why in place, and not by copying the live messages to the active segment as RabbitMQ's shared
 * message store or LavinMQ do: a queue's order is its seq order, and seqs are what segment names,
 * ack logs, the delivered mark and recovery are keyed on. A record keeps its seq, so its position
 * in the queue cannot change, whether it is delivered and unacked (it comes back redelivered, at its
 * place, after a crash) or requeued (served before everything never delivered, as before); nothing
 * else has to be renumbered or remembered across a crash.
 *
 * Which segments (DurableMessageList.compactionCandidates): not the active one; every live message
 * in it already read into memory (out with a consumer, requeued, or in the head window: the list
 * never reads this file again, it is kept only for recovery); fewer than a quarter of its records
 * live. So a queue's segment files hold at most 4x its live persistent bytes, plus the active
 * segment and the segments of ready messages still only on disk (which are all live), plus what
 * accumulates between two sweeps.
 *
 * Steps, each safe against kill -9 (and power loss) at any point:
 *   1. If the segment's writes went through the shared journal, fdatasync it and append a
 *      journal tombstone for it, and wait until a group-commit round made that durable: a replay
 *      must never write the old bytes into the new file.
 *   2. Write pending acks; note the ack log's size. Read that much of the ack log and the segment
 *      file (in the thread pool): the records kept are the persistent ones neither acked in the
 *      log nor dropped at recovery — exactly what recovery would bring back from these two files.
 *   3. Write them to `<seg>.tmp`, fdatasync it. (A crash leaves a .tmp, which recovery deletes.)
 *   4. In one turn of the event loop: rename it over the segment, fsync the directory. The ack
 *      log's records now only name seqs that are not in the file: it is deleted, unless acks were
 *      appended to it during steps 2-3 (they are for kept records; it stays, harmless, until the
 *      segment goes). A crash between the rename and the deletion leaves acks for absent seqs.
 * Confirmed, unacked messages are in the old file until the rename and in the new one after it;
 * acked ones are in neither the new file nor outside the ack log; nothing is ever duplicated,
 * because seqs are unchanged.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { DataDirChanges } from '../data-dir-changes.js';
import { readAckRecords } from './ack-log.js';
import { crc32 } from './crc32.js';
import { syncDirSync } from './durable-file.js';
import type { StoreLogger } from './logger.js';
import type { Persister } from './persister.js';
import { FIXED_HEADER, checkRecord, recordHeaderLength, recordPersistent, recordSeq } from './record.js';
import type { Segment } from './segment.js';

/** Compact a segment whose live records are fewer than this fraction of its records. */
export const COMPACT_BELOW_LIVE = 0.25;
/** Give up a compaction that would keep more than this fraction of the file's bytes. */
const WORTH_KEEPING = 0.5;
/** After an I/O error, leave the segment alone this long. */
const RETRY_AFTER_MS = 60_000;

/** What the compactor needs from the list that owns the segment. */
export interface CompactionHost {
  readonly name: string;
  readonly vhost: string;
  readonly persister: Persister;
  readonly changes: DataDirChanges | undefined;
  /** Still worth and safe to compact (the list is open, the segment not deleted nor active...). */
  stillCompactable(segment: Segment): boolean;
  /** Write buffered records and ack ranges; false if that failed. */
  flushWrites(): boolean;
  /** The file is about to be replaced: drop cached bytes and read fds of it. */
  replacing(segment: Segment): void;
}

export interface CompactionResult {
  before: number;
  after: number;
}

/** Compact one segment (steps above). Resolves undefined if it was not done (not worth it, or the list moved on). */
export async function compactSegment(host: CompactionHost, segment: Segment, log: StoreLogger): Promise<CompactionResult | undefined> {
  segment.compacting = true;
  const tmp = `${segment.path}.tmp`;
  try {
    if (segment.journalPath !== undefined) {
      await fdatasyncPath(segment.path);
      if (!host.stillCompactable(segment)) return undefined;
      await new Promise<void>((resolve) => host.persister.forgetFileDurably(segment.path, resolve));
      segment.journalPath = undefined;
    }
    if (!host.stillCompactable(segment) || !host.flushWrites()) return undefined;
    const ackSize = segment.acks.size;
    const size = segment.written;
    const [acks, data] = await Promise.all([readPrefix(segment.acks.path, ackSize), readPrefix(segment.path, size)]);
    if (data.length < size) throw new Error(`segment file shorter (${data.length}) than written (${size})`);
    const kept = keptRecords(segment, data, acks);
    if (!kept) {
      log('warn', 'compaction: segment structure not as expected; left alone', { queue: host.name, vhost: host.vhost, file: segment.path });
      segment.compactRetryAt = Date.now() + RETRY_AFTER_MS;
      return undefined;
    }
    if (kept.bytes > size * WORTH_KEEPING) {
      segment.compactSkippedAtLive = segment.live;
      return undefined;
    }
    const out = Buffer.concat(kept.parts, kept.bytes);
    await writeSynced(tmp, out);
    if (!host.stillCompactable(segment) || segment.syncRounds > 0 || !host.flushWrites()) {
      fs.rmSync(tmp, { force: true });
      return undefined;
    }
    // Step 4, without yielding: nothing can append acks or read the file in between.
    host.replacing(segment);
    segment.closeFd();
    fs.renameSync(tmp, segment.path);
    syncDirSync(path.dirname(segment.path));
    const changes = host.changes;
    if (changes) {
      changes.truncate(tmp, 0);
      changes.write(tmp, 0, out);
      changes.rename(tmp, segment.path);
    }
    segment.end = segment.written = out.length;
    segment.fileCrc = crc32(out);
    segment.records = kept.records;
    segment.persistentRecords = kept.records;
    segment.persistentBodyBytes = kept.bodyBytes;
    if (segment.acks.size === ackSize && !segment.acks.hasPending && !segment.acks.hasDeferred) {
      // Journaled records of the old ack file must never be replayed into the new one.
      if (segment.acks.journalPath !== undefined) host.persister.forgetFile(segment.acks.path);
      segment.acks.clearAfterCompaction(changes);
    }
    return { before: size, after: out.length };
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    // The queue was deleted or closed meanwhile: nothing to report.
    if (!host.stillCompactable(segment)) return undefined;
    segment.compactRetryAt = Date.now() + RETRY_AFTER_MS;
    log('warn', 'compaction of a segment failed; it stays as it was', {
      queue: host.name,
      vhost: host.vhost,
      file: segment.path,
      error: (err as Error).message,
    });
    return undefined;
  } finally {
    segment.compacting = false;
  }
}

interface Kept {
  parts: Buffer[];
  bytes: number;
  records: number;
  bodyBytes: number;
}

/**
 * The records recovery would bring back: intact, persistent, live at recovery (liveBits) and not in
 * an acked range. Undefined if the file is not a chain of records with rising seqs (damage recovery
 * skipped: such a file is left as it is).
 */
function keptRecords(segment: Segment, data: Buffer, ackBytes: Buffer): Kept | undefined {
  const acked = readAckRecords(ackBytes, ackBytes.length)
    .map((r) => ({ start: r.seq, end: r.seq + r.count }))
    .sort((a, b) => a.start - b.start);
  const kept: Kept = { parts: [], bytes: 0, records: 0, bodyBytes: 0 };
  let ackIndex = 0;
  let lastSeq = -1;
  let off = 0;
  while (off < data.length) {
    if (data.length - off < FIXED_HEADER) return undefined;
    const length = data.readUInt32LE(off);
    if (length < FIXED_HEADER || length > data.length - off) return undefined;
    const seq = recordSeq(data, off);
    if (!(seq > lastSeq) || !Number.isSafeInteger(seq)) return undefined;
    lastSeq = seq;
    while (ackIndex < acked.length && acked[ackIndex]!.end <= seq) ackIndex++;
    const isAcked = ackIndex < acked.length && acked[ackIndex]!.start <= seq;
    if (!isAcked && recordPersistent(data, off) && segment.isLive(seq)) {
      // Only kept records are checked: a damaged one must not be carried into the new file.
      if (checkRecord(data, off, off + length) !== length) return undefined;
      kept.parts.push(data.subarray(off, off + length));
      kept.bytes += length;
      kept.records++;
      kept.bodyBytes += length - recordHeaderLength(data, off);
    }
    off += length;
  }
  return kept;
}

async function readPrefix(file: string, size: number): Promise<Buffer> {
  const buf = Buffer.allocUnsafe(size);
  if (size === 0) return buf;
  let handle: fs.promises.FileHandle;
  try {
    handle = await fs.promises.open(file, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return buf.subarray(0, 0);
    throw err;
  }
  try {
    let done = 0;
    while (done < size) {
      const { bytesRead } = await handle.read(buf, done, size - done, done);
      if (bytesRead === 0) break;
      done += bytesRead;
    }
    return buf.subarray(0, done);
  } finally {
    await handle.close();
  }
}

async function writeSynced(file: string, data: Buffer): Promise<void> {
  const handle = await fs.promises.open(file, 'w');
  try {
    let done = 0;
    while (done < data.length) done += (await handle.write(data, done, data.length - done, done)).bytesWritten;
    await handle.datasync();
  } finally {
    await handle.close();
  }
}

async function fdatasyncPath(file: string): Promise<void> {
  const handle = await fs.promises.open(file, 'r');
  try {
    await handle.datasync();
  } finally {
    await handle.close();
  }
}
