/**
 * The store's shared write-ahead journal: how one group-commit round makes the writes of many
 * queues durable with one fdatasync instead of one per segment file.
 *
 * A flush of one or two busy lists writes their segment files and the round fdatasyncs them
 * (Persister.directSyncs: a lone busy queue costs one fdatasync and no extra bytes). A flush of
 * more lists appends all their records to the journal instead, which the round writes in one
 * pwritev and fdatasyncs alone: a round of 100 busy queues costs one write and one fdatasync, not
 * 100 of each. The write is usually done by libuv's thread pool (writePendingAsync), so the event
 * loop does not spend the kernel's time of copying every round's records into the page cache. The
 * lists keep those records in memory and write them to their segment files later, 128 KiB at a
 * time (segment-writer.ts), at the price of writing those bytes twice; their ack records go through
 * the journal the same way (ack-log.ts; the checkpoint does not fdatasync ack files, which are
 * never synced).
 *
 * Files: `<data dir>/journal/<16 digits>.wal`, append-only, a new one once the current one passes
 * JOURNAL_FILE_BYTES or the store has been idle for a sweep. Entries (little-endian):
 *
 *   u32 length (whole entry)  u32 crc32 (of everything after it)  u8 kind  u16 n  n bytes path
 *   kind 1 (write):      f64 offset, then the bytes written at that offset of that file (ack logs)
 *   kind 2 (tombstone):  nothing: the file or directory at path was deleted; writes before this
 *                        entry to it (or under it) must never be replayed (a queue deleted and
 *                        declared again reuses its segment file names)
 *   kind 3 (records):    as kind 1, for whole message records of a segment file; its crc32 covers
 *                        the entry's own fields only (kind to offset): the bytes are records that
 *                        carry a length and crc32 each (record.ts), and replay checks every one of
 *                        them, so the journal does not checksum every message a second time
 *
 * Paths are relative to the data dir. A sealed file is checkpointed in the background: the lists
 * first write every record they still hold in memory (beforeCheckpoint), then every segment file
 * it wrote to is fdatasynced (CHECKPOINT_SYNCS at a time, so it never takes the whole thread pool
 * from the rounds), then the journal file is deleted. A clean close checkpoints everything.
 *
 * At start (replayJournal, before recovery reads the segments), every entry up to the first torn
 * or damaged one of each file is applied in order: the bytes are written at their offset where the
 * file does not already hold them (a file that no longer exists, or is shorter than the offset,
 * is skipped: its writes were never confirmed or it was deleted), the touched files are
 * fdatasynced and the journal files deleted. Writes that already reached the segment file cost a
 * read and a compare, no write and no free space; after a kill -9 the records the lists still held
 * in memory (at most DEFER_TOTAL_BYTES) are written here, after a power loss also what the page
 * cache lost.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { DataDirChanges } from '../data-dir-changes.js';
import { crc32Range } from './crc32.js';
import { syncDirSync, syncPath, writevAll, writevAllAsync } from './durable-file.js';
import { eachLimited } from './limited.js';
import type { StoreLogger } from './logger.js';
import { checkRecord } from './record.js';

export const JOURNAL_DIR = 'journal';
const JOURNAL_FILE = /^(\d{16})\.wal$/;
/** Seal the current journal file past this size (bounds its disk use and the replay after a crash). */
export const JOURNAL_FILE_BYTES = 32 * 1024 * 1024;
/**
 * Sealed files waiting for their checkpoint beyond which rounds stop using the journal (and
 * fdatasync every segment file written in them: one per busy queue). A checkpoint costs one
 * fdatasync per queue that file holds writes of; with 100 busy queues, 3 files of slack and 2 syncs
 * at a time fell behind most of the time (1,800-6,500 such fallback syncs per 5 s in
 * bench/store-throughput.ts), with 8 and 3 it never did. Bounds the journal to (8 + 1) x 32 MiB.
 */
const MAX_SEALED = 8;
/** fdatasyncs a checkpoint runs at once (of libuv's 4 threads; a round's own syncs share them). */
const CHECKPOINT_SYNCS = 3;

const KIND_WRITE = 1;
const KIND_TOMBSTONE = 2;
const KIND_RECORDS = 3;
const FIXED = 4 + 4 + 1 + 2;

/** What the write entries of one file share: its name's bytes, and the crc32 of kind, name length and name for each kind. */
interface EntryPrefix {
  readonly name: Buffer;
  readonly crcRecords: number;
  readonly crcWrite: number;
}

/** One journal file being written or waiting for its checkpoint. */
export class JournalFile {
  fd = -1;
  size = 0;
  /** Segment files (relative paths) it holds writes for: what its checkpoint must fdatasync. */
  readonly paths = new Set<string>();
  /** fdatasyncs and writes in flight on fd: closing waits for them (a closed fd number may be reused at once). */
  private syncing = 0;
  writes = 0;
  private closeAfterSync = false;

  constructor(readonly file: string) {}

  /** fdatasync it (in the thread pool); its fd stays open until that is done. */
  sync(callback: (err: NodeJS.ErrnoException | null) => void): void {
    this.syncing++;
    fs.fdatasync(this.fd, (err) => {
      this.syncing--;
      this.closeIfDue();
      callback(err);
    });
  }

  /** A write of writePendingAsync ended. */
  wrote(): void {
    this.writes--;
    this.closeIfDue();
  }

  private closeIfDue(): void {
    if (this.syncing === 0 && this.writes === 0 && this.closeAfterSync) this.close();
  }

  close(): void {
    if (this.fd < 0) return;
    if (this.syncing > 0 || this.writes > 0) {
      this.closeAfterSync = true;
      return;
    }
    fs.closeSync(this.fd);
    this.fd = -1;
  }
}

export class Journal {
  readonly dir: string;
  private current: JournalFile | undefined;
  private readonly sealed: JournalFile[] = [];
  private nextNumber = 1;
  /** Entries buffered until the end of the persister's flush: headers and the writers' own buffers. */
  private batch: Buffer[] = [];
  private batchBytes = 0;
  private batchPaths: string[] = [];
  /** The tombstones in the batch: kept if its write fails (the writes in it are not needed then). */
  private batchTombstones: Buffer[] = [];
  private checkpointing = false;
  private closed = false;
  private writingAsync = false;
  /** Bytes appended since the last idle check (sealIfIdle). */
  private recentBytes = 0;
  /** Per path written to since the current file began (every busy list adds an entry or two per round). */
  private readonly prefixes = new Map<string, EntryPrefix>();
  /**
   * Called before a checkpoint fdatasyncs the segment files: they must hold every record of the
   * file first (lists keep some in memory: segment-writer.ts); it calls back once they do. False
   * puts the checkpoint off (a write failed); the store's sweep tries again.
   */
  beforeCheckpoint: (done: (ok: boolean) => void) => void = (done) => done(true);
  /**
   * An fd already open on a file the checkpoint must fdatasync (a busy queue's active segment),
   * held open until `release()`: one fdatasync in the thread pool instead of an open, an fdatasync
   * and a close (each a trip through the pool and back to the event loop).
   */
  openFile: (relPath: string) => { fd: number; release(): void } | undefined = () => undefined;

  constructor(
    readonly dataDir: string,
    private readonly log: StoreLogger,
  ) {
    this.dir = path.join(dataDir, JOURNAL_DIR);
  }

  /**
   * Whether rounds may use it now: not while checkpoints are behind (that bounds its disk use), nor
   * while a write of writePendingAsync is in flight (nothing may follow it in the file until it is
   * known to be whole: a failed one is cut back).
   */
  get accepting(): boolean {
    return !this.closed && this.sealed.length < MAX_SEALED && !this.writingAsync;
  }


  get hasPending(): boolean {
    return this.batchBytes > 0;
  }

  /** The file the last writePending() wrote to (the open round fdatasyncs it). */
  get currentFile(): JournalFile | undefined {
    return this.current;
  }

  /** Path of a file under the data dir as entries name it. */
  relative(file: string): string {
    return path.relative(this.dataDir, file);
  }

  /**
   * Buffer a write entry: `buffers` (total bytes `total`) were written at `offset` of `relPath`.
   * `records`: they are whole message records of a segment file, each with its own crc (kind 3);
   * otherwise any bytes (an ack log's, kind 1), which the checkpoint need not fdatasync (never synced).
   */
  addWrite(relPath: string, offset: number, buffers: readonly Buffer[], total: number, records = true): void {
    const prefix = this.prefixes.get(relPath) ?? this.newPrefix(relPath);
    const nameLength = prefix.name.length;
    const header = Buffer.allocUnsafe(FIXED + nameLength + 8);
    header.writeUInt32LE(header.length + total, 0);
    header[8] = records ? KIND_RECORDS : KIND_WRITE;
    header.writeUInt16LE(nameLength, 9);
    header.set(prefix.name, FIXED);
    header.writeDoubleLE(offset, FIXED + nameLength);
    // The crc of the fields before the offset is the path's: only the offset's 8 bytes are new.
    let crc = crc32Range(header, FIXED + nameLength, header.length, records ? prefix.crcRecords : prefix.crcWrite);
    // Ack records come a few bytes per list per round: crc32Range does those in JS, cheaper than a native call.
    if (!records) for (const b of buffers) crc = crc32Range(b, 0, b.length, crc);
    header.writeUInt32LE(crc, 4);
    const batch = this.batch;
    batch.push(header);
    for (let i = 0; i < buffers.length; i++) batch.push(buffers[i]!);
    this.batchBytes += header.length + total;
    if (records) this.batchPaths.push(relPath);
  }

  private newPrefix(relPath: string): EntryPrefix {
    const name = Buffer.from(relPath);
    const fields = Buffer.allocUnsafe(3 + name.length);
    fields.writeUInt16LE(name.length, 1);
    fields.set(name, 3);
    fields[0] = KIND_RECORDS;
    const crcRecords = crc32Range(fields, 0, fields.length);
    fields[0] = KIND_WRITE;
    const prefix = { name, crcRecords, crcWrite: crc32Range(fields, 0, fields.length) };
    this.prefixes.set(relPath, prefix);
    return prefix;
  }

  /** Buffer a tombstone: the file or directory `relPath` was deleted. */
  addTombstone(relPath: string): void {
    if (!this.current && this.sealed.length === 0 && this.batchBytes === 0) return; // nothing to shadow
    const name = Buffer.from(relPath);
    const entry = Buffer.allocUnsafe(FIXED + name.length);
    entry.writeUInt32LE(entry.length, 0);
    entry.writeUInt8(KIND_TOMBSTONE, 8);
    entry.writeUInt16LE(name.length, 9);
    name.copy(entry, FIXED);
    entry.writeUInt32LE(crc32Range(entry, 8, entry.length), 4);
    this.batch.push(entry);
    this.batchBytes += entry.length;
    this.batchTombstones.push(entry);
  }

  /**
   * Append the buffered entries to the current file (created if needed: `created` is then told so
   * the round fsyncs the directory). Returns the bytes written, or -1 if the write failed: the
   * file is then cut back to its last whole entry (or sealed if even that fails) and the caller
   * must make those segment writes durable another way. Tombstones are kept for the next try.
   */
  writePending(created: (dir: string) => void): number {
    if (this.batchBytes === 0) return 0;
    let file = this.current;
    try {
      file ??= this.createFile(created);
      writevAll(file.fd, this.batch, file.size, this.batchBytes);
    } catch (err) {
      if (file && file.fd >= 0) this.cutBack(file);
      return this.writeFailed(err as Error);
    }
    const written = this.batchBytes;
    this.taken(file);
    return written;
  }

  /**
   * writePending in libuv's thread pool, so that the event loop does not spend the kernel's time of
   * copying a round's records into the page cache: returns the bytes queued, or -1 if the file
   * could not even be created (as writePending's failure). `done(err)` once they are written; until
   * then the buffers of the batch must not change and nothing else is appended (`accepting` is
   * false, other writePending calls must wait). A failed write is cut back from the file and its
   * tombstones go back to the batch, ahead of any added since; the caller makes its other writes
   * durable another way.
   */
  writePendingAsync(created: (dir: string) => void, done: (err: Error | null) => void): number {
    if (this.batchBytes === 0) return 0;
    let file = this.current;
    try {
      file ??= this.createFile(created);
    } catch (err) {
      return this.writeFailed(err as Error);
    }
    const { batch, batchBytes, batchTombstones } = this;
    const offset = file.size;
    this.taken(file);
    const target = file;
    target.writes++;
    this.writingAsync = true;
    writevAllAsync(target.fd, batch, offset, batchBytes, (err) => {
      this.writingAsync = false;
      if (err) {
        this.log('error', 'journal write failed; its round syncs its segment files instead', { error: err.message });
        target.size = offset;
        if (this.current === target) this.cutBack(target);
        // Sealed meanwhile (the round that owns this write started): truncating it is enough.
        else {
          try {
            fs.ftruncateSync(target.fd, offset);
          } catch {
            // The torn entry is its last: replay stops there, and nothing is appended to a sealed file.
          }
        }
        this.batch.unshift(...batchTombstones);
        this.batchTombstones.unshift(...batchTombstones);
        for (const t of batchTombstones) this.batchBytes += t.length;
      }
      target.wrote();
      done(err);
    });
    return batchBytes;
  }

  private createFile(created: (dir: string) => void): JournalFile {
    const file = new JournalFile(path.join(this.dir, `${String(this.nextNumber++).padStart(16, '0')}.wal`));
    fs.mkdirSync(this.dir, { recursive: true });
    file.fd = fs.openSync(file.file, 'wx');
    this.current = file;
    created(this.dir);
    return file;
  }

  /** The batch is in (or on its way to) `file`: it is empty again. */
  private taken(file: JournalFile): void {
    file.size += this.batchBytes;
    for (const p of this.batchPaths) file.paths.add(p);
    this.recentBytes += this.batchBytes;
    this.batch = [];
    this.batchBytes = 0;
    this.batchPaths = [];
    this.batchTombstones = [];
  }

  /** A write of the batch failed: only its tombstones stay, for the next write. */
  private writeFailed(err: Error): number {
    this.log('error', 'journal write failed; this round syncs its segment files instead', { error: err.message });
    this.batch = this.batchTombstones;
    this.batchBytes = this.batch.reduce((n, b) => n + b.length, 0);
    this.batchTombstones = [...this.batch];
    this.batchPaths = [];
    return -1;
  }

  /**
   * Stop appending to the current file if it is full (or `force` and it has anything); returns it
   * (the round starting now fdatasyncs it, then calls checkpoint()). Only called as a round starts,
   * so every byte of a sealed file is durable before any entry of the next file can be.
   */
  sealIfDue(force: boolean): JournalFile | undefined {
    const file = this.current;
    if (!file || (file.size < JOURNAL_FILE_BYTES && !(force && file.size > 0))) return undefined;
    this.current = undefined;
    // Paths of deleted files go with it (the next file's writers add theirs again).
    this.prefixes.clear();
    this.sealed.push(file);
    return file;
  }

  /** True (once) when nothing was appended since the previous call but the current file has entries. */
  idleWithEntries(): boolean {
    const idle = this.recentBytes === 0 && this.current !== undefined && this.current.size > 0;
    this.recentBytes = 0;
    return idle;
  }

  /**
   * Sealed files, oldest first: fdatasync the segment files each wrote to, CHECKPOINT_SYNCS at a
   * time (the rest of libuv's pool stays free for the rounds), then delete it.
   */
  checkpoint(): void {
    if (this.checkpointing || this.closed) return;
    const file = this.sealed[0];
    if (!file) return;
    this.checkpointing = true;
    this.beforeCheckpoint((ok) => {
      if (ok) this.syncCovered(file);
      else this.checkpointing = false;
    });
  }

  /** Checkpoint, once the segment files hold every record of `file`: fdatasync them, then delete it. */
  private syncCovered(file: JournalFile): void {
    let failed = false;
    eachLimited(
      [...file.paths],
      CHECKPOINT_SYNCS,
      (p, ended) => this.syncCovered1(p, ended),
      (err, p) => {
        if (this.closed) return false;
        if (err && !failed) {
          failed = true;
          this.log('error', 'journal checkpoint: fdatasync failed; the journal file is kept', { file: p, error: err.message });
        }
        return !failed;
      },
      () => {
        if (this.closed) return;
        if (failed) this.checkpointing = false;
        else this.removeSealed(file);
      },
    );
  }

  /**
   * Clean close: every segment file the journal covers is fdatasynced, then the journal is deleted
   * (`keep`: some segment file lacks records of it: only closed, replayed at the next start).
   */
  closeSync(extraPaths: Iterable<string>, keep = false): void {
    if (this.closed) return;
    this.closed = true;
    const files = [...this.sealed, ...(this.current ? [this.current] : [])];
    if (keep) {
      for (const f of files) f.close();
      this.log('error', 'some journaled records could not be written to their segment files; the journal is kept for the next start');
      return;
    }
    const paths = new Set<string>(extraPaths);
    for (const f of files) for (const p of f.paths) paths.add(p);
    try {
      for (const p of paths) syncFileSync(path.join(this.dataDir, p));
      for (const f of files) {
        f.close();
        fs.rmSync(f.file, { force: true });
      }
      if (files.length > 0) syncDirSync(this.dir);
    } catch (err) {
      // The journal stays: the next start replays it.
      this.log('error', 'journal checkpoint at close failed; it will be replayed at the next start', { error: (err as Error).message });
    }
  }

  /** fdatasync one file a checkpoint covers (through its open fd if it has one). */
  private syncCovered1(relPath: string, callback: (err: NodeJS.ErrnoException | null) => void): void {
    const open = this.openFile(relPath);
    if (!open) return syncPath(path.join(this.dataDir, relPath), callback, true);
    fs.fdatasync(open.fd, (err) => {
      open.release();
      callback(err);
    });
  }

  private removeSealed(file: JournalFile): void {
    file.close();
    fs.unlink(file.file, (err) => {
      this.checkpointing = false;
      if (err && err.code !== 'ENOENT') {
        this.log('warn', 'could not delete a checkpointed journal file', { file: file.file, error: err.message });
      }
      const i = this.sealed.indexOf(file);
      if (i >= 0) this.sealed.splice(i, 1);
      this.checkpoint();
    });
  }

  private cutBack(file: JournalFile): void {
    try {
      fs.ftruncateSync(file.fd, file.size);
    } catch {
      // A torn entry would hide every later one from replay: never append to this file again.
      this.current = undefined;
      this.sealed.push(file);
    }
  }
}

/** Parse one journal file: entries up to the first torn or damaged one. */
function* entries(buf: Buffer): Generator<{ kind: number; path: string; offset: number; data: Buffer }> {
  let off = 0;
  while (off + FIXED <= buf.length) {
    const length = buf.readUInt32LE(off);
    if (length < FIXED || off + length > buf.length) return;
    const kind = buf.readUInt8(off + 8);
    const n = buf.readUInt16LE(off + 9);
    if (kind === KIND_RECORDS) {
      const start = off + FIXED + n + 8;
      if (start > off + length || crc32Range(buf, off + 8, start) !== buf.readUInt32LE(off + 4)) return;
      if (!wholeRecords(buf, start, off + length)) return;
    } else if (crc32Range(buf, off + 8, off + length) !== buf.readUInt32LE(off + 4)) return;
    const name = buf.toString('utf8', off + FIXED, off + FIXED + n);
    if ((kind === KIND_WRITE || kind === KIND_RECORDS) && FIXED + n + 8 <= length) {
      const offset = buf.readDoubleLE(off + FIXED + n);
      yield { kind: KIND_WRITE, path: name, offset, data: buf.subarray(off + FIXED + n + 8, off + length) };
    } else if (kind === KIND_TOMBSTONE) {
      yield { kind, path: name, offset: 0, data: buf.subarray(0, 0) };
    } else return;
    off += length;
  }
}

/** buf[start, end) is a sequence of intact message records, nothing more (a kind 3 entry's bytes). */
function wholeRecords(buf: Buffer, start: number, end: number): boolean {
  let off = start;
  while (off < end) {
    const length = checkRecord(buf, off, end);
    if (length <= 0) return false;
    off += length;
  }
  return true;
}

/**
 * Apply the journal left by a crash to the segment files, then delete it (see the file comment).
 * Throws if a segment file cannot be written: starting without those bytes would lose confirmed messages.
 */
export function replayJournal(dataDir: string, log: StoreLogger, changes?: DataDirChanges): void {
  const dir = path.join(dataDir, JOURNAL_DIR);
  let names: string[];
  try {
    names = fs.readdirSync(dir).filter((n) => JOURNAL_FILE.test(n)).sort();
  } catch {
    return;
  }
  if (names.length === 0) return;
  const all = names.flatMap((n) => [...entries(fs.readFileSync(path.join(dir, n)))]);
  // The last tombstone of each path: writes before it are of a deleted incarnation.
  const tombstones: { path: string; at: number }[] = [];
  all.forEach((e, i) => e.kind === KIND_TOMBSTONE && tombstones.push({ path: e.path, at: i }));
  const shadowed = (p: string, i: number): boolean =>
    tombstones.some((t) => t.at > i && (p === t.path || p.startsWith(t.path + path.sep)));
  const touched = new Map<string, number>();
  let applied = 0;
  let rewritten = 0;
  try {
    all.forEach((e, i) => {
      if (e.kind !== KIND_WRITE || shadowed(e.path, i)) return;
      let fd = touched.get(e.path);
      if (fd === undefined) {
        try {
          fd = fs.openSync(path.join(dataDir, e.path), 'r+');
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
          throw err;
        }
        touched.set(e.path, fd);
      }
      const size = fs.fstatSync(fd).size;
      if (size < e.offset) return;
      applied++;
      const have = Buffer.alloc(e.data.length);
      const got = fs.readSync(fd, have, 0, have.length, e.offset);
      if (got === have.length && have.equals(e.data)) return;
      writevAll(fd, [e.data], e.offset, e.data.length);
      changes?.write(path.join(dataDir, e.path), e.offset, e.data);
      rewritten++;
    });
    for (const fd of touched.values()) fs.fdatasyncSync(fd);
  } finally {
    for (const fd of touched.values()) fs.closeSync(fd);
  }
  for (const n of names) fs.rmSync(path.join(dir, n), { force: true });
  syncDirSync(dir);
  log(rewritten > 0 ? 'warn' : 'info', 'journal replayed', { files: names.length, entries: all.length, writes: applied, rewritten });
}

function syncFileSync(file: string): void {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  try {
    fs.fdatasyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}
