/** Small files that must be whole or absent after a crash (queue.json, definitions.json). */
import fs from 'node:fs';
import path from 'node:path';

/** Write a small file so that it is either absent or whole after a crash. */
export function writeFileDurably(file: string, data: string | Buffer): void {
  const tmp = `${file}.tmp`;
  const fd = fs.openSync(tmp, 'w');
  try {
    fs.writeFileSync(fd, data);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
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
