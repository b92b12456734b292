/**
 * Segment compaction (src/store/segment-compactor.ts), on the store alone: a segment whose records
 * are mostly settled is rewritten with only the live persistent ones, and what a restart brings back
 * is unchanged — the same messages, in the same order, redelivered where they had been delivered;
 * acks and requeues after the compaction still count. kill -9 during compactions: store-crash.test.ts.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import type { Envelope } from '../src/broker/message.js';
import { durable, ids, message, openStore, removeDir, tempDir } from './store-util.js';

const OPTIONS = { windowMessages: 8, windowBytes: 64 * 1024, segmentBytes: 32 * 1024, readChunkBytes: 8 * 1024 };
const dirs: string[] = [];
after(() => dirs.forEach(removeDir));

function segmentBytes(dir: string): number {
  let n = 0;
  for (const f of fs.readdirSync(dir, { recursive: true }) as string[]) {
    if (f.endsWith('.seg')) n += fs.statSync(path.join(dir, f)).size;
  }
  return n;
}

test('a mostly acked segment is compacted; a restart brings back the same messages in order', async () => {
  const dir = tempDir('warren-compact-');
  dirs.push(dir);
  const { store } = await openStore(dir, OPTIONS);
  const list = store.create('/', 'q');
  for (let i = 0; i < 400; i++) list.push(message(i, { size: 500, persistent: i % 50 !== 7 }));
  await durable(list);
  // Deliver everything; hold every 20th (and the transient ones), ack the rest.
  const held: Envelope[] = [];
  for (let e = list.shift(); e; e = list.shift()) {
    const id = ids([e])[0]!;
    if (id % 20 === 0 || id % 50 === 7) held.push(e);
    else list.settle(e);
  }
  const before = segmentBytes(dir);
  assert.equal(await store.compact(), list.segmentCount - 1, 'every full segment compacted');
  assert.ok(segmentBytes(dir) < before / 4, `segment bytes ${before} -> ${segmentBytes(dir)}`);
  assert.equal(await store.compact(), 0, 'nothing left worth compacting');

  // After the compaction: one held message acked, one requeued, then published ones behind.
  const acked = held.shift()!;
  list.settle(acked);
  const requeued = held.find((e) => ids([e])[0] === 100)!;
  list.requeue(requeued);
  list.push(message(1000, { size: 500 }));
  await durable(list);
  assert.deepEqual(ids([list.peek()!]), [100], 'the requeued message is served first');
  store.close();

  const reopened = await openStore(dir, OPTIONS);
  const back = reopened.recovered.get('/')!.get('q')!;
  const got: Envelope[] = [];
  for (let e = back.shift(); e; e = back.shift()) got.push(e);
  const expected = held
    .map((e) => ids([e])[0]!)
    .filter((id) => id !== ids([acked])[0] && id % 50 !== 7)
    .concat(1000);
  assert.deepEqual(ids(got), expected, 'held persistent ones in order, the acked one gone, transient ones dropped');
  for (const e of got) assert.equal(e.redelivered, ids([e])[0] !== 1000, 'delivered ones come back redelivered');
  reopened.store.close();
});

test('a segment is compacted only once the list never reads it again, and only if mostly settled', async () => {
  const dir = tempDir('warren-compact-');
  dirs.push(dir);
  const { store } = await openStore(dir, OPTIONS);
  const list = store.create('/', 'q');
  for (let i = 0; i < 400; i++) list.push(message(i, { size: 500 }));
  await durable(list);
  const perSegment = Math.floor(OPTIONS.segmentBytes / 540);
  // Most of the first segment acked, but its last records are still ready (head window or disk):
  // the segment is still read from, so it stays as it is.
  const firstCut = perSegment - 3 - OPTIONS.windowMessages;
  for (let i = 0; i < firstCut; i++) list.settle(list.shift()!);
  assert.ok(list.pagedOut > 0);
  const before = segmentBytes(dir);
  assert.equal(await store.compact(), 0, 'not while its records are still to be read');
  // Take the rest of it (held unacked) and some of the next: now it is compacted.
  const held: Envelope[] = [];
  for (let i = 0; i < 3 * OPTIONS.windowMessages; i++) held.push(list.shift()!);
  assert.equal(await store.compact(), 1);
  assert.ok(segmentBytes(dir) < before);
  // Consume the lot, acking half: the other segments keep half their records live, not worth it.
  for (let e = list.shift(), n = 0; e; e = list.shift(), n++) if (n % 2 === 0) list.settle(e);
  assert.equal(await store.compact(), 0);
  store.close();
});
