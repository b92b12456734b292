/**
 * The memory reclaimer's forced collections stop the broker for as long as marking its live heap
 * takes (src/broker/memory-reclaimer.ts). Growth alone must not buy such a stop while clients are
 * exchanging messages: with 10,000 connections open (65 MiB of live heap) a 1,000 msg/s pair saw two
 * back-to-back 65-75 ms collections (p99 44 ms, max 144 ms) for memory that was all live anyway.
 * Warren only: it looks at an embedded broker's reclaimer.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { Broker } from '../src/index.js';
import { PAUSE_BUDGET_MS } from '../src/broker/memory-reclaimer.js';
import { externalUrl } from './support/test-broker.js';
import { channel, connect } from './support/amqp-client.js';

const MiB = 1024 * 1024;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Live objects of about `mib` MiB on the V8 heap (what thousands of connections amount to). */
function liveHeap(mib: number): { i: number }[][] {
  const perArray = 131_072; // ~3 MiB each: 16-byte objects plus the array's slot
  return Array.from({ length: Math.ceil(mib / 3) }, (_, a) => Array.from({ length: perArray }, (_, i) => ({ i: a + i })));
}

async function until(cond: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!cond() && Date.now() < deadline) await sleep(100);
  return cond();
}

describe('memory reclaimer pauses', { skip: externalUrl ? 'looks at an embedded broker' : false }, () => {
  test('heap growth while messages flow gets no forced collection; once they stop, one pass (the growth was live)', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'warren-reclaim-pause-'));
    const broker = await Broker.start({ port: 0, host: '127.0.0.1', managementPort: 0, prometheusPort: 0, dataDir, logLevel: 'silent' });
    const reclaimer = broker.alarms.reclaimer;
    const conn = await connect(`amqp://guest:guest@127.0.0.1:${broker.port}/%2F`);
    let publisher: NodeJS.Timeout | undefined;
    try {
      const ch = await channel(conn);
      const q = (await ch.assertQueue('', { exclusive: true })).queue;
      let received = 0;
      await ch.consume(q, () => { received++; }, { noAck: true });
      // A light load, 200 msg/s: the event loop stays far below the reclaimer's idle threshold.
      publisher = setInterval(() => ch.sendToQueue(q, Buffer.from('tick')), 5);
      await sleep(1500);
      const collectionsBefore = reclaimer.collections;
      const heapBefore = process.memoryUsage().heapUsed;
      let live: { i: number }[][] | undefined = liveHeap(60);
      assert.ok(process.memoryUsage().heapUsed - heapBefore > 40 * MiB, 'the heap grew by well over the reclaimer\'s 16 MiB');
      // A machine that marks faster than the last collection here showed: live heap until a forced GC would cost more than the budget.
      while (reclaimer.expectedPauseMs() <= PAUSE_BUDGET_MS && live.length < 300) live.push(...liveHeap(30));
      assert.ok(reclaimer.expectedPauseMs() > PAUSE_BUDGET_MS, `a forced collection would now stop the broker ${reclaimer.expectedPauseMs().toFixed(0)} ms`);
      await sleep(4500);
      assert.equal(reclaimer.collections, collectionsBefore, 'no forced collection while the pair exchanged messages');
      assert.ok(received > 500, `messages flowed meanwhile (${received})`);

      clearInterval(publisher);
      const passesBefore = reclaimer.passes;
      // Within 12 s: growth waits 10 s after any earlier collection (one at start-up would delay it).
      assert.ok(await until(() => reclaimer.collections > collectionsBefore, 12_000), 'once the messages stopped, the growth was collected');
      assert.equal(reclaimer.passes - passesBefore, reclaimer.collections - collectionsBefore, 'one pass each: the first freed little (the growth is live), a second would only have doubled the stop');
      // Holds the live heap referenced until here, so it stays live through the collection above.
      assert.ok(live.length > 0);

      // The second pass still runs when the first freed much (dead pages to compact).
      live = undefined;
      const passes = reclaimer.passes;
      reclaimer.collect(2);
      assert.equal(reclaimer.passes - passes, 2, 'the live heap dropped made the second pass worth it');
    } finally {
      clearInterval(publisher);
      await conn.close();
      await broker.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
