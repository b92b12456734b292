/**
 * Disk comes back (issue 15): a durable queue's messages stored, then all acked, or purged, or the
 * queue deleted: within a few seconds the data dir holds no segment file and only a few KiB (the
 * store's sweep deletes the last, partly written segment of a drained queue too). A non-durable
 * queue's pages go the same way. Out-of-order acks: segments mostly acked are compacted
 * (src/store/segment-compactor.ts), so one message left unacked keeps only its own record, not its
 * 16 MiB segment, and that goes too once the message is settled, also after its channel closed and
 * it was delivered again; with every 1000th message held, the data dir shrinks to the active
 * segment plus about the held messages.
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

/** Wait (compaction runs every sweep, 2 s) until the data dir takes at most `kib` KiB. */
async function untilDiskKiB(kib: number, what: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (diskKiB() > kib && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
  assert.ok(diskKiB() <= kib, `${what}: data dir takes ${diskKiB()} KiB, expected at most ${kib}`);
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

  test('one unacked message keeps only its own record (its segment is compacted), until it is settled', async () => {
    const queue = 'reclaim-pinned';
    const count = 40_000; // 1 KiB bodies plus record headers: three segments
    await ch.assertQueue(queue, { durable: true });
    for (let i = 0; i < count; i++) {
      ch.sendToQueue(queue, BODY, { persistent: true });
      if (i % 1000 === 999) await ch.waitForConfirms();
    }
    await ch.waitForConfirms();
    assert.ok(segmentFiles().length >= 3, `segments: ${segmentFiles().length}`);
    // Hold the 100th delivery (in the first segment), ack every other message.
    const holder = await conn.createChannel();
    await holder.prefetch(1000);
    let got = 0;
    const held = await new Promise<amqp.ConsumeMessage>((resolve) => {
      let pinned: amqp.ConsumeMessage | undefined;
      void holder.consume(queue, (m) => {
        if (!m) return;
        if (++got === 100) pinned = m;
        else holder.ack(m);
        if (got === count) resolve(pinned!);
      });
    });
    const deadline = Date.now() + RECLAIM_MS;
    while (segmentFiles().length > 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    assert.equal(segmentFiles().length, 1, 'only the segment of the unacked message is left');
    // ... compacted down to that one record: the 16 MiB file gives its space back.
    await untilDiskKiB(256, 'one unacked message');
    // Its channel closes: the message is requeued, delivered again, acked: the segment goes.
    assert.equal(held.fields.redelivered, false);
    await holder.close();
    const again = await conn.createChannel();
    const back = await again.get(queue, { noAck: false });
    assert.ok(back && back.fields.redelivered, 'the held message came back redelivered');
    again.ack(back);
    assert.equal((await again.checkQueue(queue)).messageCount, 0);
    await again.close();
    await reclaimed('pinned segment settled');
  });

  test('out of order: all but every 1000th message acked, the data dir keeps about the active segment', { timeout: 300_000 }, async () => {
    const queue = 'reclaim-sparse';
    // ~210 MiB of 1 KiB records, 13 segments (RECLAIM_SPARSE_COUNT=1000000 for the README's figure)
    const count = Number(process.env.RECLAIM_SPARSE_COUNT ?? 200_000);
    const segmentBytes = 16 * 1024 * 1024;
    await ch.assertQueue(queue, { durable: true });
    for (let i = 0; i < count; i++) {
      ch.sendToQueue(queue, BODY, { persistent: true });
      if (i % 1000 === 999) await ch.waitForConfirms();
    }
    await ch.waitForConfirms();
    assert.ok(diskKiB() > (count * BODY.length) / 1024, `stored: ${diskKiB()} KiB`);
    const holder = await conn.createChannel();
    await holder.prefetch(1000);
    const held: amqp.ConsumeMessage[] = [];
    let got = 0;
    await new Promise<void>((resolve) => {
      void holder.consume(queue, (m) => {
        if (!m) return;
        if (++got % 1000 === 0) held.push(m);
        else holder.ack(m);
        if (got === count) resolve();
      });
    });
    assert.equal(held.length, count / 1000);
    // Every segment but the active one is compacted to its held records (~1 KiB each, 200 in all).
    await untilDiskKiB(segmentBytes / 1024 + 2048, 'every 1000th held');
    process.stderr.write(`${count} messages published, all but every 1000th acked: data dir ${diskKiB()} KiB\n`);
    for (const m of held) holder.ack(m);
    assert.equal((await holder.checkQueue(queue)).messageCount, 0);
    await holder.close();
    await reclaimed('held ones acked at last');
  });

  test('a non-durable queue paged to disk, purged', async () => {
    await fill('reclaim-transient', false);
    await ch.purgeQueue('reclaim-transient');
    await reclaimed('transient purged');
  });
});
