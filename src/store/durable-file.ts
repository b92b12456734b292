/** Small files that must be whole or absent after a crash (queue.json, definitions.json), and whole writes. */
import fs from 'node:fs';
import path from 'node:path';
import { replaceFile, type DataDirChanges } from '../data-dir-changes.js';

/** Write a small file so that it is either absent or whole after a crash (and report it for replication). */
export function writeFileDurably(file: string, data: string | Buffer, changes?: DataDirChanges): void {
  replaceFile(file, `${file}.tmp`, data, changes);
  syncDirSync(path.dirname(file));
}

export function syncDirSync(dir: string): void {
  const fd = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** pwritev all of `buffers` (total bytes `total`) at `position`, finishing short writes. */
export function writevAll(fd: number, buffers: Buffer[], position: number, total: number): void {
  let written = fs.writevSync(fd, buffers, position);
  while (written < total) {
    const n = fs.writevSync(fd, after(buffers, written), position + written);
    if (n <= 0) throw new Error(`short write (${position + written} of ${position + total})`);
    written += n;
  }
}

/** writevAll in libuv's thread pool: `buffers` must stay unchanged until `callback`. */
export function writevAllAsync(fd: number, buffers: Buffer[], position: number, total: number, callback: (err: Error | null) => void): void {
  fs.writev(fd, buffers, position, (err, n) => {
    if (err) callback(err);
    else if (n >= total) callback(null);
    else if (n <= 0) callback(new Error(`short write (${position} of ${position + total})`));
    else writevAllAsync(fd, after(buffers, n), position + n, total - n, callback);
  });
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
