/**
 * Floods beyond the memory high watermark (the broker process, started with
 * --memory-high-watermark = its idle RSS + 150 MB):
 * - a durable queue, persistent 1 KiB messages, more bytes than the limit, no consumer: the broker
 *   must survive, and either page the data to disk (its RSS stays below the data it holds) or block
 *   the publisher; then everything is drained, intact and in order;
 * - a transient queue: messages live in memory, so the publisher must get connection.blocked, and
 *   connection.unblocked once a consumer has drained the queue; nothing is lost.
 * The broker's memory is read from /proc/<pid>/status while the flood runs.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import amqp from 'amqplib';
import type { ChannelModel } from 'amqplib';
import { checkedBody, checkedId } from './support/checked-body.js';
import { residentBytes, spawnWarren, type WarrenChild } from './support/warren-child.js';

const MB = 1024 * 1024;
const HEADROOM = 150 * MB;
const BODY_BYTES = 1024;
/** checkedBody adds 36 bytes of header and digest around the payload. */
const PAYLOAD_BYTES = BODY_BYTES - 36;
const IN_FLIGHT = 2000;
/** How long an unblock may take once the queue is empty (the alarm is re-checked every second). */
const UNBLOCK_WAIT_MS = 20_000;

const dirs: string[] = [];
const brokers: WarrenChild[] = [];
let watermark = 0;

async function startBroker(): Promise<WarrenChild> {
  const dataDir = mkdtempSync(join(tmpdir(), 'warren-memory-'));
  dirs.push(dataDir);
  const broker = await spawnWarren({ dataDir, args: ['--memory-high-watermark', String(watermark), '--heartbeat', '0'] });
  brokers.push(broker);
  return broker;
}

/** Samples the broker's RSS every 100 ms until stopped; returns the peak. */
function watchMemory(pid: number): { stop(): number } {
  let peak = residentBytes(pid) ?? 0;
  const timer = setInterval(() => (peak = Math.max(peak, residentBytes(pid) ?? 0)), 100);
  return {
    stop() {
      clearInterval(timer);
      return Math.max(peak, residentBytes(pid) ?? 0);
    },
  };
}

/** Tracks connection.blocked / connection.unblocked as amqplib reports them. */
function blockWatch(conn: ChannelModel): { blocked: boolean; everBlocked: boolean; unblocked: Promise<void> } {
  const state = { blocked: false, everBlocked: false, unblocked: Promise.resolve() };
  let release = (): void => {};
  conn.on('blocked', () => {
    state.blocked = true;
    state.everBlocked = true;
    state.unblocked = new Promise((resolve) => (release = resolve));
  });
  conn.on('unblocked', () => {
    state.blocked = false;
    release();
  });
  return state;
}

const mib = (bytes: number): string => `${(bytes / MB).toFixed(0)} MiB`;

describe('memory high watermark', { timeout: 120_000 }, () => {
  before(async () => {
    // The limit is set relative to what an idle broker uses on this machine.
    const probe = await startBroker();
    const idle = residentBytes(probe.pid);
    assert.ok(idle, 'cannot read the broker RSS from /proc');
    await probe.kill('SIGTERM');
    watermark = idle + HEADROOM;
  });

  after(async () => {
    for (const broker of brokers) await broker.kill('SIGTERM');
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  test('a durable queue holds more persistent data than the limit, and drains it all', async () => {
    const broker = await startBroker();
    const conn = await amqp.connect(broker.url);
    const blocking = blockWatch(conn);
    const ch = await conn.createConfirmChannel();
    await ch.assertQueue('flood-durable', { durable: true });

    const target = Math.ceil((watermark * 1.25) / BODY_BYTES);
    const memory = watchMemory(broker.pid);
    let published = 0;
    let confirmed = 0;
    let inFlight = 0;
    let wake: (() => void) | undefined;
    const settled = (err: unknown): void => {
      inFlight--;
      if (!err) confirmed++;
      const w = wake;
      wake = undefined;
      w?.();
    };
    // Publishing stops at the target, or when the broker blocks us (the other acceptable outcome).
    while (published < target && !blocking.everBlocked) {
      if (inFlight >= IN_FLIGHT) {
        await new Promise<void>((resolve) => (wake = resolve));
        continue;
      }
      inFlight++;
      published++;
      ch.publish('', 'flood-durable', checkedBody(published, PAYLOAD_BYTES), { persistent: true }, settled);
      if (published % 500 === 0) await new Promise<void>((resolve) => setImmediate(resolve));
    }
    if (!blocking.everBlocked) await ch.waitForConfirms();
    const peak = memory.stop();
    assert.ok(broker.alive(), `the broker died during the flood:\n${broker.tail()}`);
    const dataBytes = published * BODY_BYTES;
    process.stderr.write(
      `durable flood: ${published} x 1 KiB (${mib(dataBytes)}) against a ${mib(watermark)} watermark; ` +
        `broker peak RSS ${mib(peak)}; blocked: ${blocking.everBlocked}\n`,
    );
    if (!blocking.everBlocked) {
      assert.equal(confirmed, published, 'every message confirmed');
      assert.ok(dataBytes > watermark, 'the flood holds more data than the memory limit');
      assert.ok(peak < dataBytes, `peak RSS ${mib(peak)} with ${mib(dataBytes)} queued: the bodies were not paged out`);
    }

    // Drain on another connection (a consumer-only connection is never blocked).
    const consumerConn = await amqp.connect(broker.url);
    const consumer = await consumerConn.createChannel();
    await consumer.prefetch(IN_FLIGHT);
    let received = 0;
    let bad = '';
    let allIn: () => void = () => {};
    const done = new Promise<void>((resolve) => (allIn = resolve));
    await consumer.consume('flood-durable', (message) => {
      if (!message) return;
      received++;
      const id = checkedId(message.content);
      if (id !== received && !bad) bad = `delivery ${received} carried ${id === undefined ? 'a corrupt body' : `id ${id}`}`;
      consumer.ack(message);
      if (received === published) allIn();
    });
    if (blocking.everBlocked) await blocking.unblocked;
    await done;
    assert.equal(bad, '');
    await ch.waitForConfirms();
    assert.equal(confirmed, published);
    assert.equal((await consumer.checkQueue('flood-durable')).messageCount, 0);
    await consumerConn.close();
    await conn.close();
    assert.ok(broker.alive());
  });

  test('a transient flood blocks the publisher until a consumer drains it', async () => {
    const broker = await startBroker();
    const conn = await amqp.connect(broker.url);
    const blocking = blockWatch(conn);
    const ch = await conn.createConfirmChannel();
    await ch.assertQueue('flood-transient', { durable: false });

    const cap = Math.ceil((watermark * 3) / BODY_BYTES);
    const memory = watchMemory(broker.pid);
    let published = 0;
    while (!blocking.everBlocked && published < cap) {
      published++;
      ch.publish('', 'flood-transient', checkedBody(published, PAYLOAD_BYTES), { persistent: false });
      // Confirms are not waited for: a blocked broker stops reading, and the flood must reach it.
      if (published % 500 === 0) await new Promise<void>((resolve) => setImmediate(resolve));
    }
    const peak = memory.stop();
    process.stderr.write(
      `transient flood: blocked after ${published} x 1 KiB (${mib(published * BODY_BYTES)}); ` +
        `watermark ${mib(watermark)}, broker peak RSS ${mib(peak)}\n`,
    );
    assert.ok(blocking.everBlocked, `no connection.blocked after ${mib(published * BODY_BYTES)} of transient messages`);
    assert.ok(broker.alive(), `the broker died during the flood:\n${broker.tail()}`);

    const consumerConn = await amqp.connect(broker.url);
    const consumer = await consumerConn.createChannel();
    await consumer.prefetch(IN_FLIGHT);
    let received = 0;
    let bad = '';
    let allIn: () => void = () => {};
    const done = new Promise<void>((resolve) => (allIn = resolve));
    await consumer.consume('flood-transient', (message) => {
      if (!message) return;
      received++;
      const id = checkedId(message.content);
      if (id !== received && !bad) bad = `delivery ${received} carried ${id === undefined ? 'a corrupt body' : `id ${id}`}`;
      consumer.ack(message);
      if (received === published) allIn();
    });

    // The publisher must be unblocked once the queue has been drained (the publishes still
    // sitting in the socket are then read, so the count reaches the total only after it).
    let timer: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([
      Promise.all([blocking.unblocked, done]).then(() => 'drained and unblocked'),
      new Promise<string>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), UNBLOCK_WAIT_MS);
      }),
    ]);
    clearTimeout(timer);
    const rss = residentBytes(broker.pid) ?? 0;
    assert.equal(
      outcome,
      'drained and unblocked',
      `${UNBLOCK_WAIT_MS / 1000} s after draining: ${received} of ${published} received, still blocked: ${blocking.blocked}, ` +
        `broker RSS ${mib(rss)} vs watermark ${mib(watermark)}`,
    );
    assert.equal(bad, '');
    await ch.waitForConfirms();
    // Publishing works again.
    ch.publish('', 'flood-transient', checkedBody(published + 1, PAYLOAD_BYTES));
    await ch.waitForConfirms();
    assert.ok(broker.alive());
    await consumerConn.close();
    await conn.close();
  });
});
