/**
 * DurableMessageList semantics on a real data dir: FIFO, requeue to the original position, paging
 * with tiny windows, disk space given back, purge/destroy, restart recovery, whenDurable.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import type { Envelope } from '../src/broker/message.js';
import { DIRECT_SYNCS } from '../src/store/persister.js';
import { drain, durable, ids, message, openStore, range, removeDir, segmentFiles, tempDir } from './store-util.js';

const dirs: string[] = [];
function dataDir(): string {
  const d = tempDir();
  dirs.push(d);
  return d;
}
after(() => dirs.forEach(removeDir));

/** Small windows and segments so that paging and rotation happen with few messages. */
const TINY = { windowMessages: 4, windowBytes: 1 << 20, segmentBytes: 2048, readChunkBytes: 512 };

describe('durable message list', () => {
  test('FIFO order, interleaved push and shift, with paging and segment rotation', async () => {
    const { store } = await openStore(dataDir(), TINY);
    const q = store.create('/', 'fifo');
    const seen: number[] = [];
    let next = 0;
    for (let round = 0; round < 40; round++) {
      for (let i = 0; i < (round % 7) + 3; i++) q.push(message(next++, { persistent: next % 3 !== 0 }));
      for (let i = 0; i < (round % 5) + 1; i++) {
        const e = q.shift();
        if (!e) break;
        seen.push(...ids([e]));
        q.settle(e);
      }
      assert.ok(q.inMemory <= 2 * TINY.windowMessages, `in memory ${q.inMemory}`);
    }
    assert.ok(q.segmentCount > 1, 'rotated segments');
    seen.push(...ids(drain(q)));
    assert.deepEqual(seen, range(0, next));
    assert.equal(q.length, 0);
    assert.equal(q.bytes, 0);
    store.close();
  });

  test('a long queue keeps only the two windows in memory and reads the middle back in order', async () => {
    const { store } = await openStore(dataDir(), { ...TINY, segmentBytes: 64 * 1024 });
    const q = store.create('/', 'long');
    for (let i = 0; i < 3000; i++) {
      q.push(message(i, { size: 300 }));
      assert.ok(q.inMemory <= 2 * TINY.windowMessages);
    }
    assert.equal(q.length, 3000);
    assert.equal(q.bytes, 3000 * 300);
    const out: number[] = [];
    for (let e = q.shift(); e; e = q.shift()) {
      out.push(...ids([e]));
      assert.ok(q.inMemory <= 2 * TINY.windowMessages);
      q.settle(e);
    }
    assert.deepEqual(out, range(0, 3000));
    store.close();
  });

  test('byte window bounds memory too', async () => {
    const { store } = await openStore(dataDir(), { windowMessages: 10_000, windowBytes: 4096, segmentBytes: 1 << 20 });
    const q = store.create('/', 'bytes');
    for (let i = 0; i < 500; i++) q.push(message(i, { size: 1000 }));
    assert.ok(q.inMemory <= 2 * 5, `in memory ${q.inMemory}`);
    assert.deepEqual(ids(drain(q)), range(0, 500));
    store.close();
  });

  test('requeue puts messages back at their original positions, marked redelivered, even when paged out', async () => {
    const { store } = await openStore(dataDir(), TINY);
    const q = store.create('/', 'requeue');
    for (let i = 0; i < 200; i++) q.push(message(i));
    const out: Envelope[] = [];
    for (let i = 0; i < 20; i++) out.push(q.shift()!);
    assert.deepEqual(ids(out), range(0, 20));
    // Back in scrambled order; the others acked.
    for (const i of [13, 2, 19, 7]) q.requeue(out[i]!);
    for (const i of range(0, 20)) if (![13, 2, 19, 7].includes(i)) q.settle(out[i]!);
    assert.equal(q.length, 184);
    assert.equal(ids([q.peek()!])[0], 2);
    const rest = drain(q);
    assert.deepEqual(ids(rest), [2, 7, 13, 19, ...range(20, 200)]);
    assert.deepEqual(
      rest.slice(0, 5).map((e) => e.redelivered),
      [true, true, true, true, false],
    );
    store.close();
  });

  test('settled segments are deleted and disk usage goes back down', async () => {
    const dir = dataDir();
    const { store } = await openStore(dir, TINY);
    const q = store.create('/', 'space');
    for (let i = 0; i < 300; i++) q.push(message(i, { size: 200 }));
    await durable(q);
    const qdir = store.queueDir('/', 'space');
    const filesBefore = segmentFiles(qdir).length;
    const bytesBefore = q.diskBytes;
    assert.ok(filesBefore > 10, `segments ${filesBefore}`);
    const first = q.shift()!; // held unacked: keeps the first segment
    const others = drain(q);
    assert.equal(others.length, 299);
    await new Promise((r) => setTimeout(r, 50)); // unlinks run off the main thread
    // The first segment (held by the unacked message) and the active one remain.
    assert.deepEqual(segmentFiles(qdir).length, 2);
    assert.ok(q.diskBytes < bytesBefore / 10);
    q.settle(first);
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(segmentFiles(qdir).length, 1, 'only the active segment is left');
    store.close();
  });

  test('purge drops ready messages (memory and disk) but not unacked ones', async () => {
    const dir = dataDir();
    const { store } = await openStore(dir, TINY);
    const q = store.create('/', 'purge');
    for (let i = 0; i < 100; i++) q.push(message(i, { size: 200 }));
    const a = q.shift()!;
    const b = q.shift()!;
    q.requeue(b);
    assert.equal(q.purge(), 99);
    assert.equal(q.length, 0);
    assert.equal(q.bytes, 0);
    assert.equal(q.shift(), undefined);
    for (let i = 100; i < 110; i++) q.push(message(i));
    assert.deepEqual(ids(drain(q)), range(100, 110));
    store.close();

    // After a restart only the unacked one (never settled) is back, and it was delivered.
    const reopened = await openStore(dir, TINY);
    const list = reopened.recovered.get('/')!.get('purge')!;
    const back = drain(list);
    assert.deepEqual(ids(back), [ids([a])[0]]);
    assert.equal(back[0]!.redelivered, true);
    reopened.store.close();
  });

  test('destroy removes the queue directory; delete of a closed queue too', async () => {
    const dir = dataDir();
    const { store } = await openStore(dir, TINY);
    const q = store.create('/', 'gone');
    for (let i = 0; i < 50; i++) q.push(message(i));
    await durable(q);
    const qdir = store.queueDir('/', 'gone');
    assert.ok(fs.existsSync(qdir));
    q.destroy();
    assert.ok(!fs.existsSync(qdir));
    assert.equal(store.get('/', 'gone'), undefined);
    store.create('/', 'other').push(message(1));
    store.close();
    const reopened = await openStore(dir, TINY);
    assert.deepEqual([...reopened.recovered.get('/')!.keys()], ['other']);
    reopened.store.delete('/', 'other');
    assert.ok(!fs.existsSync(reopened.store.queueDir('/', 'other')));
    reopened.store.close();
  });

  test('restart: persistent messages come back in order, transient ones do not, delivered ones redelivered', async () => {
    const dir = dataDir();
    const { store } = await openStore(dir, TINY);
    const q = store.create('vh1', 'restart');
    store.create('vh2', 'restart').push(message(999));
    for (let i = 0; i < 120; i++) q.push(message(i, { persistent: i % 4 !== 3, size: 50 + i }));
    const out: Envelope[] = [];
    for (let i = 0; i < 10; i++) out.push(q.shift()!);
    q.settle(out[0]!); // acked
    q.requeue(out[1]!); // requeued: redelivered
    // out[2..9] stay unacked at shutdown: they come back redelivered.
    store.close();

    const { store: s2, recovered } = await openStore(dir, TINY);
    assert.deepEqual(ids(drain(recovered.get('vh2')!.get('restart')!)), [999]);
    const list = recovered.get('vh1')!.get('restart')!;
    const expected = range(1, 120).filter((i) => i % 4 !== 3);
    assert.equal(list.length, expected.length);
    const back = drain(list, false);
    assert.deepEqual(ids(back), expected);
    for (const e of back) assert.equal(e.redelivered, ids([e])[0]! < 10, `redelivered of ${ids([e])[0]}`);
    assert.equal(back[0]!.message.routingKey, 'rk');
    assert.equal(back[0]!.message.exchange, 'amq.direct');
    assert.equal(back[0]!.message.timestamp, 1_700_000_000_001);
    assert.deepEqual(back[0]!.message.rawProperties, Buffer.from([0x10, 0x00, 0x02]));
    assert.equal(back[0]!.message.persistent, true);
    // New pushes after recovery go after the recovered ones.
    list.push(message(500));
    for (const e of back) list.requeue(e);
    assert.deepEqual(ids(drain(list)), [...expected, 500]);
    s2.close();
  });

  test('after a crash (no close), unacked deliveries come back redelivered', async () => {
    const dir = dataDir();
    const { store } = await openStore(dir, TINY);
    const q = store.create('/', 'crash');
    for (let i = 0; i < 40; i++) q.push(message(i));
    await durable(q);
    const out: Envelope[] = [];
    for (let i = 0; i < 6; i++) out.push(q.shift()!);
    q.settle(out[0]!);
    await new Promise((r) => setImmediate(r)); // let the turn's writes happen, then "crash": no close
    const { store: s2, recovered } = await openStore(dir, TINY);
    const back = drain(recovered.get('/')!.get('crash')!);
    assert.deepEqual(ids(back), range(1, 40));
    assert.ok(back.slice(0, 5).every((e) => e.redelivered));
    s2.close();
    store.close();
  });

  test('whenDurable fires only once the records are in the file, in push order', async () => {
    const dir = dataDir();
    const { store } = await openStore(dir, { segmentBytes: 1 << 20 });
    const q = store.create('/', 'confirm');
    const order: number[] = [];
    const checks: Promise<void>[] = [];
    for (let i = 0; i < 200; i++) {
      q.push(message(i, { size: 512 }));
      if (i % 10 === 9) {
        checks.push(
          new Promise((resolve) =>
            q.whenDurable(() => {
              order.push(i);
              // Read through a freshly opened fd: the record bytes must be in the file already.
              const seg = path.join(store.queueDir('/', 'confirm'), segmentFiles(store.queueDir('/', 'confirm'))[0]!);
              const data = fs.readFileSync(seg);
              assert.ok(data.includes(message(i, { size: 512 }).body), `record ${i} in the file`);
              resolve();
            }),
          ),
        );
      }
      if (i % 37 === 0) await new Promise((r) => setImmediate(r));
    }
    await Promise.all(checks);
    assert.deepEqual(order, range(0, 20).map((k) => k * 10 + 9));
    assert.ok(store.persister.stats.fdatasyncs > 0);
    store.close();
  });

  for (const directSyncs of [DIRECT_SYNCS, Infinity]) {
    const how = directSyncs === Infinity ? 'one fdatasync per queue (no journal)' : "the journal's fdatasync alone";
    test(`group commit: one turn of pushes to many queues is one write per queue and one sync round of ${how}`, async () => {
      const { store } = await openStore(dataDir(), { directSyncs });
      const lists = range(0, 30).map((i) => store.create('/', `g${i}`));
      await new Promise((r) => setTimeout(r, 20)); // the directory syncs of the creates are done
      const before = { ...store.persister.stats };
      const syncs = directSyncs === Infinity ? lists.length : 1;
      let fired = 0;
      const all: Promise<void>[] = [];
      for (let i = 0; i < 3000; i++) {
        const list = lists[i % lists.length]!;
        list.push(message(i, { size: 1024 }));
        all.push(
          new Promise((resolve) =>
            list.whenDurable(() => {
              // Every fdatasync of the round (segments and journal) completed before any confirm.
              assert.equal(store.persister.stats.fdatasyncsDone - before.fdatasyncsDone, syncs);
              fired++;
              resolve();
            }),
          ),
        );
      }
      await Promise.all(all);
      assert.equal(fired, 3000);
      const after = store.persister.stats;
      assert.equal(after.rounds - before.rounds, 1, 'one round');
      assert.equal(after.fdatasyncs - before.fdatasyncs, syncs);
      const journaled = after.journalBytes - before.journalBytes;
      if (directSyncs === Infinity) assert.equal(journaled, 0);
      else assert.ok(journaled > 3_000_000 && journaled < 3_500_000, `all 30 queues' records went to the journal: ${journaled} bytes`);
      // 3.2 MB of records: three full 1 MiB slabs, then the end of the turn.
      assert.ok(after.flushes - before.flushes <= 4, `flushes ${after.flushes - before.flushes}`);
      store.close();
      const journalDir = path.join(store.dataDir, 'journal');
      assert.equal(fs.existsSync(journalDir) ? fs.readdirSync(journalDir).length : 0, 0, 'a clean close deletes the journal');
    });
  }

  test(`group commit: a turn of pushes to ${DIRECT_SYNCS} queues fdatasyncs their segment files and writes nothing twice`, async () => {
    const { store } = await openStore(dataDir());
    const lists = range(0, DIRECT_SYNCS).map((i) => store.create('/', `d${i}`));
    await new Promise((r) => setTimeout(r, 20)); // the directory syncs of the creates are done
    const before = { ...store.persister.stats };
    const all: Promise<void>[] = [];
    for (let i = 0; i < 200; i++) {
      const list = lists[i % lists.length]!;
      list.push(message(i, { size: 1024 }));
      all.push(new Promise((resolve) => list.whenDurable(resolve)));
    }
    await Promise.all(all);
    const after = store.persister.stats;
    assert.equal(after.rounds - before.rounds, 1, 'one round');
    assert.equal(after.fdatasyncs - before.fdatasyncs, DIRECT_SYNCS, 'one per segment file');
    assert.equal(after.journalBytes - before.journalBytes, 0, 'no journal bytes');
    store.close();
  });

  test('whenDurable does not wait for fsync when only transient messages were pushed', async () => {
    const { store } = await openStore(dataDir());
    const q = store.create('/', 'transient');
    q.push(message(1, { persistent: false }));
    const events: string[] = [];
    q.whenDurable(() => events.push('durable'));
    await new Promise((r) => setImmediate(r));
    events.push('immediate');
    assert.deepEqual(events, ['durable', 'immediate']);
    store.close();
  });

  test('big bodies (written from their own buffer) and odd chunk sizes survive paging and restart', async () => {
    const dir = dataDir();
    const opts = { windowMessages: 2, windowBytes: 1 << 20, segmentBytes: 300_000, readChunkBytes: 100 };
    const { store } = await openStore(dir, opts);
    const q = store.create('/', 'big');
    const sizes = [70_000, 10, 200_000, 16 * 1024, 16 * 1024 + 1, 1, 123_456, 0, 50_000];
    sizes.forEach((size, i) => q.push(message(i, { size: Math.max(size, 12) })));
    assert.deepEqual(ids(drain(q, false)).length, sizes.length);
    store.close();
    const { store: s2, recovered } = await openStore(dir, opts);
    const back = drain(recovered.get('/')!.get('big')!);
    assert.deepEqual(ids(back), range(0, sizes.length));
    s2.close();
  });

  test('a data dir in use by another live process is refused (old-style file lock too); a dead owner\'s lock is taken over', async () => {
    const dir = dataDir();
    const { spawn } = await import('node:child_process');
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
    try {
      fs.writeFileSync(path.join(dir, 'warren.lock'), `${child.pid}\n`);
      await assert.rejects(openStore(dir), /in use by process/);
    } finally {
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
    }
    const { store } = await openStore(dir); // owner dead: taken over
    // A symlink naming the pid: creating it needs no data block, so a full disk cannot stop start-up.
    assert.equal(fs.readlinkSync(path.join(dir, 'warren.lock')), String(process.pid));
    await assert.rejects(
      (async () => {
        const child2 = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
        try {
          store.close();
          fs.symlinkSync(String(child2.pid), path.join(dir, 'warren.lock'));
          await openStore(dir);
        } finally {
          child2.kill('SIGKILL');
          await new Promise((r) => child2.once('exit', r));
        }
      })(),
      /in use by process/,
    );
    fs.rmSync(path.join(dir, 'warren.lock'));
    const { store: s3 } = await openStore(dir);
    s3.close();
    assert.ok(!fs.existsSync(path.join(dir, 'warren.lock')), 'released at close');
  });

  test('queue and vhost names with any characters', async () => {
    const dir = dataDir();
    const { store } = await openStore(dir);
    const names = ['', 'with/slash', '../up', 'ünïcødé ✓', 'a'.repeat(255)];
    for (const [i, name] of names.entries()) store.create(name, name).push(message(i));
    store.close();
    const { store: s2, recovered } = await openStore(dir);
    for (const [i, name] of names.entries()) assert.deepEqual(ids(drain(recovered.get(name)!.get(name)!)), [i]);
    s2.close();
  });
});
