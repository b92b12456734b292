/**
 * Paging of non-durable queues (MessageStore.createTransient) and disk coming back after a drain:
 * - within the head window nothing is written (not even the directory);
 * - beyond it messages go to segment files and memory stays bounded by the windows, whatever the
 *   length; they come back intact, in order, with requeues at their original positions;
 * - nothing is fsynced, no ack or delivered-mark file is written, whenDurable answers at once;
 * - the files are gone after a drain (sweep), at destroy, at close, and at the next open;
 * - a durable queue whose messages are all acked (or purged) keeps no segment file after a sweep.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { eventually } from './support/eventually.js';
import { drain, durable, ids, message, openStore, range, removeDir, segmentFiles, tempDir } from './store-util.js';

const dirs: string[] = [];
function dataDir(): string {
  const d = tempDir();
  dirs.push(d);
  return d;
}

const opts = { windowMessages: 16, windowBytes: 1 << 20, segmentBytes: 64 * 1024 };

/** Every file under dir, recursively (relative paths). */
function filesUnder(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return (fs.readdirSync(dir, { recursive: true }) as string[]).filter((f) => fs.statSync(path.join(dir, f)).isFile());
}

describe('transient paging', () => {
  after(() => dirs.forEach(removeDir));

  test('a queue within its window writes nothing; beyond it pages, stays bounded, and comes back in order', async () => {
    const dir = dataDir();
    const { store } = await openStore(dir, opts);
    const list = store.createTransient('/', 'q');
    for (let i = 0; i < 10; i++) list.push(message(i, { persistent: false }));
    assert.deepEqual(filesUnder(store.transientDir), [], 'nothing written within the window');
    await durable(list);

    for (let i = 10; i < 2000; i++) list.push(message(i, { persistent: i % 2 === 0, size: 300 }));
    assert.equal(list.length, 2000);
    assert.ok(list.inMemory <= 2 * opts.windowMessages + 1, `in memory: ${list.inMemory}`);
    store.persister.flushAll();
    const files = filesUnder(store.transientDir);
    assert.ok(files.filter((f) => f.endsWith('.seg')).length > 1, `segments: ${files.join(', ')}`);
    assert.ok(files.every((f) => f.endsWith('.seg')), `only segment files (no ack, no mark): ${files.join(', ')}`);
    assert.equal(store.persister.stats.fdatasyncs, 0, 'never fsynced');

    // Take some, requeue two of them, then everything comes back in the original order.
    const first = [list.shift()!, list.shift()!, list.shift()!];
    list.requeue(first[2]!);
    list.requeue(first[0]!);
    list.settle(first[1]!);
    const all = drain(list);
    assert.deepEqual(ids(all), [0, ...range(2, 2000)]);
    assert.ok(all[0]!.redelivered && all[1]!.redelivered && !all[2]!.redelivered);
    assert.equal(list.length, 0);

    store.sweep();
    // Segment unlinks run off the main thread: poll until they are done.
    await eventually(() => assert.deepEqual(filesUnder(store.transientDir).filter((f) => f.endsWith('.seg')), [], 'drained: no segment left'));
    store.close();
  });

  test('many backlogged queues share one budget for their windows; a queue left alone gets its full window back', async () => {
    const dir = dataDir();
    // 16 lists with two 1 MiB windows each (32 MiB) against a budget of 8 MiB: a quarter each, 256 KiB or 250 messages.
    const { store } = await openStore(dir, { windowMessages: 1000, windowBytes: 1 << 20, segmentBytes: 4 << 20, allWindowsBytes: 8 << 20 });
    const lists = Array.from({ length: 16 }, (_, i) => store.createTransient('/', `many-${i}`));
    for (let i = 0; i < 3000; i++) for (const list of lists) list.push(message(i, { persistent: false, size: 1024 }));
    store.persister.flushAll();
    for (const list of lists) {
      assert.equal(list.length, 3000);
      // Without the budget: 1,000 at the head and 1,000 at the tail.
      assert.ok(list.inMemory <= 2 * 260, `in memory: ${list.inMemory}`);
    }
    // Fifteen drain (each stops being a backlog): the last one's share is its whole window again.
    for (const list of lists.slice(0, 15)) assert.deepEqual(ids(drain(list)), range(0, 3000));
    const last = lists[15]!;
    const taken: number[] = [];
    // Past its (shared-size) head: the refill that follows takes its own window.
    for (let i = 0; i < 300; i++) {
      const e = last.shift()!;
      taken.push(...ids([e]));
      last.settle(e);
    }
    assert.ok(last.inMemory > 2 * 260, `refilled to its own window: ${last.inMemory}`);
    assert.deepEqual([...taken, ...ids(drain(last))], range(0, 3000));
    store.close();
  });

  test('purge, destroy, close and the next open remove transient files', async () => {
    const dir = dataDir();
    const { store } = await openStore(dir, opts);
    const a = store.createTransient('/', 'a');
    const b = store.createTransient('/', 'b');
    for (let i = 0; i < 500; i++) {
      a.push(message(i, { persistent: false }));
      b.push(message(i, { persistent: false }));
    }
    store.persister.flushAll();
    assert.equal(a.purge(), 500);
    assert.equal(a.length, 0);
    store.sweep();
    b.destroy();
    // Segment unlinks run off the main thread: poll until they are done.
    await eventually(() => assert.deepEqual(filesUnder(store.transientDir).filter((f) => f.endsWith('.seg')), []));

    const c = store.createTransient('/', 'a'); // same name again: its own directory
    for (let i = 0; i < 500; i++) c.push(message(i, { persistent: false }));
    store.persister.flushAll();
    assert.ok(filesUnder(store.transientDir).length > 0);
    store.close();
    assert.ok(!fs.existsSync(store.transientDir), 'removed at close');

    // A crash leaves them behind: the next open removes them, and nothing is recovered from them.
    fs.mkdirSync(path.join(dir, 'transient', 'x'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'transient', 'x', '0000000000000001.seg'), 'left over');
    const { store: s2, recovered } = await openStore(dir, opts);
    assert.equal(recovered.size, 0);
    assert.ok(!fs.existsSync(s2.transientDir));
    s2.close();
  });

  test('a durable queue drained by acks or a purge keeps no segment file after a sweep', async () => {
    const dir = dataDir();
    const { store } = await openStore(dir, opts);
    const list = store.create('/', 'd');
    for (let i = 0; i < 3000; i++) list.push(message(i, { size: 200 }));
    await durable(list);
    const qdir = store.queueDir('/', 'd');
    assert.ok(segmentFiles(qdir).length > 2);
    drain(list);
    store.persister.flushAll();
    store.sweep();
    // Segment unlinks run off the main thread: poll until they are done.
    await eventually(() => assert.deepEqual(segmentFiles(qdir), [], 'acked: no segment left'));

    for (let i = 0; i < 3000; i++) list.push(message(i, { size: 200 }));
    await durable(list);
    assert.equal(list.purge(), 3000);
    store.sweep();
    // Segment unlinks run off the main thread: poll until they are done.
    await eventually(() => assert.deepEqual(segmentFiles(qdir), [], 'purged: no segment left'));

    // Still usable, and what is pushed next survives a restart.
    list.push(message(7));
    await durable(list);
    store.close();
    const { store: s2, recovered } = await openStore(dir, opts);
    assert.deepEqual(ids(drain(recovered.get('/')!.get('d')!)), [7]);
    s2.close();
  });
});
