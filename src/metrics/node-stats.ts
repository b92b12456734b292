/**
 * Process and host figures RabbitMQ reports per node: open and allowed file descriptors, resident
 * memory, free disk on the data dir. Read from /proc and statfs when scraped (Linux; elsewhere the
 * descriptor figures are 0 rather than a guess).
 */
import { readdirSync, readFileSync, statfsSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { hostname } from 'node:os';

export function openFds(): number {
  try {
    // The directory listing itself holds one descriptor while it is read.
    return readdirSync('/proc/self/fd').length - 1;
  } catch {
    return 0;
  }
}

export function maxFds(): number {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith('Max open files'));
    const soft = line?.split(/\s{2,}/)[1];
    return soft === undefined || soft === 'unlimited' ? 0 : Number(soft);
  } catch {
    return 0;
  }
}

export function diskFree(dir: string): number {
  try {
    const s = statfsSync(dir);
    return s.bavail * s.bsize;
  } catch {
    return 0;
  }
}

export { NODE_NAME } from '../node-name.js';

/** A stable stand-in for RabbitMQ's persistent cluster id: derived from the host and data dir. */
export function clusterPermanentId(dataDir: string): string {
  return `warren-cluster-id-${createHash('sha256').update(`${hostname()}\0${dataDir}`).digest('base64url').slice(0, 22)}`;
}
