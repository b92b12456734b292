/**
 * Disk comes back (issue 15): a durable queue's messages stored, then all acked, or purged, or the
 * queue deleted: within a few seconds the data dir holds no segment file and only a few KiB (the
 * store's sweep deletes the last, partly written segment of a drained queue too). A non-durable
 * queue's pages go the same way.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import amqp from 'amqplib';
import type { ChannelModel, ConfirmChannel } from 'amqplib';
import { spawnWarren, type WarrenChild } from './support/warren-child.js';

const MESSAGES = 20_000;
const BODY = Buffer.alloc(1024, 7);
/** The store sweeps drained queues every 2 s; give it a few rounds on a busy machine. */
const RECLAIM_MS = 10_000;

let dataDir = '';
let broker: WarrenChild;
let conn: ChannelModel;
let ch: ConfirmChannel;

function segmentFiles(): string[] {
  return (readdirSync(dataDir, { recursive: true }) as string[]).filter((f) => f.endsWith('.seg'));
}

/** KiB the data dir takes on disk. */
function diskKiB(): number {
  return Number(execFileSync('du', ['-sk', dataDir]).toString().split('\t')[0]);
}

async function fill(queue: string, durable: boolean): Promise<void> {
  await ch.assertQueue(queue, { durable });
  for (let i = 0; i < MESSAGES; i++) {
    ch.sendToQueue(queue, BODY, { persistent: durable });
    if (i % 1000 === 999) await ch.waitForConfirms();
  }
  await ch.waitForConfirms();
  assert.equal((await ch.checkQueue(queue)).messageCount, MESSAGES);
  // A non-durable queue writes only what is beyond its memory window (4 MiB at the head).
  assert.ok(diskKiB() > (MESSAGES * BODY.length) / 2048, `stored on disk: ${diskKiB()} KiB`);
}

async function reclaimed(what: string): Promise<void> {
  const deadline = Date.now() + RECLAIM_MS;
  while (segmentFiles().length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  assert.deepEqual(segmentFiles(), [], `${what}: segment files left`);
  assert.ok(diskKiB() < 1024, `${what}: data dir still takes ${diskKiB()} KiB`);
}

describe('disk comes back', { timeout: 120_000 }, () => {
  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'warren-reclaim-'));
    broker = await spawnWarren({ dataDir, args: ['--heartbeat', '0'] });
    conn = await amqp.connect(broker.url);
    ch = await conn.createConfirmChannel();
  });

  after(async () => {
    await conn?.close();
    await broker?.kill('SIGTERM');
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('after every message of a durable queue is acked', async () => {
    await fill('reclaim-ack', true);
    const consumer = await conn.createChannel();
    await consumer.prefetch(500);
    let got = 0;
    await new Promise<void>((resolve) => {
      void consumer.consume('reclaim-ack', (m) => {
        if (!m) return;
        consumer.ack(m);
        if (++got === MESSAGES) resolve();
      });
    });
    await consumer.close();
    await reclaimed('acked');
  });

  test('after a purge, and after the queue is deleted', async () => {
    await fill('reclaim-purge', true);
    assert.equal((await ch.purgeQueue('reclaim-purge')).messageCount, MESSAGES);
    await reclaimed('purged');
    await fill('reclaim-purge', true);
    await ch.deleteQueue('reclaim-purge');
    await reclaimed('deleted');
  });

  test('a non-durable queue paged to disk, purged', async () => {
    await fill('reclaim-transient', false);
    await ch.purgeQueue('reclaim-transient');
    await reclaimed('transient purged');
  });
});
