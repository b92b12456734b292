/**
 * Priority queues (x-max-priority) with RabbitMQ 3.10's semantics, checked on the reference
 * (WARREN_TEST_AMQP_URL runs the same bodies against RabbitMQ; the restart and crash cases are
 * Warren-only): argument validation texts, higher priority first and FIFO within a priority,
 * priorities above the maximum count as the maximum, prefetch, requeue to the original position,
 * max-length and dead-lettering, and durable order across a clean restart and a kill -9.
 */
import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import amqp from 'amqplib';
import { startTestBroker, uniq, type TestBroker } from './support/test-broker.js';
import { channel, closeAllClients, connect, type Channel } from './support/amqp-client.js';
import { spawnWarren } from './support/warren-child.js';

/** Publishes [body, priority] pairs on a confirm channel and waits for the confirms. */
async function publishAll(url: string, queue: string, items: [string, number | undefined][], persistent = false): Promise<void> {
  const conn = await amqp.connect(url);
  const ch = await conn.createConfirmChannel();
  for (const [body, priority] of items) {
    ch.sendToQueue(queue, Buffer.from(body), { persistent, ...(priority === undefined ? {} : { priority }) });
  }
  await ch.waitForConfirms();
  await conn.close();
}

/** basic.get until empty; returns the bodies (acked). */
async function drain(ch: Channel, queue: string): Promise<string[]> {
  const out: string[] = [];
  for (;;) {
    const m = await ch.get(queue, { noAck: true });
    if (!m) return out;
    out.push(m.content.toString());
  }
}

describe('priority queues', () => {
  let b: TestBroker;
  before(async () => {
    b = await startTestBroker();
  });
  afterEach(async () => closeAllClients());
  after(async () => b.close());

  const declare = async (args: Record<string, unknown>, name = uniq('prio')) => {
    const ch = await channel(await connect(b.url));
    await ch.assertQueue(name, { durable: false, autoDelete: false, exclusive: false, arguments: args });
    return { ch, q: name };
  };

  test('x-max-priority is validated with RabbitMQ\'s texts', async () => {
    const refused = async (v: unknown) => {
      const ch = await channel(await connect(b.url));
      const name = uniq('badprio');
      try {
        await ch.assertQueue(name, { durable: false, exclusive: true, arguments: { 'x-max-priority': v } });
        return 'accepted';
      } catch (e) {
        return (e as Error).message.replace(name, 'Q');
      }
    };
    assert.match(await refused(256), /406 \(PRECONDITION-FAILED\) with message "PRECONDITION_FAILED - invalid arg 'x-max-priority' for queue 'Q' in vhost '\/': \{max_value_exceeded,256\}"/);
    assert.match(await refused(-1), /invalid arg 'x-max-priority' for queue 'Q' in vhost '\/': \{value_negative,-1\}"/);
    assert.match(await refused('a'), /invalid arg 'x-max-priority' for queue 'Q' in vhost '\/': "expected integer, got longstr""/);
    assert.equal(await refused(255), 'accepted');
    assert.equal(await refused(0), 'accepted');
  });

  test('higher priority first, FIFO within a priority; none = 0, above the maximum = the maximum', async () => {
    const { ch, q } = await declare({ 'x-max-priority': 5 });
    await publishAll(b.url, q, [['a0', undefined], ['b3', 3], ['c9', 9], ['d5', 5], ['e3', 3], ['f0', 0], ['g1', 1], ['h5', 5]]);
    // 9 counts as 5: FIFO among the 5s.
    assert.deepEqual(await drain(ch, q), ['c9', 'd5', 'h5', 'b3', 'e3', 'g1', 'a0', 'f0']);
  });

  test('consumers with prefetch get the highest priority available; nack with requeue returns to the original position', async () => {
    const { ch, q } = await declare({ 'x-max-priority': 10 });
    await publishAll(b.url, q, [['l1', 1], ['l2', 1], ['h1', 8], ['h2', 8], ['m1', 4]]);
    await ch.prefetch(2);
    const got: amqp.ConsumeMessage[] = [];
    let wake: () => void = () => {};
    await ch.consume(q, (m) => {
      if (m) got.push(m);
      wake();
    });
    const waitFor = async (n: number) => {
      while (got.length < n) await new Promise<void>((r) => (wake = r));
    };
    await waitFor(2);
    assert.deepEqual(got.map((m) => m.content.toString()), ['h1', 'h2']);
    // Requeue h1: it goes back ahead of everything else and is delivered again, redelivered.
    ch.nack(got[0]!, false, true);
    await waitFor(3);
    assert.equal(got[2]!.content.toString(), 'h1');
    assert.equal(got[2]!.fields.redelivered, true);
    ch.ack(got[1]!);
    ch.ack(got[2]!);
    await waitFor(5);
    ch.ack(got[3]!);
    ch.ack(got[4]!);
    await waitFor(6);
    assert.deepEqual(got.map((m) => m.content.toString()), ['h1', 'h2', 'h1', 'm1', 'l1', 'l2']);
  });

  test('max-length drops and dead-letters; higher priorities still first', async () => {
    const dlq = uniq('prio-dlq');
    const { ch, q } = await declare({ 'x-max-priority': 3, 'x-max-length': 3, 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': dlq });
    await ch.assertQueue(dlq, { durable: false });
    await publishAll(b.url, q, [['a', 1], ['b', 2], ['c', 3], ['d', 1]]);
    const kept = await drain(ch, q);
    const dropped = await drain(ch, dlq);
    assert.equal(kept.length, 3);
    assert.equal(dropped.length, 1);
    assert.deepEqual([...kept, ...dropped].sort(), ['a', 'b', 'c', 'd']);
    await ch.deleteQueue(q);
    await ch.deleteQueue(dlq);
  });

  test('per-message TTL works on a priority queue', async () => {
    const { ch, q } = await declare({ 'x-max-priority': 2 });
    const conn = await amqp.connect(b.url);
    const pub = await conn.createConfirmChannel();
    pub.sendToQueue(q, Buffer.from('short'), { priority: 2, expiration: '20' });
    pub.sendToQueue(q, Buffer.from('long'), { priority: 1 });
    await pub.waitForConfirms();
    await conn.close();
    await new Promise((r) => setTimeout(r, 60));
    assert.deepEqual(await drain(ch, q), ['long']);
    await ch.deleteQueue(q);
  });
});

describe('durable priority queues keep their order', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'warren-prio-'));
  after(() => rmSync(dataDir, { recursive: true, force: true }));

  const items: [string, number | undefined][] = [];
  for (let i = 0; i < 60; i++) items.push([`m${i}`, i % 7 === 0 ? undefined : i % 4]);
  /** The expected order: priority 3 down to 0, publish order inside each. */
  const expected = (all: [string, number | undefined][]) =>
    [3, 2, 1, 0].flatMap((p) => all.filter(([, prio]) => (prio ?? 0) === p).map(([body]) => body));

  test('across a clean restart and a kill -9, with unacked deliveries coming back redelivered', async () => {
    let w = await spawnWarren({ dataDir });
    try {
      const conn = await amqp.connect(w.url);
      const ch = await conn.createChannel();
      await ch.assertQueue('pq-durable', { durable: true, arguments: { 'x-max-priority': 3 } });
      await conn.close();
      await publishAll(w.url, 'pq-durable', items, true);
      await w.kill('SIGTERM');
      w = await spawnWarren({ dataDir });
      // Take the first two (unacked) and crash.
      const c2 = await amqp.connect(w.url);
      c2.on('error', () => {}); // the broker is killed under it
      const ch2 = await c2.createChannel();
      ch2.on('error', () => {});
      const first = await ch2.get('pq-durable', { noAck: false });
      const second = await ch2.get('pq-durable', { noAck: false });
      assert.ok(first && second);
      const order = expected(items);
      assert.deepEqual([first.content.toString(), second.content.toString()], order.slice(0, 2));
      await w.kill('SIGKILL');
      w = await spawnWarren({ dataDir });
      const c3 = await amqp.connect(w.url);
      const ch3 = await c3.createChannel();
      const bodies: string[] = [];
      const redelivered: string[] = [];
      for (;;) {
        const m = await ch3.get('pq-durable', { noAck: true });
        if (!m) break;
        bodies.push(m.content.toString());
        if (m.fields.redelivered) redelivered.push(m.content.toString());
      }
      assert.deepEqual(bodies, order);
      // The store's delivered mark is conservative ("may have been delivered"): at least these two.
      assert.deepEqual(redelivered.slice(0, 2), order.slice(0, 2));
      await c3.close();
    } finally {
      await w.kill('SIGTERM');
    }
  });
});
