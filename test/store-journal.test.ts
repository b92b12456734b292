/**
 * The store's shared journal (src/store/journal.ts): a group-commit round with many busy queues
 * fdatasyncs the journal instead of each segment file. A power loss can then leave the segment
 * files without their last writes; these tests simulate exactly that (a copy of the data dir taken
 * while the store runs, with the segment files cut back) and check that the journal puts back every
 * confirmed message, never a deleted queue's, and that checkpoints and clean closes delete it.
 * Records a journaled round made durable reach their segment files only later (deferred writes,
 * segment-writer.ts): a kill -9 (a copy of the data dir as it is) must then find them in the
 * journal, and a checkpoint must write them before it deletes the journal file holding them.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import type { MessageStore } from '../src/store/index.js';
import { DEFER_LIST_BYTES, DEFER_TOTAL_BYTES } from '../src/store/persister.js';
import { drain, durable, ids, message, openStore, range, removeDir, segmentFiles, tempDir } from './store-util.js';

const dirs: string[] = [];
after(() => dirs.forEach(removeDir));

function dataDir(): string {
  const dir = tempDir('warren-journal-');
  dirs.push(dir);
  return dir;
}

/** Everything journaled: no round fdatasyncs a segment file itself. */
const JOURNAL_ALL = { directSyncs: 0 };

/** A copy of the running store's data dir as a power loss would leave it: segment files cut to `keep` bytes. */
function powerLossCopy(store: MessageStore, keep: (size: number) => number): string {
  const copy = dataDir();
  fs.cpSync(store.dataDir, copy, { recursive: true });
  const vhosts = path.join(copy, 'vhosts');
  for (const entry of fs.readdirSync(vhosts, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.seg')) continue;
    const file = path.join(entry.parentPath ?? entry.path, entry.name);
    fs.truncateSync(file, keep(fs.statSync(file).size));
  }
  return copy;
}

/** Bytes in the segment files of a data dir. */
function segmentBytes(dir: string): number {
  let n = 0;
  for (const entry of fs.readdirSync(path.join(dir, 'vhosts'), { recursive: true, withFileTypes: true })) {
    if (entry.isFile() && entry.name.endsWith('.seg')) n += fs.statSync(path.join(entry.parentPath ?? entry.path, entry.name)).size;
  }
  return n;
}

/** Bytes in the segment files of one queue of vhost '/'. */
function queueSegmentBytes(store: MessageStore, queue: string): number {
  const dir = store.queueDir('/', queue);
  return segmentFiles(dir).reduce((n, f) => n + fs.statSync(path.join(dir, f)).size, 0);
}

/** Bytes in the ack files of a data dir. */
function ackBytes(dir: string): number {
  let n = 0;
  for (const entry of fs.readdirSync(path.join(dir, 'vhosts'), { recursive: true, withFileTypes: true })) {
    if (entry.isFile() && entry.name.endsWith('.ack')) n += fs.statSync(path.join(entry.parentPath ?? entry.path, entry.name)).size;
  }
  return n;
}

/** A copy of the running store's data dir as a kill -9 leaves it (the files as they are). */
function killCopy(store: MessageStore): string {
  const copy = dataDir();
  fs.cpSync(store.dataDir, copy, { recursive: true });
  return copy;
}

async function waitFor(what: string, done: () => boolean): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!done()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function journalFiles(dir: string): string[] {
  const j = path.join(dir, 'journal');
  return fs.existsSync(j) ? fs.readdirSync(j) : [];
}

/** A store journaling every round, `count` queues named prefix0.. and `messages` confirmed into them round-robin. */
async function busyJournaledQueues(prefix: string, count: number, messages: number, options: { size?: number } = {}) {
  const { store } = await openStore(dataDir(), JOURNAL_ALL);
  const queues = range(0, count).map((i) => store.create('/', `${prefix}${i}`));
  for (let i = 0; i < messages; i++) queues[i % count]!.push(message(i, options));
  await Promise.all(queues.map(durable));
  return { store, queues };
}

/** The store's sweep (every 2 s) seals an idle journal on its second call; then its checkpoint deletes it. */
async function checkpoint(store: MessageStore): Promise<void> {
  store.sweep();
  store.sweep();
  await waitFor('checkpoint', () => journalFiles(store.dataDir).length === 0);
}

test('confirmed messages whose segment writes were lost come back from the journal', async () => {
  const { store } = await openStore(dataDir(), JOURNAL_ALL);
  const queues = range(0, 5).map((i) => store.create('/', `j${i}`));
  for (let i = 0; i < 500; i++) queues[i % 5]!.push(message(i, { size: 700 }));
  await Promise.all(queues.map(durable));
  assert.ok(store.persister.stats.journalBytes > 500 * 700);
  assert.ok(journalFiles(store.dataDir).length > 0, 'the journal holds the writes');

  for (const keep of [() => 0, (size: number) => Math.floor(size / 3)]) {
    const copy = powerLossCopy(store, keep);
    const { store: again, recovered, logs } = await openStore(copy);
    for (let q = 0; q < 5; q++) {
      const list = recovered.get('/')!.get(`j${q}`)!;
      assert.deepEqual(ids(drain(list)), range(0, 100).map((k) => k * 5 + q), `queue j${q}`);
    }
    const replayed = logs.find((l) => l.msg === 'journal replayed');
    assert.ok(replayed && (replayed.fields['rewritten'] as number) > 0, 'the replay rewrote segment bytes');
    assert.deepEqual(journalFiles(copy), [], 'a replayed journal is deleted');
    again.close();
  }
  store.close();
});

test('a queue deleted and declared again never gets its predecessor\'s journaled messages', async () => {
  const { store } = await openStore(dataDir(), JOURNAL_ALL);
  let q = store.create('/', 'again');
  for (let i = 0; i < 50; i++) q.push(message(i));
  await durable(q);
  store.delete('/', 'again');
  q = store.create('/', 'again');
  for (let i = 1000; i < 1003; i++) q.push(message(i));
  await durable(q);
  // Same segment file name as the deleted queue's, and its longer predecessor is in the journal first.
  assert.deepEqual(segmentFiles(store.queueDir('/', 'again')), ['0000000000000001.seg']);
  const copy = powerLossCopy(store, () => 0);
  const { store: again, recovered } = await openStore(copy);
  assert.deepEqual(ids(drain(recovered.get('/')!.get('again')!)), [1000, 1001, 1002]);
  again.close();
  store.close();
});

test('an idle journal is checkpointed and deleted; a clean close leaves none', async () => {
  const { store, queues } = await busyJournaledQueues('c', 3, 30);
  assert.equal(journalFiles(store.dataDir).length, 1);
  await checkpoint(store);
  // The checkpoint fdatasynced the segments: a power loss now loses nothing even without the journal.
  queues[0]!.push(message(99));
  await durable(queues[0]!);
  assert.equal(journalFiles(store.dataDir).length, 1, 'a new journal file for new writes');
  store.close();
  assert.deepEqual(journalFiles(store.dataDir), []);
  const { store: again, recovered } = await openStore(store.dataDir);
  assert.deepEqual(ids(drain(recovered.get('/')!.get('c0')!)), [0, 3, 6, 9, 12, 15, 18, 21, 24, 27, 99]);
  again.close();
});

test('journaled records wait in memory, and reach their segment files before the journal that holds them is deleted', async () => {
  const { store } = await busyJournaledQueues('d', 5, 500, { size: 700 });
  assert.equal(segmentBytes(store.dataDir), 0, 'confirmed, yet no segment file written: the round wrote the journal only');

  const expect = (q: number): number[] => range(0, 100).map((k) => k * 5 + q);
  const crashed = killCopy(store);
  {
    const { store: again, recovered, logs } = await openStore(crashed);
    for (let q = 0; q < 5; q++) assert.deepEqual(ids(drain(recovered.get('/')!.get(`d${q}`)!)), expect(q), `queue d${q} after a kill`);
    assert.ok(Number(logs.find((l) => l.msg === 'journal replayed')?.fields['rewritten']) > 0, 'the replay wrote the deferred records');
    again.close();
  }

  // The checkpoint writes the deferred records, fdatasyncs, deletes the journal file.
  await checkpoint(store);
  assert.ok(segmentBytes(store.dataDir) > 500 * 700, 'the checkpoint wrote the records to their segment files');
  const afterCheckpoint = killCopy(store);
  const { store: again, recovered } = await openStore(afterCheckpoint);
  for (let q = 0; q < 5; q++) assert.deepEqual(ids(drain(recovered.get('/')!.get(`d${q}`)!)), expect(q), `queue d${q} after a checkpoint and a kill`);
  again.close();
  store.close();
});

test('deferred records are bounded: per list, and for all lists together', async () => {
  // More busy queues than DEFER_TOTAL_BYTES has buffers for: the rest write their files every round.
  const count = Math.ceil(DEFER_TOTAL_BYTES / DEFER_LIST_BYTES) + 40;
  const { store, queues } = await busyJournaledQueues('b', count, count * 4, { size: 1000 });
  assert.ok(store.persister.deferredBufferBytes <= DEFER_TOTAL_BYTES, `${store.persister.deferredBufferBytes} bytes of buffers`);
  assert.ok(store.persister.deferredBufferBytes > 0, 'some lists deferred');
  const written = segmentBytes(store.dataDir);
  assert.ok(written >= 40 * 4 * 1000, `lists without a buffer wrote their records (${written} bytes in segment files)`);

  // One list keeps publishing while two others stay busy: its file lags by at most one buffer.
  const one = queues[0]!;
  for (let round = 0; round < 20; round++) {
    for (let i = 0; i < 30; i++) one.push(message(100_000 + round * 30 + i, { size: 1000 }));
    queues[1]!.push(message(200_000 + round, { size: 10 }));
    queues[2]!.push(message(300_000 + round, { size: 10 }));
    await Promise.all([one, queues[1]!, queues[2]!].map(durable));
  }
  const file = path.join(store.queueDir('/', 'b0'), segmentFiles(store.queueDir('/', 'b0'))[0]!);
  // A full buffer is written by the thread pool (write-behind): wait for that write, not for a checkpoint.
  await waitFor(`the busy list's file holds all but its last buffer (${fs.statSync(file).size} bytes)`, () => fs.statSync(file).size > 600 * 1000 - DEFER_LIST_BYTES);
  store.close();
  assert.equal(store.persister.deferredBufferBytes, 0, 'closed lists hold no buffers');
  const { store: again, recovered } = await openStore(store.dataDir);
  assert.equal(drain(recovered.get('/')!.get('b0')!).length, 4 + 600);
  again.close();
});

test('acks of journaled rounds go to the journal, then to their ack files before it is deleted', async () => {
  const { store, queues } = await busyJournaledQueues('a', 4, 400, { size: 100 });
  // Settle the first 60 of each queue's 100 (in two steps, so two flushes journal ack records).
  for (const q of queues) for (let k = 0; k < 30; k++) q.settle(q.shift()!);
  store.persister.flushAll();
  for (const q of queues) for (let k = 0; k < 30; k++) q.settle(q.shift()!);
  store.persister.flushAll();
  assert.equal(ackBytes(store.dataDir), 0, 'no ack file written: the acks are in the journal');

  const left = (q: number): number[] => range(60, 100).map((k) => k * 4 + q);
  for (const when of ['after a kill', 'after a checkpoint and a kill']) {
    if (when !== 'after a kill') {
      await checkpoint(store);
      assert.equal(ackBytes(store.dataDir), 4 * 2 * 16, 'the checkpoint appended the ack records to their files');
    }
    const { store: again, recovered } = await openStore(killCopy(store));
    for (let q = 0; q < 4; q++) {
      const back = drain(recovered.get('/')!.get(`a${q}`)!);
      assert.deepEqual(ids(back), left(q), `queue a${q} ${when}: acked messages stay acked`);
    }
    again.close();
  }
  store.close();
});

test('a journal entry with a damaged message record stops the replay there: no damaged or later record comes back', async () => {
  // Segment writes go to the journal only: records are checked there by their own crcs, not by a second one per entry.
  const { store } = await busyJournaledQueues('x', 5, 500, { size: 700 });
  const copy = killCopy(store);
  store.close();
  const [name] = journalFiles(copy);
  const file = path.join(copy, 'journal', name!);
  const wal = fs.readFileSync(file);
  // Walk the entries (u32 length, u32 crc, u8 kind, u16 path length, path, f64 offset, records) to the
  // middle one that holds message records (kind 3), and flip a byte of its first record's body.
  const entries: { at: number; data: number }[] = [];
  for (let at = 0; at + 11 <= wal.length; at += wal.readUInt32LE(at)) {
    if (wal[at + 8] === 3) entries.push({ at, data: at + 11 + wal.readUInt16LE(at + 9) + 8 });
  }
  assert.ok(entries.length >= 3, `${entries.length} record entries`);
  const damaged = entries[Math.floor(entries.length / 2)]!;
  wal[damaged.data + wal.readUInt32LE(damaged.data) - 1]! ^= 0xff;
  fs.writeFileSync(file, wal);

  const { store: again, recovered, logs } = await openStore(copy);
  let back = 0;
  for (let q = 0; q < 5; q++) {
    const got = ids(drain(recovered.get('/')!.get(`x${q}`)!));
    assert.deepEqual(got, range(0, got.length).map((k) => k * 5 + q), `queue x${q}: a prefix of what was confirmed, intact and in order`);
    back += got.length;
  }
  assert.ok(back > 0 && back < 500, `${back} of 500 came back: the entries before the damaged one`);
  const replayed = logs.find((l) => l.msg === 'journal replayed');
  assert.ok(replayed && Number(replayed.fields['entries']) < entries.length, 'replay stopped at the damaged entry');
  again.close();
});

test('a failed journal write (thread pool) confirms nothing until its records are in their segment files, fdatasynced', async () => {
  const { store, queues, logs } = await (async () => {
    const opened = await openStore(dataDir(), JOURNAL_ALL);
    const qs = range(0, 4).map((i) => opened.store.create('/', `f${i}`));
    return { store: opened.store, queues: qs, logs: opened.logs };
  })();
  for (let i = 0; i < 40; i++) queues[i % 4]!.push(message(i, { size: 500 }));
  await Promise.all(queues.map(durable));
  assert.equal(segmentBytes(store.dataDir), 0, 'the first rounds wrote the journal only');

  // The journal's fd now refuses writes: the next batch's write in the thread pool fails.
  const journal = (store.persister as unknown as { journal: { currentFile: { fd: number; file: string } } }).journal;
  const file = journal.currentFile;
  const writable = file.fd;
  file.fd = fs.openSync(file.file, 'r');
  try {
    for (let i = 40; i < 80; i++) queues[i % 4]!.push(message(i, { size: 500 }));
    // What the segment files hold at the moment each confirm fires: all 20 records of the queue, 500-byte bodies.
    const heldAtConfirm = await Promise.all(queues.map((q, i) => new Promise<number>((resolve) => q.whenDurable(() => resolve(queueSegmentBytes(store, `f${i}`))))));
    assert.ok(logs.some((l) => l.msg.startsWith('journal write failed')), 'the failed write is logged');
    for (const held of heldAtConfirm) assert.ok(held > 20 * 500, `confirmed with ${held} bytes in the segment file`);
    // Confirmed: every record, of both batches, must be in the segment files themselves now.
    const crashed = killCopy(store);
    fs.rmSync(path.join(crashed, 'journal'), { recursive: true, force: true });
    const { store: again, recovered } = await openStore(crashed);
    for (let q = 0; q < 4; q++) {
      assert.deepEqual(ids(drain(recovered.get('/')!.get(`f${q}`)!)), range(0, 20).map((k) => k * 4 + q), `queue f${q}, from its segment file alone`);
    }
    again.close();
    // The journal goes on in a new file.
    for (let i = 80; i < 120; i++) queues[i % 4]!.push(message(i, { size: 500 }));
    await Promise.all(queues.map(durable));
  } finally {
    store.close();
    fs.closeSync(writable);
  }
  const { store: again, recovered } = await openStore(store.dataDir);
  for (let q = 0; q < 4; q++) assert.deepEqual(ids(drain(recovered.get('/')!.get(`f${q}`)!)), range(0, 30).map((k) => k * 4 + q));
  again.close();
});
