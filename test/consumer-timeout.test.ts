/**
 * consumer_timeout: a delivery left unacknowledged past the timeout (x-consumer-timeout here, the
 * broker's consumerTimeout otherwise) cancels its consumer with basic.cancel and requeues its
 * deliveries, the channel staying usable (RabbitMQ 4.x's behaviour); a client without
 * consumer_cancel_notify gets RabbitMQ 3.10's channel close with 406. Warren-only: RabbitMQ 3.10
 * closes the channel in both cases.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import amqp from 'amqplib';
import { Broker } from '../src/index.js';

describe('consumer timeout', () => {
  let broker: Broker;
  const dataDir = mkdtempSync(join(tmpdir(), 'warren-ctimeout-'));
  let url: string;
  before(async () => {
    broker = await Broker.start({ port: 0, host: '127.0.0.1', dataDir, managementPort: 0, prometheusPort: 0, logLevel: 'silent', consumerTimeout: 400 });
    url = `amqp://guest:guest@127.0.0.1:${broker.port}`;
  });
  after(async () => {
    await broker.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('x-consumer-timeout: the late consumer gets basic.cancel, its deliveries are requeued, the channel stays open', async () => {
    const conn = await amqp.connect(url);
    const ch = await conn.createChannel();
    const q = (await ch.assertQueue('', { exclusive: true, arguments: { 'x-consumer-timeout': 150 } })).queue;
    ch.sendToQueue(q, Buffer.from('a'));
    ch.sendToQueue(q, Buffer.from('b'));
    const got: string[] = [];
    const cancelled = new Promise<void>((resolve) => {
      void ch.consume(q, (m) => {
        if (m === null) resolve(); // amqplib's signal for a broker basic.cancel
        else got.push(m.content.toString());
      });
    });
    const started = Date.now();
    await cancelled;
    assert.ok(Date.now() - started >= 140, 'not before the timeout');
    assert.deepEqual(got, ['a', 'b']);
    // Same channel still works; both messages are back, in order, redelivered.
    const m1 = await ch.get(q, { noAck: true });
    const m2 = await ch.get(q, { noAck: true });
    assert.deepEqual([m1 && m1.content.toString(), m2 && m2.content.toString()], ['a', 'b']);
    assert.equal(m1 && m1.fields.redelivered, true);
    await conn.close();
  });

  test('one channel, two queues: each delivery is held to its own queue\'s x-consumer-timeout', async () => {
    const conn = await amqp.connect(url);
    const ch = await conn.createChannel();
    const slow = (await ch.assertQueue('', { exclusive: true, arguments: { 'x-consumer-timeout': 60_000 } })).queue;
    const fast = (await ch.assertQueue('', { exclusive: true, arguments: { 'x-consumer-timeout': 150 } })).queue;
    let slowCancelled = false;
    let slowDelivered!: () => void;
    const slowGot = new Promise<void>((resolve) => (slowDelivered = resolve));
    await ch.consume(slow, (m) => (m === null ? (slowCancelled = true) : slowDelivered()));
    ch.sendToQueue(slow, Buffer.from('s'));
    await slowGot;
    // The next delivery comes from the other queue: its shorter timeout must apply, not the first one's.
    const fastCancelled = new Promise<void>((resolve) => {
      void ch.consume(fast, (m) => {
        if (m === null) resolve();
      });
    });
    const started = Date.now();
    ch.sendToQueue(fast, Buffer.from('f'));
    await fastCancelled;
    assert.ok(Date.now() - started < 30_000, 'cancelled by its own 150 ms timeout, not the other queue\'s minute');
    assert.equal(slowCancelled, false);
    await conn.close();
  });

  test('a consumer that acks in time is left alone (broker default timeout)', async () => {
    const conn = await amqp.connect(url);
    const ch = await conn.createChannel();
    const q = (await ch.assertQueue('', { exclusive: true })).queue;
    let cancels = 0;
    let n = 0;
    await ch.consume(q, (m) => {
      if (m === null) cancels++;
      else {
        n++;
        ch.ack(m);
      }
    });
    for (let i = 0; i < 5; i++) {
      ch.sendToQueue(q, Buffer.from(String(i)));
      await new Promise((r) => setTimeout(r, 150));
    }
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(n, 5);
    assert.equal(cancels, 0);
    await conn.close();
  });

  test('without consumer_cancel_notify the channel closes with RabbitMQ 3.10\'s 406', async () => {
    // amqplib merges client properties shallowly: this replaces its capabilities table.
    const conn = await amqp.connect(url, { clientProperties: { capabilities: {} } });
    conn.on('error', () => {});
    const ch = await conn.createChannel();
    const closed = new Promise<Error>((resolve) => ch.on('error', resolve));
    const q = (await ch.assertQueue('', { exclusive: true })).queue;
    ch.sendToQueue(q, Buffer.from('x'));
    await ch.consume(q, () => {});
    const e = await closed;
    assert.match(e.message, /406 \(PRECONDITION-FAILED\) with message "PRECONDITION_FAILED - delivery acknowledgement on channel 1 timed out\. Timeout value used: 400 ms\. This timeout value can be configured, see consumers doc guide to learn more"/);
    await conn.close().catch(() => {});
  });
});
