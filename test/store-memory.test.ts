/**
 * The message store's own memory (issue 15, memory comes back): the group commit's 4 MiB write slab
 * and the deferred-record buffers of busy journaled queues (persister.ts) are let go by the store's
 * sweep once a whole sweep interval passed without a write, counted as released memory for the
 * reclaimer's collection, and taken again at the next write; while the store writes, a sweep keeps
 * them (no allocation per sweep on the hot path). And a write of more iovecs than Node keeps on its
 * stack goes in parts (durable-file.ts), whole and in order.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { writevAll, writevAllAsync } from '../src/store/durable-file.js';
import { releasedBytes } from '../src/memory/released.js';
import { DEFER_LIST_BYTES } from '../src/store/persister.js';
import { drain, durable, ids, message, openStore, range, removeDir, tempDir } from './store-util.js';

const dirs: string[] = [];
after(() => dirs.forEach(removeDir));

function dataDir(): string {
  const dir = tempDir('warren-store-memory-');
  dirs.push(dir);
  return dir;
}

const SLAB_BYTES = 4 * 1024 * 1024;
const nextTurn = (): Promise<void> => new Promise((r) => setImmediate(r));

test('an idle store gives its write slab and deferred-record buffers back, and takes them again when written to', async () => {
  // Every round journaled: the lists defer their records in buffers of the persister's pool.
  const { store } = await openStore(dataDir(), { directSyncs: 0 });
  const queues = range(0, 5).map((i) => store.create('/', `q${i}`));
  const publish = async (from: number, count: number): Promise<void> => {
    for (let i = from; i < from + count; i++) queues[i % 5]!.push(message(i, { size: 700 }));
    await Promise.all(queues.map(durable));
  };
  const persister = store.persister;
  assert.equal(persister.bufferBytes, 0, 'a store that has written nothing holds no write buffers');
  await publish(0, 500);
  assert.ok(persister.bufferBytes >= SLAB_BYTES + DEFER_LIST_BYTES, `slab and deferred-record buffers in use: ${persister.bufferBytes} bytes`);

  // Under load, sweeps keep them: a write between two sweeps. (The store's own 2 s sweep may fall
  // between a write and the test's sweep once; the test's sweep then rightly finds nothing new.)
  store.sweep();
  let kept = 0;
  for (let round = 0; round < 10; round++) {
    await publish(1000 + round * 15, 15);
    store.sweep();
    if (persister.bufferBytes >= SLAB_BYTES) kept++;
  }
  assert.ok(kept >= 9, `sweeps under load kept the slab (${kept} of 10)`);

  // The load ends: within a few sweeps (the first seals the journal and its checkpoint writes the deferred records) all of it goes.
  const releasedBefore = releasedBytes();
  for (let sweep = 0; sweep < 10 && persister.bufferBytes > 0; sweep++) {
    store.sweep();
    for (let i = 0; i < 20; i++) await nextTurn();
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.equal(persister.bufferBytes, 0, 'an idle store holds no write buffers');
  assert.ok(releasedBytes() - releasedBefore >= SLAB_BYTES, 'what it let go was counted for the reclaimer');

  // Written to again: the buffers come back, and nothing was lost on the way.
  await publish(5000, 100);
  assert.ok(persister.bufferBytes >= SLAB_BYTES, 'the next write took a slab again');
  store.close();
  const { store: again, recovered } = await openStore(store.dataDir);
  const expect = (q: number): number[] =>
    [...range(0, 500), ...range(1000, 1150), ...range(5000, 5100)].filter((id) => id % 5 === q);
  for (let q = 0; q < 5; q++) assert.deepEqual(ids(drain(recovered.get('/')!.get(`q${q}`)!)), expect(q), `queue q${q} after a restart`);
  again.close();
});

test('a write of thousands of iovecs (a journal batch of records from many queues) lands whole and in order, in the event loop and in the thread pool', async () => {
  // 3,001 buffers of 1 to 97 bytes, some empty: more than three calls' worth.
  const buffers = range(0, 3001).map((i) => Buffer.alloc(i % 13 === 0 ? 0 : 1 + (i % 97), i % 251));
  const total = buffers.reduce((n, b) => n + b.length, 0);
  for (const mode of ['sync', 'async']) {
    const file = path.join(dataDir(), `many-iovecs-${mode}`);
    const fd = fs.openSync(file, 'w+');
    try {
      fs.writeSync(fd, Buffer.from('head'), 0, 4, 0);
      if (mode === 'sync') writevAll(fd, buffers, 4, total);
      else await new Promise<void>((resolve, reject) => writevAllAsync(fd, buffers, 4, total, (err) => (err ? reject(err) : resolve())));
      const written = fs.readFileSync(file);
      assert.equal(written.length, 4 + total, mode);
      assert.ok(written.subarray(4).equals(Buffer.concat(buffers)), `${mode}: the bytes are the buffers, in order`);
    } finally {
      fs.closeSync(fd);
    }
  }
});
