/**
 * One broker per data dir: two processes appending to the same segments would corrupt them. The
 * lock is a symbolic link whose target is the owner's pid: creating it is atomic (EEXIST if it is
 * there), and a target that short lives in the inode itself, so taking the lock needs no free data
 * block: a broker can start on a full disk (and then raise the disk alarm and let consumers drain
 * it). A lock left by a process that died (kill -9, power cut) is taken over: the pid no longer
 * exists (or is our own, when a test reopens in-process). A regular file holding a pid (the
 * format of earlier versions) is read the same way.
 */
import fs from 'node:fs';
import path from 'node:path';

export const LOCK_FILE = 'warren.lock';
const TAKEOVER_WAIT_MS = 3000;

export class DataDirLock {
  private constructor(private readonly file: string) {}

  static acquire(dataDir: string): DataDirLock {
    fs.mkdirSync(dataDir, { recursive: true });
    const file = path.join(dataDir, LOCK_FILE);
    // A predecessor just killed with -9 may take a moment to disappear: wait for it a little.
    const deadline = Date.now() + TAKEOVER_WAIT_MS;
    for (let takeovers = 0; takeovers < 3; ) {
      try {
        fs.symlinkSync(String(process.pid), file);
        return new DataDirLock(file);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      const owner = lockOwner(file);
      if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && isAlive(owner)) {
        if (Date.now() >= deadline) throw new Error(`data dir ${dataDir} is in use by process ${owner} (${file})`);
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
        continue;
      }
      fs.rmSync(file, { force: true });
      takeovers++;
    }
    throw new Error(`could not lock data dir ${dataDir}`);
  }

  release(): void {
    try {
      if (lockOwner(this.file) === process.pid) fs.rmSync(this.file, { force: true });
    } catch {
      // Already gone.
    }
  }
}

/** The pid a lock names (NaN if unreadable; it vanished or is garbage: taken over). */
function lockOwner(file: string): number {
  try {
    const text = fs.lstatSync(file).isSymbolicLink() ? fs.readlinkSync(file) : fs.readFileSync(file, 'utf8');
    return Number(text.trim());
  } catch {
    return NaN;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    // A zombie (killed, not yet reaped) still answers signal 0 but holds nothing.
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
