/**
 * Idle queues hold no open files: a sweep that finds nothing pushed to a list since the previous one
 * closes its active segment's fd and its ack files' fds, and the next write opens them again. Without
 * it every durable queue holding messages kept its segment open: 10,000 such queues, 10,000
 * descriptors, and under a hard limit of 1,024 the 1,000th queue's open failed (EMFILE, and the
 * connection publishing to it was closed).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, test } from 'node:test';
import { drain, durable, ids, message, openStore, range, removeDir, tempDir } from './store-util.js';

const dirs: string[] = [];
after(() => dirs.forEach(removeDir));

/** This process's open fds on files under `dir`. */
function openFilesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const fd of fs.readdirSync('/proc/self/fd')) {
    try {
      const target = fs.readlinkSync(`/proc/self/fd/${fd}`);
      if (target.startsWith(dir + '/') && (target.endsWith('.seg') || target.endsWith('.ack'))) out.push(target);
    } catch {
      // closed meanwhile (readdir's own fd)
    }
  }
  return out;
}

const nextTurns = async (n: number): Promise<void> => {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
};

for (const directSyncs of [2, 0]) {
  test(`idle queues close their segment and ack files, and write to them again when published to (${directSyncs === 0 ? 'journaled rounds' : 'direct rounds'})`, { skip: process.platform !== 'linux' && 'needs /proc/self/fd' }, async () => {
    const dir = tempDir('warren-store-idle-files-');
    dirs.push(dir);
    const { store } = await openStore(dir, { directSyncs });
    const queues = range(0, 20).map((i) => store.create('/', `q${i}`));
    for (const [i, q] of queues.entries()) for (let k = 0; k < 3; k++) q.push(message(i * 100 + k));
    await Promise.all(queues.map(durable));
    // Half the queues settle their first message: ack files.
    for (const q of queues.slice(0, 10)) q.settle(q.shift()!);
    await nextTurns(5);
    assert.ok(openFilesUnder(dir).length >= 20, `busy: ${openFilesUnder(dir).length} files open`);

    store.sweep(); // the pushes happened since the last sweep: files stay open
    assert.ok(openFilesUnder(dir).length >= 20, 'a sweep right after the writes keeps them');
    for (let i = 0; i < 5 && openFilesUnder(dir).length > 0; i++) {
      store.sweep(); // nothing pushed since the previous sweep
      await nextTurns(20);
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.deepEqual(openFilesUnder(dir), [], 'idle: no segment or ack file open');

    // Written to again: the files open again, and everything is there, in order, after a restart.
    for (const [i, q] of queues.entries()) q.push(message(i * 100 + 50));
    for (const q of queues.slice(10)) q.settle(q.shift()!);
    await Promise.all(queues.map(durable));
    await store.close();
    const again = await openStore(dir, { directSyncs });
    const back = again.recovered.get('/')!;
    // Every queue settled its first message: ten before the idle sweeps, ten after.
    for (let i = 0; i < queues.length; i++) assert.deepEqual(ids(drain(back.get(`q${i}`)!)), [i * 100 + 1, i * 100 + 2, i * 100 + 50], `queue q${i}`);
    await again.store.close();
  });
}
