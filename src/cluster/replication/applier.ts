/**
 * A follower's side of the file operations: applies each one to its data dir, synchronously and in
 * order, and remembers what a later group sync must cover (files written, directories whose entries
 * changed). Files being written stay open (a small LRU of descriptors); one evicted while dirty is
 * fdatasynced first, so a sync round never misses it.
 *
 * The files the leader itself never fdatasyncs while running — ack logs and delivered marks, which
 * a power cut may set back on a single node too (the store's README notes) — are written but not
 * synced here either: what they protect against is a process crash (kill -9 of the leader), and the
 * follower's page cache has them at once. They were most of a follower's fdatasyncs: consumer acks
 * reach the ack logs in almost every event-loop turn of the leader, so nearly every frame batch
 * cost a sync round of its own. Segment, stream and definition files are synced as before.
 */
import fs from 'node:fs';
import path from 'node:path';
import { MARK_FILE } from '../../store/delivered-mark.js';
import { FrameType, type Op } from './frames.js';

/** Ack logs (store/ack-log.ts, `<firstSeq>.ack`) and delivered marks: not fdatasynced by the leader. */
function leaderSyncs(abs: string): boolean {
  return !abs.endsWith('.ack') && path.basename(abs) !== MARK_FILE;
}

interface OpenFile {
  fd: number;
  /** Written data must be fdatasynced before an ack (false for ack logs and delivered marks). */
  readonly durable: boolean;
  /** fdatasync calls running on it: it is closed only after them. */
  syncing: number;
  closeAfterSync: boolean;
}

const OPEN_FILES = 64;

export class Applier {
  private readonly files = new Map<string, OpenFile>();
  private dirtyFiles = new Set<OpenFile>();
  private dirtyDirs = new Set<string>();
  /** Bytes written since the last sync round began (for the follower's lag and stats). */
  bytesApplied = 0;

  constructor(readonly dataDir: string) {}

  get dirty(): boolean {
    return this.dirtyFiles.size > 0 || this.dirtyDirs.size > 0;
  }

  apply(op: Op): void {
    const abs = path.join(this.dataDir, op.path);
    switch (op.type) {
      case FrameType.Write: {
        const f = this.open(abs);
        let done = 0;
        while (done < op.data.length) done += fs.writeSync(f.fd, op.data, done, op.data.length - done, op.offset + done);
        if (f.durable) this.dirtyFiles.add(f);
        this.bytesApplied += op.data.length;
        return;
      }
      case FrameType.Truncate: {
        const f = this.open(abs);
        fs.ftruncateSync(f.fd, op.size);
        if (f.durable) this.dirtyFiles.add(f);
        return;
      }
      case FrameType.Rename: {
        const to = path.join(this.dataDir, op.to);
        // The data must be on disk before the name points at it (the write-fsync-rename pattern).
        this.closeFile(abs, true);
        this.closeFile(to, false);
        try {
          fs.renameSync(abs, to);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
          return; // replayed after catch-up copied the result already
        }
        this.dirtyDirs.add(path.dirname(abs));
        this.dirtyDirs.add(path.dirname(to));
        return;
      }
      case FrameType.Remove:
        for (const [p] of this.files) if (p === abs || p.startsWith(abs + path.sep)) this.closeFile(p, false);
        fs.rmSync(abs, { recursive: true, force: true });
        this.dirtyDirs.add(path.dirname(abs));
        return;
      case FrameType.Mkdir:
        this.mkdirs(abs);
        return;
    }
  }

  /**
   * fdatasync every file written and fsync every directory changed since the last round, all at
   * once in the thread pool. Work applied while it runs belongs to the next round.
   */
  async sync(): Promise<void> {
    const files = this.dirtyFiles;
    const dirs = this.dirtyDirs;
    this.dirtyFiles = new Set();
    this.dirtyDirs = new Set();
    const jobs: Promise<void>[] = [];
    for (const f of files) {
      f.syncing++;
      jobs.push(
        new Promise<void>((resolve, reject) =>
          fs.fdatasync(f.fd, (err) => {
            f.syncing--;
            if (f.syncing === 0 && f.closeAfterSync) fs.close(f.fd, () => {});
            if (err) reject(err);
            else resolve();
          }),
        ),
      );
    }
    for (const d of dirs) jobs.push(syncDir(d));
    await Promise.all(jobs);
  }

  /** Close every file (after a final sync(): the data dir is then consistent and durable). */
  closeAll(): void {
    for (const [p] of this.files) this.closeFile(p, false);
  }

  private open(abs: string): OpenFile {
    const f = this.files.get(abs);
    if (f) {
      // Most recently used last.
      this.files.delete(abs);
      this.files.set(abs, f);
      return f;
    }
    let fd: number;
    try {
      fd = fs.openSync(abs, fs.constants.O_RDWR);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      this.mkdirs(path.dirname(abs));
      fd = fs.openSync(abs, fs.constants.O_RDWR | fs.constants.O_CREAT, 0o644);
      this.dirtyDirs.add(path.dirname(abs));
    }
    const opened: OpenFile = { fd, durable: leaderSyncs(abs), syncing: 0, closeAfterSync: false };
    this.files.set(abs, opened);
    if (this.files.size > OPEN_FILES) this.closeFile(this.files.keys().next().value!, true);
    return opened;
  }

  /** Forget a descriptor; `sync` first if it was written since the last round. */
  private closeFile(abs: string, sync: boolean): void {
    const f = this.files.get(abs);
    if (!f) return;
    this.files.delete(abs);
    if (this.dirtyFiles.delete(f) && sync) fs.fdatasyncSync(f.fd);
    if (f.syncing > 0) f.closeAfterSync = true;
    else fs.closeSync(f.fd);
  }

  private mkdirs(dir: string): void {
    const first = fs.mkdirSync(dir, { recursive: true });
    if (first === undefined) return;
    // Every new directory's parent must be synced for it to survive a power cut.
    for (let d = dir; d.length >= first.length; d = path.dirname(d)) this.dirtyDirs.add(path.dirname(d));
  }
}

function syncDir(dir: string): Promise<void> {
  return new Promise((resolve, reject) => {
    fs.open(dir, 'r', (err, fd) => {
      if (err) return err.code === 'ENOENT' ? resolve() : reject(err);
      fs.fsync(fd, (syncErr) => fs.close(fd, () => (syncErr ? reject(syncErr) : resolve())));
    });
  });
}
