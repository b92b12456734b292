/**
 * Disk full, on a real small file system: a 256 MiB ext4 image loop-mounted by the test (so it needs
 * root; run from .ci/run, skipped with a message elsewhere). mkfs -m 0: no blocks reserved for root,
 * so "full" means full for the broker too.
 * - Under confirmed persistent load from several publishers, the disk alarm keeps free space near its
 *   limit (it re-checks as bytes are written, not only once a second): it never drops more than a
 *   few MiB below it, and every confirmed message is stored.
 * - The broker is killed, the disk filled to its last byte, and the broker restarted on it: start-up
 *   writes nothing it needs space for, so it starts, raises the disk alarm (a publisher gets
 *   connection.blocked 'low on disk'), and serves consumers: every confirmed message comes back
 *   intact, and acking them gives the space back (segments deleted).
 * - With the alarm off (--disk-free-limit 0), writes hit ENOSPC: the broker stays up, confirms are
 *   held for what could not be written (nothing is confirmed that is not stored), and once space is
 *   freed the held writes go through and every message is confirmed; after a kill -9 all of them
 *   come back intact.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, rmSync, statfsSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import amqp from 'amqplib';
import { checkedBody, checkedId } from '../support/checked-body.js';
import { spawnWarren, type WarrenChild } from '../support/warren-child.js';

const MB = 1024 * 1024;
const IMAGE_BYTES = 256 * MB;
const DISK_FREE_LIMIT = 50_000_000;
/** How far below the limit free space may go: one re-check step (1 MiB) plus what was in flight. */
const TOLERANCE = 6 * MB;
const PUBLISHERS = 4;
const PAYLOAD_BYTES = 16 * 1024;
const IN_FLIGHT = 200;
const QUEUE = 'disk-full';

function skipReason(): string | undefined {
  if (process.platform !== 'linux') return 'disk-full test: Linux only (loop-mounted ext4)';
  if (process.getuid?.() !== 0) return 'disk-full test skipped: needs root to loop-mount a 256 MiB ext4 image (CI runs it as root from .ci/run)';
  for (const tool of ['/usr/sbin/mkfs.ext4', '/usr/bin/mount', '/usr/bin/umount']) {
    if (!existsSync(tool) && !existsSync(tool.replace('/usr', ''))) return `disk-full test skipped: ${tool} is missing`;
  }
  return undefined;
}

const skip = skipReason();
if (skip) process.stderr.write(`${skip}\n`);

let work = '';
let mountPoint = '';
let mounted = false;
const brokers: WarrenChild[] = [];
let confirmedIds: number[] = [];

const freeBytes = (): number => {
  const s = statfsSync(mountPoint);
  return s.bavail * s.bsize;
};

/** Drop a connection without a close handshake (a blocked connection is not read, so it would never answer). */
function cut(conn: amqp.ChannelModel): void {
  conn.on('error', () => {});
  (conn.connection as unknown as { stream: { destroy(): void } }).stream.destroy();
}

async function startBroker(diskFreeLimit = DISK_FREE_LIMIT): Promise<WarrenChild> {
  const broker = await spawnWarren({
    dataDir: join(mountPoint, 'data'),
    args: ['--disk-free-limit', String(diskFreeLimit), '--heartbeat', '0'],
  });
  brokers.push(broker);
  return broker;
}

describe('disk full (loop-mounted 256 MiB ext4)', { skip, timeout: 180_000 }, () => {
  before(() => {
    work = mkdtempSync(join(tmpdir(), 'warren-diskfull-'));
    const image = join(work, 'disk.img');
    mountPoint = join(work, 'mnt');
    mkdirSync(mountPoint);
    closeSync(openSync(image, 'w'));
    execFileSync('truncate', ['-s', String(IMAGE_BYTES), image]);
    execFileSync('mkfs.ext4', ['-q', '-F', '-m', '0', image]);
    execFileSync('mount', ['-o', 'loop', image, mountPoint]);
    mounted = true;
  });

  after(async () => {
    for (const broker of brokers) if (broker.alive()) await broker.kill('SIGKILL');
    if (mounted) execFileSync('umount', [mountPoint]);
    if (work) rmSync(work, { recursive: true, force: true });
  });

  test('the disk alarm holds its limit under confirmed persistent load', async () => {
    const broker = await startBroker();
    const conns = await Promise.all(Array.from({ length: PUBLISHERS }, () => amqp.connect(broker.url)));
    const setup = await conns[0]!.createChannel();
    await setup.assertQueue(QUEUE, { durable: true });
    await setup.close();

    let minFree = freeBytes();
    const sampler = setInterval(() => (minFree = Math.min(minFree, freeBytes())), 2);
    let nextId = 0;
    const confirmed: number[] = [];
    let blockedCount = 0;
    const publishers = conns.map(async (conn) => {
      let blocked = false;
      conn.on('blocked', (reason: string) => {
        assert.equal(reason, 'low on disk');
        if (!blocked) blockedCount++;
        blocked = true;
      });
      const ch = await conn.createConfirmChannel();
      let inFlight = 0;
      let wake: (() => void) | undefined;
      // Publish until this connection is blocked, then wait for what it has in flight to settle.
      while (!blocked) {
        if (inFlight >= IN_FLIGHT) {
          await new Promise<void>((resolve) => (wake = resolve));
          continue;
        }
        const id = ++nextId;
        inFlight++;
        ch.publish('', QUEUE, checkedBody(id, PAYLOAD_BYTES), { persistent: true }, (err: unknown) => {
          inFlight--;
          if (!err) confirmed.push(id);
          const w = wake;
          wake = undefined;
          w?.();
        });
        if (id % 64 === 0) await new Promise<void>((resolve) => setImmediate(resolve));
      }
    });
    await Promise.all(publishers);
    // Blocked connections are not read any more: what is in flight stays unconfirmed. Give the broker
    // time to write whatever it had already read, then look at the disk.
    const settleUntil = Date.now() + 3000;
    while (Date.now() < settleUntil) await new Promise((r) => setTimeout(r, 50));
    clearInterval(sampler);
    minFree = Math.min(minFree, freeBytes());
    process.stderr.write(
      `disk-full: ${nextId} published, ${confirmed.length} confirmed, ${blockedCount} publishers blocked; ` +
        `lowest free ${(minFree / MB).toFixed(1)} MiB (limit ${(DISK_FREE_LIMIT / MB).toFixed(1)} MiB)\n`,
    );
    assert.equal(blockedCount, PUBLISHERS, 'every publisher got connection.blocked');
    assert.ok(minFree >= DISK_FREE_LIMIT - TOLERANCE, `free space fell to ${minFree} bytes, limit ${DISK_FREE_LIMIT}`);
    assert.ok(confirmed.length > 0);
    confirmedIds = confirmed;
    for (const conn of conns) cut(conn);
    await broker.kill('SIGKILL');
  });

  test('a broker restarted on a full disk starts, raises the disk alarm and serves consumers', async () => {
    assert.ok(confirmedIds.length > 0, 'needs the messages of the first test');
    // Fill the disk to its last byte.
    const filler = openSync(join(mountPoint, 'filler'), 'w');
    const chunk = Buffer.alloc(MB, 1);
    let written = 0;
    try {
      while (written < IMAGE_BYTES) written += writeSync(filler, chunk);
    } catch (err) {
      assert.equal((err as NodeJS.ErrnoException).code, 'ENOSPC');
    }
    try {
      while (written < IMAGE_BYTES) written += writeSync(filler, chunk, 0, 4096);
    } catch {
      // Full to the block.
    }
    closeSync(filler);
    // More than the image holds means the loop mount is gone and the writes hit the host's disk.
    assert.ok(written < IMAGE_BYTES, 'the filler stayed on the 256 MiB loop mount');
    assert.ok(freeBytes() < 64 * 1024, `disk not full: ${freeBytes()} bytes free`);

    const fullFree = freeBytes();
    const broker = await startBroker();
    const publisher = await amqp.connect(broker.url);
    const blocked = new Promise<string>((resolve) => publisher.on('blocked', resolve));
    const pch = await publisher.createChannel();
    pch.publish('', 'nowhere', Buffer.from('x'));
    assert.equal(await blocked, 'low on disk');

    const consumerConn = await amqp.connect(broker.url);
    const ch = await consumerConn.createChannel();
    await ch.prefetch(500);
    const seen = new Set<number>();
    let bad = 0;
    const want = new Set(confirmedIds);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`only ${seen.size} of ${want.size} confirmed messages came back`)), 60_000);
      void ch.consume(QUEUE, (msg) => {
        if (!msg) return;
        const id = checkedId(msg.content);
        if (id === undefined) bad++;
        else if (want.has(id) && !seen.has(id)) seen.add(id);
        ch.ack(msg);
        if (seen.size === want.size) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    assert.equal(bad, 0, 'no damaged bodies');
    await ch.close();
    // Acked segments are deleted: the disk drains.
    const deadline = Date.now() + 10_000;
    while (freeBytes() < fullFree + 100 * MB && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.ok(freeBytes() >= fullFree + 100 * MB, `space not given back: ${fullFree} -> ${freeBytes()} bytes free`);
    cut(publisher);
    await consumerConn.close();
    assert.ok(broker.alive(), broker.tail());
    await broker.kill('SIGTERM');
    rmSync(join(mountPoint, 'filler'));
  });

  test('with the alarm off, ENOSPC holds confirms until space is freed; nothing confirmed is lost', async () => {
    const broker = await startBroker(0);
    // Leave about 8 MiB free, then publish 32 MiB of persistent messages with confirms.
    const filler = openSync(join(mountPoint, 'filler'), 'w');
    const chunk = Buffer.alloc(MB, 1);
    let written = 0;
    while (freeBytes() > 9 * MB && written < IMAGE_BYTES) written += writeSync(filler, chunk);
    closeSync(filler);
    assert.ok(written < IMAGE_BYTES, 'the filler stayed on the 256 MiB loop mount');
    const conn = await amqp.connect(broker.url);
    const ch = await conn.createConfirmChannel();
    await ch.assertQueue('enospc', { durable: true });
    const total = 2000;
    const confirmed = new Set<number>();
    let nacked = 0;
    for (let id = 1; id <= total; id++) {
      ch.publish('', 'enospc', checkedBody(id, PAYLOAD_BYTES), { persistent: true }, (err: unknown) => {
        if (err) nacked++;
        else confirmed.add(id);
      });
      if (id % 64 === 0) await new Promise<void>((resolve) => setImmediate(resolve));
    }
    // Confirms stop: wait until none arrived for 3 s.
    let seen = -1;
    while (seen !== confirmed.size) {
      seen = confirmed.size;
      await new Promise((r) => setTimeout(r, 3000));
    }
    const heldAt = confirmed.size;
    process.stderr.write(`disk-full ENOSPC: ${heldAt} of ${total} confirmed while the disk was full, ${freeBytes()} bytes free\n`);
    assert.ok(heldAt < total, 'some confirms must be held while writes fail');
    assert.ok(broker.alive(), broker.tail());
    assert.ok(broker.logs.some((l) => l.msg === 'write to the message store failed; will retry'), 'the failed write is logged');

    rmSync(join(mountPoint, 'filler'));
    const deadline = Date.now() + 30_000;
    while (confirmed.size + nacked < total && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    assert.equal(nacked, 0);
    assert.equal(confirmed.size, total, 'every message confirmed once space was back');
    cut(conn);

    await broker.kill('SIGKILL');
    const again = await startBroker(0);
    const c2 = await amqp.connect(again.url);
    const cch = await c2.createChannel();
    const seenIds = new Set<number>();
    let bad = 0;
    await cch.prefetch(500);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`only ${seenIds.size} of ${total} came back after the kill`)), 60_000);
      void cch.consume('enospc', (msg) => {
        if (!msg) return;
        const id = checkedId(msg.content);
        if (id === undefined) bad++;
        else seenIds.add(id);
        cch.ack(msg);
        if (seenIds.size === total) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    assert.equal(bad, 0);
    await c2.close();
    await again.kill('SIGTERM');
  });
});
