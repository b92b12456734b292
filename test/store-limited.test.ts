/**
 * eachLimited (src/store/limited.ts), which bounds the store's background syncs (a round's path
 * fsyncs, a journal checkpoint's fdatasyncs): never more than the limit at once, every item in
 * order, settled once each, no new start after a refusal, done exactly once — also for no items and
 * for tasks that end synchronously.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { eachLimited } from '../src/store/limited.js';

test('at most `limit` run at once; all run in order; done once after the last', async () => {
  const started: number[] = [];
  const settled: number[] = [];
  let running = 0;
  let most = 0;
  let dones = 0;
  await new Promise<void>((resolve) => {
    eachLimited(
      Array.from({ length: 20 }, (_, i) => i),
      3,
      (i, ended) => {
        started.push(i);
        running++;
        most = Math.max(most, running);
        setTimeout(() => {
          running--;
          ended(null);
        }, 1 + ((i * 7) % 5));
      },
      (err, i) => void (assert.equal(err, null), settled.push(i)),
      () => {
        dones++;
        resolve();
      },
    );
  });
  assert.equal(most, 3);
  assert.deepEqual(started, Array.from({ length: 20 }, (_, i) => i));
  assert.deepEqual([...settled].sort((a, b) => a - b), started);
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(dones, 1);
});

test('a refusal starts no more; the running ones still settle before done', async () => {
  const started: number[] = [];
  const settled: number[] = [];
  await new Promise<void>((resolve) => {
    eachLimited(
      [0, 1, 2, 3, 4, 5, 6, 7],
      2,
      (i, ended) => {
        started.push(i);
        setTimeout(() => ended(i === 1 ? Object.assign(new Error('EIO'), { code: 'EIO' }) : null), i === 1 ? 1 : 10);
      },
      (err, i) => {
        settled.push(i);
        return err === null;
      },
      resolve,
    );
  });
  // 0 and 1 start; 1 fails first: nothing more starts, 0 still settles before done.
  assert.deepEqual(started, [0, 1]);
  assert.deepEqual(settled, [1, 0]);
});

test('no items, and tasks that end synchronously: done exactly once', () => {
  let dones = 0;
  eachLimited([], 4, () => assert.fail('no task'), () => undefined, () => dones++);
  assert.equal(dones, 1);
  const order: string[] = [];
  eachLimited(['a', 'b', 'c'], 2, (x, ended) => (order.push(`start ${x}`), ended(null)), (_e, x) => void order.push(`end ${x}`), () => order.push('done'));
  assert.deepEqual(order, ['start a', 'end a', 'start b', 'end b', 'start c', 'end c', 'done']);
});
