/**
 * Floods beyond the memory high watermark (the broker process, started with
 * --memory-high-watermark = its idle RSS + 150 MB):
 * - a durable queue, persistent 1 KiB messages, more bytes than the limit, no consumer: the broker
 *   must survive, and either page the data to disk (its RSS stays below the data it holds) or block
 *   the publisher; then everything is drained, intact and in order;
 * - a transient queue: paged beyond its window like a durable one (issue 15), so the same flood
 *   neither blocks the publisher nor grows RSS to the data held; everything is drained, in order;
 * - the alarm itself still works: under a watermark below what any broker holds, a publisher is
 *   blocked with 'low on memory'.
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

describe('memory high watermark', { timeout: 240_000 }, () => {
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

  test('a transient flood pages like a durable one: no block, RSS below the data held, drained intact and in order', async () => {
    const broker = await startBroker();
    const conn = await amqp.connect(broker.url);
    const blocking = blockWatch(conn);
    const ch = await conn.createConfirmChannel();
    await ch.assertQueue('flood-transient', { durable: false });

    const target = Math.ceil((watermark * 1.25) / BODY_BYTES);
    const memory = watchMemory(broker.pid);
    let published = 0;
    while (published < target && !blocking.everBlocked) {
      published++;
      ch.publish('', 'flood-transient', checkedBody(published, PAYLOAD_BYTES), { persistent: false });
      if (published % 500 === 0) await new Promise<void>((resolve) => setImmediate(resolve));
    }
    await ch.waitForConfirms();
    const peak = memory.stop();
    const dataBytes = published * BODY_BYTES;
    process.stderr.write(
      `transient flood: ${published} x 1 KiB (${mib(dataBytes)}) against a ${mib(watermark)} watermark; ` +
        `broker peak RSS ${mib(peak)}; blocked: ${blocking.everBlocked}\n`,
    );
    assert.ok(broker.alive(), `the broker died during the flood:\n${broker.tail()}`);
    assert.equal(blocking.everBlocked, false, 'a paged transient queue is no memory pressure');
    assert.ok(dataBytes > watermark, 'the flood holds more data than the memory limit');
    assert.ok(peak < dataBytes, `peak RSS ${mib(peak)} with ${mib(dataBytes)} queued: the bodies were not paged out`);

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
    await done;
    assert.equal(bad, '');
    assert.equal((await consumer.checkQueue('flood-transient')).messageCount, 0);
    await consumerConn.close();
    await conn.close();
  });

  test('the memory alarm still blocks publishers under genuine pressure', async () => {
    // A watermark below what any broker holds: the alarm is on from the start.
    const dataDir = mkdtempSync(join(tmpdir(), 'warren-memory-'));
    dirs.push(dataDir);
    const broker = await spawnWarren({ dataDir, args: ['--memory-high-watermark', '1000000', '--heartbeat', '0'] });
    brokers.push(broker);
    const conn = await amqp.connect(broker.url);
    const blocked = new Promise<string>((resolve) => conn.on('blocked', resolve));
    const ch = await conn.createChannel();
    ch.publish('', 'nowhere', Buffer.from('x'));
    assert.equal(await blocked, 'low on memory');
    (conn.connection as unknown as { stream: { destroy(): void } }).stream.destroy();
    conn.on('error', () => {});
  });
});
