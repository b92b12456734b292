/**
 * The replicated files of a data dir: a walk that lists directories and files (node-local names
 * skipped), and the MD5 of a file or of its first bytes, read in bounded chunks.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { LOCAL_ONLY } from '../../data-dir-changes.js';

export interface DirEntry {
  path: string;
  isDir: boolean;
}

const READ_CHUNK = 1024 * 1024;

/** Every replicated directory and regular file under dataDir, parents before children. */
export async function walkDataDir(dataDir: string): Promise<DirEntry[]> {
  const out: DirEntry[] = [];
  const visit = async (rel: string): Promise<void> => {
    let names: import('node:fs').Dirent[];
    try {
      names = await fs.readdir(rel ? path.join(dataDir, rel) : dataDir, { withFileTypes: true });
    } catch {
      return; // removed meanwhile: the live changes say so
    }
    names.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const d of names) {
      if (!rel && LOCAL_ONLY.includes(d.name)) continue;
      const child = rel ? `${rel}/${d.name}` : d.name;
      if (d.isDirectory()) {
        out.push({ path: child, isDir: true });
        await visit(child);
      } else if (d.isFile()) {
        out.push({ path: child, isDir: false });
      }
    }
  };
  await visit('');
  return out;
}

/** MD5 of the first `limit` bytes of a file (all of it by default) and how many there were; undefined if it is gone. */
export async function fileDigest(file: string, limit = Infinity, scratch?: Buffer): Promise<{ digest: Buffer; size: number } | undefined> {
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(file, 'r');
  } catch {
    return undefined;
  }
  try {
    const buf = scratch ?? Buffer.allocUnsafe(READ_CHUNK);
    const hash = createHash('md5');
    let size = 0;
    while (size < limit) {
      const { bytesRead } = await handle.read(buf, 0, Math.min(buf.length, limit - size), size);
      if (bytesRead === 0) break;
      hash.update(buf.subarray(0, bytesRead));
      size += bytesRead;
    }
    return { digest: hash.digest(), size };
  } finally {
    await handle.close();
  }
}
