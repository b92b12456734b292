/**
 * The definitions log's fdatasync fails (a dying disk: EIO). The declare-oks waiting for it are
 * withheld, not sent as if the queue were on disk, and not left waiting forever either: the broker
 * saves a snapshot instead (retrying while that fails too), and the replies follow it. The failure
 * is injected into this process's `fs.fdatasync` for the log's descriptor only; everything else
 * (the broker, its files, amqplib over a socket) is real. Warren-only: it needs the broker in-process.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import amqp from 'amqplib';
import { externalUrl, startTestBroker, uniq } from './support/test-broker.js';

type Fdatasync = (fd: number, cb: (err: NodeJS.ErrnoException | null) => void) => void;
type WriteFileSync = typeof fs.writeFileSync;

test('a failed definitions-log sync: declare-ok waits for a snapshot, retried while saving fails, then the queue is on disk', { skip: externalUrl !== undefined && 'needs an in-process Warren', timeout: 60_000 }, async () => {
  const tb = await startTestBroker();
  const dataDir = (tb.broker as unknown as { options: { dataDir: string } }).options.dataDir;
  const logFile = path.join(dataDir, 'definitions.log');
  const snapshotFile = path.join(dataDir, 'definitions.json');
  const realFdatasync = fs.fdatasync as unknown as Fdatasync;
  const realWriteFileSync = fs.writeFileSync;
  let failedSyncs = 0;
  let failedSaves = 0;
  let failSaves = 0;
  const opened = (fd: number): string | undefined => {
    try {
      return fs.readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      return undefined;
    }
  };
  const isLog = (fd: number): boolean => opened(fd) === logFile;
  (fs as unknown as { fdatasync: Fdatasync }).fdatasync = (fd, cb) => {
    if (!isLog(fd)) return realFdatasync(fd, cb);
    failedSyncs++;
    const err: NodeJS.ErrnoException = Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO', errno: -5, syscall: 'fdatasync' });
    setImmediate(() => cb(err));
  };
  // The snapshot's temporary file: the first saves fail as on a full disk.
  (fs as unknown as { writeFileSync: WriteFileSync }).writeFileSync = ((file: fs.PathOrFileDescriptor, ...rest: unknown[]) => {
    if (typeof file === 'number' && failSaves > 0 && opened(file) === `${snapshotFile}.tmp`) {
      failSaves--;
      failedSaves++;
      throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    }
    return (realWriteFileSync as (...a: unknown[]) => void)(file, ...rest);
  }) as WriteFileSync;
  const conn = await amqp.connect(tb.url);
  try {
    const ch = await conn.createChannel();
    // The first durable declare after start appends to the log (the snapshot exists from start-up).
    const first = uniq('sync-fail-a');
    await ch.assertQueue(uniq('warm-up'), { durable: false });
    failSaves = 2;
    const started = Date.now();
    let answered = false;
    const declared = ch.assertQueue(first, { durable: true }).then(() => (answered = true));
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(failedSyncs >= 1, true, 'the log was synced and the sync failed');
    assert.equal(answered, false, 'no declare-ok while the queue is on disk only in a log whose sync failed');
    await declared;
    const waited = Date.now() - started;
    assert.equal(failedSaves, 2, 'the snapshot was retried after each failed save');
    assert.ok(waited >= 1500, `answered after the retries (${waited} ms)`);
    const snapshot = JSON.parse(fs.readFileSync(snapshotFile, 'utf8')) as { queues: { name: string }[] };
    assert.ok(snapshot.queues.some((q) => q.name === first), 'the queue is in definitions.json');
    // The log starts afresh after the snapshot; later declares are answered too (the failures go
    // on: each is covered by a new snapshot).
    const second = uniq('sync-fail-b');
    await ch.assertQueue(second, { durable: true });
    const other = await conn.createChannel();
    assert.equal((await other.checkQueue(second)).queue, second);
    const again = JSON.parse(fs.readFileSync(snapshotFile, 'utf8')) as { queues: { name: string }[] };
    assert.ok(again.queues.some((q) => q.name === second));
    await ch.deleteQueue(first);
    await ch.deleteQueue(second);
  } finally {
    (fs as unknown as { fdatasync: Fdatasync }).fdatasync = realFdatasync;
    (fs as unknown as { writeFileSync: WriteFileSync }).writeFileSync = realWriteFileSync;
    await conn.close();
    await tb.close();
  }
});
