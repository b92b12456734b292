/**
 * The clean-shutdown marker (src/store/clean-shutdown.ts): after a clean close, recovery verifies
 * each unchanged segment with one whole-file checksum instead of one per record, and must come back
 * with exactly what a full check finds. Files that changed after the marker (damage, same-size
 * edits with the mtime put back, appends and acks of a later run that crashed) get the full checks.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import type { DurableMessageList } from '../src/store/index.js';
import { drain, ids, message, openStore, range, removeDir, segmentFiles, tempDir, type LogEntry } from './store-util.js';

const dirs: string[] = [];
after(() => dirs.forEach(removeDir));

const MARKER = 'clean-shutdown.json';
/** header: 33 fixed + "amq.direct" + "rk" + 3 property bytes; with a 100-byte body. */
const RECORD = 33 + 10 + 2 + 3 + 100;
const SEGMENT_BYTES = 20 * RECORD;

function recoveredLine(logs: LogEntry[]): Record<string, unknown> {
  const line = logs.find((l) => l.msg === 'message store recovered');
  assert.ok(line, 'recovery logged its totals');
  return line.fields;
}

/** What a queue gives back: ids in order with their redelivered flags, and the counts it reported first. */
function contents(list: DurableMessageList): { length: number; bytes: number; got: number[]; redelivered: number[] } {
  const length = list.length;
  const bytes = list.bytes;
  const back = drain(list, false);
  return { length, bytes, got: ids(back), redelivered: ids(back.filter((e) => e.redelivered)) };
}

/**
 * A data dir with queue 'q' over several segments, after a clean close: 100 messages, every 7th
 * transient, some acked (a whole segment's worth and a scattered few), one delivered but not acked.
 */
async function filledDir(): Promise<{ dir: string; qdir: string; expected: number[] }> {
  const dir = tempDir();
  dirs.push(dir);
  const { store } = await openStore(dir, { segmentBytes: SEGMENT_BYTES });
  const q = store.create('/', 'q');
  for (let i = 0; i < 100; i++) q.push(message(i, { persistent: i % 7 !== 0 }));
  await new Promise<void>((r) => q.whenDurable(r));
  const acked = new Set([...range(0, 25), 40, 41, 63, 77, 98]);
  const out = range(0, 100).map(() => q.shift()!);
  for (const [i, e] of out.entries()) if (acked.has(i)) q.settle(e);
  for (const [i, e] of out.entries()) if (!acked.has(i) && i !== 50) q.requeue(e);
  store.close();
  const expected = range(0, 100).filter((i) => i % 7 !== 0 && !acked.has(i));
  return { dir, qdir: store.queueDir('/', 'q'), expected };
}

/** A copy of the data dir without the marker: what a full check of the same files gives. */
async function fullCheckOf(dir: string): Promise<ReturnType<typeof contents>> {
  const copy = tempDir();
  dirs.push(copy);
  fs.cpSync(dir, copy, { recursive: true });
  fs.rmSync(path.join(copy, MARKER), { force: true });
  const { store, recovered, logs } = await openStore(copy);
  assert.equal(recoveredLine(logs).segmentsTrusted, 0, 'no marker: every record checked');
  const result = contents(recovered.get('/')!.get('q')!);
  store.close();
  return result;
}

describe('clean-shutdown marker', () => {
  test('after a clean close every segment is verified by one checksum, with the same result as a full check', async () => {
    const { dir, qdir, expected } = await filledDir();
    assert.ok(fs.existsSync(path.join(dir, MARKER)), 'close wrote the marker');
    const full = await fullCheckOf(dir);

    const { store, recovered, logs } = await openStore(dir);
    assert.ok(!fs.existsSync(path.join(dir, MARKER)), 'open removes the marker before anything is written');
    const totals = recoveredLine(logs);
    assert.ok((totals.segments as number) >= 3, `several segments: ${JSON.stringify(totals)}`);
    assert.equal(totals.segmentsTrusted, totals.segments, 'every segment verified as a whole');
    assert.equal(totals.messagesLost, 0);
    assert.ok(!logs.some((l) => l.level === 'warn'), 'nothing to report');
    const fast = contents(recovered.get('/')!.get('q')!);
    assert.deepEqual(fast, full, 'same messages, counts, bytes and redelivered flags as a full check');
    assert.deepEqual(fast.got, expected);
    assert.ok(fast.redelivered.includes(50) && fast.redelivered.length > 0);
    assert.equal(fs.existsSync(path.join(qdir, '0000000000000001.seg')), false, 'the fully acked segment is gone');
    store.close();

    // Settled records and a new segment written in this run are vouched for by the next marker too.
    const again = await openStore(dir);
    assert.equal(recoveredLine(again.logs).segmentsTrusted, recoveredLine(again.logs).segments);
    assert.deepEqual(contents(again.recovered.get('/')!.get('q')!).got, expected);
    again.store.close();
  });

  test('a segment damaged after the marker was written is checked in full: only the damaged record is dropped', async () => {
    const { dir, qdir, expected } = await filledDir();
    const segs = segmentFiles(qdir);
    const seg = path.join(qdir, segs[2]!);
    const firstSeq = Number(segs[2]!.slice(0, 16));
    // A body byte of the segment's 6th record: same size, only its crc (and the file's) can tell.
    const bytes = fs.readFileSync(seg);
    bytes[5 * RECORD + 80]! ^= 0x20;
    fs.writeFileSync(seg, bytes);
    const damagedId = firstSeq - 1 + 5;
    assert.ok(expected.includes(damagedId), 'the damaged record is a live message');

    const { store, recovered, logs } = await openStore(dir);
    const totals = recoveredLine(logs);
    assert.equal(totals.segmentsTrusted, (totals.segments as number) - 1, 'only the changed segment is checked in full');
    const warn = logs.find((l) => l.msg.includes('skipped damaged'));
    assert.ok(warn, 'the damage is reported');
    assert.equal(warn.fields.file, seg);
    assert.equal(warn.fields.messagesLost, 1);
    assert.equal(totals.messagesLost, warn.fields.messagesLost);
    assert.deepEqual(contents(recovered.get('/')!.get('q')!).got, expected.filter((i) => i !== damagedId));
    store.close();
  });

  test('a same-size change with the old mtime put back is still caught by the whole-file checksum', async () => {
    const { dir, qdir, expected } = await filledDir();
    const seg = path.join(qdir, segmentFiles(qdir).at(-1)!);
    const firstSeq = Number(path.basename(seg).slice(0, 16));
    const { atime, mtime } = fs.statSync(seg);
    const bytes = fs.readFileSync(seg);
    bytes[RECORD + 60]! ^= 0x01; // the segment's 2nd record
    fs.writeFileSync(seg, bytes);
    fs.utimesSync(seg, atime, mtime);

    const { store, recovered, logs } = await openStore(dir);
    const totals = recoveredLine(logs);
    assert.equal(totals.segmentsTrusted, (totals.segments as number) - 1);
    assert.ok(logs.some((l) => l.msg.includes('skipped damaged') && l.fields.file === seg));
    const lostId = firstSeq - 1 + 1;
    assert.deepEqual(contents(recovered.get('/')!.get('q')!).got, expected.filter((i) => i !== lostId));
    store.close();
  });

  test('a stale marker (the removal lost in a crash) vouches only for files that did not change since', async () => {
    const { dir, qdir, expected } = await filledDir();
    const stale = fs.readFileSync(path.join(dir, MARKER));

    // A run that acks some recovered messages and appends new ones, then crashes (no close).
    const run = await openStore(dir, { segmentBytes: SEGMENT_BYTES });
    const q = run.recovered.get('/')!.get('q')!;
    const first = q.shift()!;
    const second = q.shift()!;
    q.settle(first);
    q.settle(second);
    for (let i = 100; i < 130; i++) q.push(message(i));
    await new Promise<void>((r) => q.whenDurable(r));
    await new Promise((r) => setTimeout(r, 100)); // the acks are written at the end of a turn
    // The old marker comes back, written "after" everything (its mtime is now): the worst case.
    fs.writeFileSync(path.join(dir, MARKER), stale);

    const { store, recovered, logs } = await openStore(dir, { segmentBytes: SEGMENT_BYTES });
    const totals = recoveredLine(logs);
    assert.equal(totals.segments, 6, 'four recovered segments and two written by the crashed run');
    assert.equal(totals.segmentsTrusted, 4, 'the new segments are checked in full');
    const back = contents(recovered.get('/')!.get('q')!);
    assert.deepEqual(back.got, [...expected.slice(2), ...range(100, 130)], 'acks of the crashed run count, new messages are there');
    assert.equal(totals.messagesLost, 0);
    store.close();
    run.store.close();
    assert.ok(fs.readdirSync(qdir).length > 0);
  });

  test('a marker that is not valid JSON is ignored', async () => {
    const { dir, expected } = await filledDir();
    fs.writeFileSync(path.join(dir, MARKER), '{"version":1,"queues":{');
    const { store, recovered, logs } = await openStore(dir);
    assert.equal(recoveredLine(logs).segmentsTrusted, 0);
    assert.deepEqual(contents(recovered.get('/')!.get('q')!).got, expected);
    store.close();
  });
});
