/** Small files that must be whole or absent after a crash (queue.json, definitions.json), and whole writes. */
import fs from 'node:fs';
import path from 'node:path';
import { replaceFile, type DataDirChanges } from '../data-dir-changes.js';

/** Write a small file so that it is either absent or whole after a crash (and report it for replication). */
export function writeFileDurably(file: string, data: string | Buffer, changes?: DataDirChanges): void {
  replaceFile(file, `${file}.tmp`, data, changes);
  syncDirSync(path.dirname(file));
}

/**
 * fsync (`dataOnly`: fdatasync) a file or directory by its path in libuv's thread pool (open, sync,
 * close); one that no longer exists needs no sync.
 */
export function syncPath(fileOrDir: string, callback: (err: NodeJS.ErrnoException | null) => void, dataOnly = false): void {
  fs.open(fileOrDir, 'r', (err, fd) => {
    if (err) return callback(err.code === 'ENOENT' ? null : err);
    const synced = (syncErr: NodeJS.ErrnoException | null): void => fs.close(fd, () => callback(syncErr));
    if (dataOnly) fs.fdatasync(fd, synced);
    else fs.fsync(fd, synced);
  });
}

export function syncDirSync(dir: string): void {
  const fd = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Buffers per writev call. Node copies up to 1024 iovecs on its stack and mallocs the array beyond
 * that: a journal batch of many busy queues' records (thousands of runs) made a 16-64 KiB malloc per
 * write, freed at once, which grew glibc's main heap under load into holes that later small
 * allocations pin, so 10-25 MiB stayed resident after the load (the kernel takes at most IOV_MAX,
 * 1024, per pwritev anyway, so the calls cost the same syscalls).
 */
const IOV_PER_CALL = 1024;

/** pwritev all of `buffers` (total bytes `total`) at `position`, finishing short writes. */
export function writevAll(fd: number, buffers: Buffer[], position: number, total: number): void {
  if (buffers.length > IOV_PER_CALL) return writevInParts(fd, buffers, position);
  let written = fs.writevSync(fd, buffers, position);
  while (written < total) {
    const n = fs.writevSync(fd, after(buffers, written), position + written);
    if (n <= 0) throw new Error(`short write (${position + written} of ${position + total})`);
    written += n;
  }
}

function writevInParts(fd: number, buffers: Buffer[], position: number): void {
  for (const p of parts(buffers, position)) writevAll(fd, p.buffers, p.position, p.bytes);
}

/** `buffers` cut into runs of at most IOV_PER_CALL, each with its file position and size. */
function parts(buffers: Buffer[], position: number): { buffers: Buffer[]; position: number; bytes: number }[] {
  const out = [];
  for (let i = 0; i < buffers.length; i += IOV_PER_CALL) {
    const part = buffers.slice(i, i + IOV_PER_CALL);
    let bytes = 0;
    for (const b of part) bytes += b.length;
    out.push({ buffers: part, position, bytes });
    position += bytes;
  }
  return out;
}

/**
 * writevAll in libuv's thread pool: `buffers` must stay unchanged until `callback`. More than
 * IOV_PER_CALL buffers go as parts written side by side (disjoint ranges of the file), and
 * `callback` runs once all of them ended (with the first error, if any).
 */
export function writevAllAsync(fd: number, buffers: Buffer[], position: number, total: number, callback: (err: Error | null) => void): void {
  if (buffers.length > IOV_PER_CALL) return writevInPartsAsync(fd, buffers, position, callback);
  fs.writev(fd, buffers, position, (err, n) => {
    if (err) callback(err);
    else if (n >= total) callback(null);
    else if (n <= 0) callback(new Error(`short write (${position} of ${position + total})`));
    else writevAllAsync(fd, after(buffers, n), position + n, total - n, callback);
  });
}

function writevInPartsAsync(fd: number, buffers: Buffer[], position: number, callback: (err: Error | null) => void): void {
  const all = parts(buffers, position);
  let pending = all.length;
  let failure: Error | null = null;
  const ended = (err: Error | null): void => {
    failure ??= err;
    if (--pending === 0) callback(failure);
  };
  for (const p of all) writevAllAsync(fd, p.buffers, p.position, p.bytes, ended);
}

/** The iovecs of what follows the first `skip` bytes of `buffers` (after a short write: rare, signals, quotas). */
function after(buffers: Buffer[], skip: number): Buffer[] {
  const rest: Buffer[] = [];
  for (const b of buffers) {
    if (skip >= b.length) skip -= b.length;
    else {
      rest.push(skip > 0 ? b.subarray(skip) : b);
      skip = 0;
    }
  }
  return rest;
}
