/**
 * Recovery from damaged files: torn tails at every kind of offset, garbage appended, bytes flipped
 * in the middle of a segment, damaged ack and mark files. Damage is never delivered, never stops
 * the store from opening, and is reported in the log.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { drain, ids, message, openStore, range, removeDir, segmentFiles, tempDir, type LogEntry } from './store-util.js';

const dirs: string[] = [];
after(() => dirs.forEach(removeDir));

/** header: 33 fixed + "amq.direct" + "rk" + 3 property bytes; with a 100-byte body. */
const RECORD = 33 + 10 + 2 + 3 + 100;
const COUNT = 40;

/** A data dir holding one queue 'q' with COUNT persistent 100-byte messages in one segment. */
async function fixture(): Promise<{ dir: string; seg: string }> {
  const dir = tempDir();
  dirs.push(dir);
  const { store } = await openStore(dir);
  const q = store.create('/', 'q');
  for (let i = 0; i < COUNT; i++) q.push(message(i));
  store.close();
  const qdir = store.queueDir('/', 'q');
  const seg = path.join(qdir, segmentFiles(qdir)[0]!);
  assert.equal(fs.statSync(seg).size, COUNT * RECORD, 'record layout as expected');
  return { dir, seg };
}

async function recover(dir: string) {
  const opened = await openStore(dir);
  const list = opened.recovered.get('/')?.get('q');
  const back = list ? drain(list, false) : [];
  return { ...opened, list, back, got: ids(back) };
}

describe('store recovery from damage', () => {
  test('a torn last record is dropped and truncated, whatever the cut offset', async () => {
    const { dir, seg } = await fixture();
    const original = fs.readFileSync(seg);
    const cuts = [1, 4, 7, 8, 11, 12, 20, 32, 33, 47, 48, RECORD - 1, RECORD + 1, 5 * RECORD + 77];
    for (let i = 0; i < 20; i++) cuts.push(1 + Math.floor(Math.random() * (original.length - 1)));
    for (const cut of cuts) {
      fs.writeFileSync(seg, original.subarray(0, cut));
      const { store, got, logs, list } = await recover(dir);
      const whole = Math.floor(cut / RECORD);
      assert.deepEqual(got, range(0, whole), `cut at ${cut}`);
      if (cut % RECORD !== 0) {
        const warn = logs.find((l) => l.msg.includes('torn'));
        assert.ok(warn, `torn tail reported for cut ${cut}`);
        assert.equal(warn.fields.offset, whole * RECORD);
        if (whole === 0) assert.ok(!fs.existsSync(seg), 'a segment left without records is deleted');
        else assert.equal(fs.statSync(seg).size, whole * RECORD, 'truncated to the last whole record');
      }
      // The queue keeps working after the repair.
      list?.push(message(1000));
      store.close();
      fs.writeFileSync(seg, original);
      for (const f of segmentFiles(path.dirname(seg))) if (path.join(path.dirname(seg), f) !== seg) fs.rmSync(path.join(path.dirname(seg), f));
    }
  });

  test('garbage after the last record is dropped; records after it still recover on the next start', async () => {
    const { dir, seg } = await fixture();
    // Random bytes, then bytes that look like the start of a record (length + magic) but stop short.
    const lookalike = Buffer.alloc(20);
    lookalike.writeUInt32LE(500, 0);
    lookalike.write('WR', 8, 'latin1');
    fs.appendFileSync(seg, Buffer.concat([randomBytes(300), lookalike]));
    const first = await recover(dir);
    assert.deepEqual(first.got, range(0, COUNT));
    assert.ok(first.logs.some((l) => l.level === 'warn' && l.msg.includes('torn')));
    assert.equal(fs.statSync(seg).size, COUNT * RECORD);
    first.list!.push(message(COUNT));
    first.store.close();
    const second = await recover(dir);
    assert.deepEqual(second.got, range(0, COUNT + 1));
    assert.ok(!second.logs.some((l) => l.level === 'warn'));
    second.store.close();
  });

  test('flipped bytes in the middle of a segment drop only the damaged records, which are reported', async () => {
    const { dir, seg } = await fixture();
    const original = fs.readFileSync(seg);
    // [offset inside the file, records that must be lost]
    const cases: [number, number[]][] = [
      [3 * RECORD + 60, [3]], // body byte
      [10 * RECORD + 1, [10]], // length field
      [10 * RECORD + 5, [10]], // crc field
      [20 * RECORD + 8, [20]], // magic
      [20 * RECORD + 13, [20]], // seq
      [0, [0]], // the very first record
    ];
    for (const [offset, lost] of cases) {
      const damaged = Buffer.from(original);
      damaged[offset]! ^= 0x5a;
      fs.writeFileSync(seg, damaged);
      const { store, got, logs, back } = await recover(dir);
      assert.deepEqual(got, range(0, COUNT).filter((i) => !lost.includes(i)), `flip at ${offset}`);
      assert.ok(back.every((e) => ids([e])[0]! >= 0), 'no damaged body delivered');
      const warn = logs.find((l) => l.msg.includes('skipped damaged'));
      assert.ok(warn, `damage at ${offset} reported`);
      assert.equal(warn.fields.offset, lost[0]! * RECORD);
      assert.equal(warn.fields.bytes, RECORD);
      assert.equal(warn.fields.seqsLost, 1);
      assert.equal(warn.fields.file, seg);
      store.close();
    }
    // A whole run of garbage over several records.
    const damaged = Buffer.from(original);
    randomBytes(3 * RECORD).copy(damaged, 5 * RECORD + 50);
    fs.writeFileSync(seg, damaged);
    const { store, got } = await recover(dir);
    assert.deepEqual(got, range(0, COUNT).filter((i) => i < 5 || i > 8));
    store.close();
  });

  test('a damaged ack record brings its messages back (at least once); the others stay acked', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const { store } = await openStore(dir);
    const q = store.create('/', 'q');
    for (let i = 0; i < 10; i++) q.push(message(i));
    const out = range(0, 10).map(() => q.shift()!);
    q.settle(out[2]!);
    await new Promise((r) => setImmediate(r));
    q.settle(out[5]!);
    await new Promise((r) => setImmediate(r));
    store.close();
    const qdir = store.queueDir('/', 'q');
    const ackFile = path.join(qdir, segmentFiles(qdir)[0]!.replace('.seg', '.ack'));
    const acks = fs.readFileSync(ackFile);
    assert.equal(acks.length, 32, 'two ack records');
    acks[3]! ^= 1; // damage the first one (seq of message 2)
    fs.writeFileSync(ackFile, Buffer.concat([acks, Buffer.from([1, 2, 3])])); // plus a torn record
    const { store: s2, recovered } = await openStore(dir);
    assert.deepEqual(ids(drain(recovered.get('/')!.get('q')!)), range(0, 10).filter((i) => i !== 5));
    s2.close();
  });

  test('a damaged delivered mark makes every recovered message redelivered', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const { store } = await openStore(dir);
    const q = store.create('/', 'q');
    for (let i = 0; i < 10; i++) q.push(message(i));
    q.shift();
    store.close();
    const mark = path.join(store.queueDir('/', 'q'), 'delivered');
    fs.writeFileSync(mark, randomBytes(16));
    const { store: s2, recovered, logs } = await openStore(dir);
    const back = drain(recovered.get('/')!.get('q')!);
    assert.deepEqual(ids(back), range(0, 10));
    assert.ok(back.every((e) => e.redelivered));
    assert.ok(logs.some((l) => l.level === 'warn' && l.msg.includes('mark')));
    // A good mark is written back: messages pushed from now on are not flagged after a crash.
    const list = recovered.get('/')!.get('q')!;
    list.push(message(10));
    // Reopen as after a crash, but only once the push, the settles above and the new mark are written:
    // a busy machine can take more than one turn for those writes.
    await new Promise<void>((r) => list.whenDurable(r));
    await new Promise((r) => setTimeout(r, 200));
    const { store: s3, recovered: r3, logs: logs3 } = await openStore(dir);
    const again = drain(r3.get('/')!.get('q')!);
    assert.deepEqual(ids(again), [10]);
    assert.equal(again[0]!.redelivered, false);
    assert.ok(!logs3.some((l) => l.level === 'warn'));
    s3.close();
    s2.close();
  });

  test('an unreadable queue directory is skipped and the others recover; progress is logged', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const { store } = await openStore(dir, { segmentBytes: 4096 });
    for (const name of ['a', 'b', 'c']) {
      const q = store.create('/', name);
      for (let i = 0; i < 100; i++) q.push(message(i));
    }
    store.close();
    fs.rmSync(path.join(store.queueDir('/', 'b'), 'queue.json'));
    // A whole segment of garbage in queue c: dropped, the rest served.
    const cdir = store.queueDir('/', 'c');
    const cseg = path.join(cdir, segmentFiles(cdir)[1]!);
    const garbage = randomBytes(fs.statSync(cseg).size);
    fs.writeFileSync(cseg, garbage);
    const { store: s2, recovered, logs } = await openStore(dir, { progressIntervalMs: 0 });
    assert.deepEqual([...recovered.get('/')!.keys()].sort(), ['a', 'c']);
    assert.deepEqual(ids(drain(recovered.get('/')!.get('a')!)), range(0, 100));
    const c = ids(drain(recovered.get('/')!.get('c')!));
    assert.ok(c.length > 0 && c.length < 100);
    assert.ok(c.every((id, i) => id >= 0 && (i === 0 || id > c[i - 1]!)), 'in order, intact');
    assert.ok(logs.some((l) => l.msg.includes('queue.json')));
    assert.ok(logs.some((l) => l.msg === 'recovering messages' && typeof l.fields.messages === 'number'));
    const done = logs.find((l) => l.msg === 'message store recovered')!;
    assert.equal(done.fields.queues, 2);
    assert.equal(done.fields.tornTails, 1);
    s2.close();
  });

  test("a queue directory whose queue.json a crash caught before its sync, without messages, is removed", async () => {
    const dir = tempDir();
    dirs.push(dir);
    const { store } = await openStore(dir);
    store.create('/', 'declared');
    store.create('/', 'kept');
    store.close();
    // queue.json is written without a sync of its own (the next group-commit round syncs it).
    fs.writeFileSync(path.join(store.queueDir('/', 'declared'), 'queue.json'), '');
    fs.rmSync(path.join(store.queueDir('/', 'kept'), 'queue.json'));
    fs.writeFileSync(path.join(store.queueDir('/', 'kept'), '0000000000000001.seg'), 'x');
    const { store: s2, logs } = await openStore(dir);
    assert.equal(fs.existsSync(store.queueDir('/', 'declared')), false, 'nothing in it: removed');
    assert.equal(fs.existsSync(store.queueDir('/', 'kept')), true, 'a segment file: left for the operator');
    assert.ok(logs.some((l) => l.msg.includes('left alone')));
    s2.close();
  });

  test('a torn tail reports how many messages it dropped: exact when known, else a lower bound', async () => {
    const tornLine = (logs: LogEntry[]) => logs.find((l) => l.msg.includes('torn'))!.fields;
    const totals = (logs: LogEntry[]) => logs.find((l) => l.msg === 'message store recovered')!.fields;

    // After a clean stop the marker knows where the segment ended: exact, acked messages not counted.
    {
      const dir = tempDir();
      dirs.push(dir);
      const { store } = await openStore(dir);
      const q = store.create('/', 'q');
      for (let i = 0; i < COUNT; i++) q.push(message(i));
      const out = range(0, COUNT).map(() => q.shift()!);
      q.settle(out[COUNT - 2]!);
      for (const e of out) if (e !== out[COUNT - 2]) q.requeue(e);
      store.close();
      const qdir = store.queueDir('/', 'q');
      const seg = path.join(qdir, segmentFiles(qdir)[0]!);
      fs.truncateSync(seg, (COUNT - 5) * RECORD + 70); // 5 records hit, one of them acked
      const { store: s2, got, logs } = await recover(dir);
      assert.deepEqual(got, range(0, COUNT - 5));
      assert.equal(tornLine(logs).messagesLost, 4);
      assert.equal(tornLine(logs).messagesLostExact, true);
      assert.equal(totals(logs).messagesLost, 4);
      assert.equal(totals(logs).messagesLostExact, true);
      s2.close();
    }

    // After a crash (no marker), in the last segment: the records whose headers are still there.
    {
      const { dir, seg } = await fixture();
      fs.rmSync(path.join(dir, 'clean-shutdown.json'));
      const bytes = fs.readFileSync(seg);
      bytes[(COUNT - 2) * RECORD + 5]! ^= 0xff; // crc of the last-but-one record
      fs.writeFileSync(seg, bytes.subarray(0, (COUNT - 1) * RECORD + 50)); // the last one cut short
      const { store, got, logs } = await recover(dir);
      assert.deepEqual(got, range(0, COUNT - 2));
      assert.equal(tornLine(logs).messagesLost, 2, 'the damaged record and the cut one');
      assert.equal(tornLine(logs).messagesLostExact, false);
      assert.equal(totals(logs).messagesLost, 2);
      assert.equal(totals(logs).messagesLostExact, false);
      store.close();
    }

    // After a crash, in a segment followed by another: the next segment's first seq makes it exact.
    {
      const dir = tempDir();
      dirs.push(dir);
      const { store } = await openStore(dir, { segmentBytes: 10 * RECORD });
      const q = store.create('/', 'q');
      for (let i = 0; i < 25; i++) q.push(message(i));
      store.close();
      fs.rmSync(path.join(dir, 'clean-shutdown.json'));
      const qdir = store.queueDir('/', 'q');
      const seg = path.join(qdir, segmentFiles(qdir)[1]!);
      fs.truncateSync(seg, 6 * RECORD + 3);
      const { store: s2, got, logs } = await recover(dir);
      assert.deepEqual(got, [...range(0, 16), ...range(20, 25)]);
      assert.equal(tornLine(logs).messagesLost, 4);
      assert.equal(tornLine(logs).messagesLostExact, true);
      assert.equal(totals(logs).messagesLost, 4);
      s2.close();
    }
  });
});
