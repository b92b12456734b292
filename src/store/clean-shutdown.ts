/**
 * The clean-shutdown marker: `clean-shutdown.json` in the data dir, written (atomically, fsynced)
 * by MessageStore.close() and removed by the next open(). For every queue closed cleanly it lists
 * each segment file's size and crc32 of the whole file (and the same for its .ack file), plus what
 * the segment held (endSeq, persistent records and their body bytes: for a segment nothing was
 * consumed from, that is all recovery needs, so it does not even walk the records).
 *
 * Recovery uses it to avoid checking every record's crc: a segment whose size and whole-file crc
 * still match, and that is not newer than the marker, holds exactly the intact records that were
 * written, so one crc32 call over the file replaces one per record. Anything that does not match
 * (no marker after a crash, a file changed or damaged since) gets the full per-record checks.
 *
 * Why a stale marker is harmless: a marker only vouches for file contents it has a checksum of.
 * If the broker crashes after open() removed the marker but before the removal reached the disk,
 * the old marker can come back; files written since then no longer match it, so they get the full
 * checks, and the ones that still match are byte for byte what was verified. That is why open()
 * does not need to fsync the removal.
 *
 * The checksums are kept as the files are written (Segment.fileCrc, Segment.ackCrc), so writing
 * the marker reads nothing back. A segment whose contents are not all intact records (recovery
 * skipped damage inside it) has no fileCrc and is left out: it is checked in full at every start.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { DataDirChanges } from '../data-dir-changes.js';
import { writeFileDurably } from './durable-file.js';

export const CLEAN_SHUTDOWN_FILE = 'clean-shutdown.json';
const VERSION = 1;

/** One segment as it was at a clean close. */
export interface CleanSegment {
  firstSeq: number;
  /** Bytes of the .seg file, and crc32 of all of them. */
  size: number;
  crc: number;
  /** One past the last seq in the file. */
  endSeq: number;
  /** Bytes of the .ack file (0 if there is none) and their crc32; undefined when the ack file held damaged records. */
  ackSize: number;
  ackCrc: number | undefined;
  /** Persistent records in the file (acked or not) and their body bytes: with no acks and no transient records, all there is to know. */
  persistentRecords: number;
  persistentBodyBytes: number;
}

/** What recovery gets from a marker: per queue directory (relative to the data dir), per firstSeq. */
export interface CleanShutdown {
  /** The marker's mtime: a file modified after it is not trusted. */
  writtenAtMs: number;
  queues: Map<string, Map<number, CleanSegment>>;
}

export function cleanShutdownPath(dataDir: string): string {
  return path.join(dataDir, CLEAN_SHUTDOWN_FILE);
}

/**
 * On-disk form, compact for many queues: a segment is
 * [firstSeq, size, crc, endSeq, ackSize, ackCrc|null, persistentRecords, persistentBodyBytes].
 */
type SegmentTuple = [number, number, number, number, number, number | null, number, number];

export function writeCleanShutdown(dataDir: string, queues: Map<string, CleanSegment[]>, changes?: DataDirChanges): void {
  const out: Record<string, SegmentTuple[]> = {};
  for (const [dir, segments] of queues) {
    out[dir] = segments.map((s) => [
      s.firstSeq,
      s.size,
      s.crc,
      s.endSeq,
      s.ackSize,
      s.ackCrc ?? null,
      s.persistentRecords,
      s.persistentBodyBytes,
    ]);
  }
  writeFileDurably(cleanShutdownPath(dataDir), JSON.stringify({ version: VERSION, queues: out }), changes);
}

/**
 * Read and remove the marker. Undefined when there is none (first start, or after a crash) or it
 * cannot be used; a malformed entry is dropped (its segments are then checked in full).
 */
export function takeCleanShutdown(dataDir: string, changes?: DataDirChanges): CleanShutdown | undefined {
  const file = cleanShutdownPath(dataDir);
  let text: string;
  let writtenAtMs: number;
  try {
    writtenAtMs = fs.statSync(file).mtimeMs;
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  // Gone before any queue can write again: from here on the files may change.
  fs.rmSync(file, { force: true });
  changes?.remove(file);
  let doc: { version?: unknown; queues?: unknown };
  try {
    doc = JSON.parse(text) as typeof doc;
  } catch {
    return undefined;
  }
  if (doc.version !== VERSION || typeof doc.queues !== 'object' || doc.queues === null) return undefined;
  const queues = new Map<string, Map<number, CleanSegment>>();
  for (const [dir, list] of Object.entries(doc.queues as Record<string, unknown>)) {
    if (!Array.isArray(list)) continue;
    const segments = new Map<number, CleanSegment>();
    for (const t of list as unknown[]) {
      const s = parseTuple(t);
      if (s) segments.set(s.firstSeq, s);
    }
    queues.set(dir, segments);
  }
  return { writtenAtMs, queues };
}

function parseTuple(t: unknown): CleanSegment | undefined {
  if (!Array.isArray(t) || t.length !== 8) return undefined;
  const [firstSeq, size, crc, endSeq, ackSize, ackCrc, persistentRecords, persistentBodyBytes] = t as unknown[];
  const ints = [firstSeq, size, crc, endSeq, ackSize, persistentRecords, persistentBodyBytes];
  if (!ints.every((n) => Number.isSafeInteger(n) && (n as number) >= 0)) return undefined;
  if (ackCrc !== null && !Number.isSafeInteger(ackCrc)) return undefined;
  return {
    firstSeq: firstSeq as number,
    size: size as number,
    crc: crc as number,
    endSeq: endSeq as number,
    ackSize: ackSize as number,
    ackCrc: ackCrc === null ? undefined : (ackCrc as number),
    persistentRecords: persistentRecords as number,
    persistentBodyBytes: persistentBodyBytes as number,
  };
}
