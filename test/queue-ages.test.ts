// Per-queue waiting times and redeliveries (Warren's own queue fields and warren_queue_* metrics):
// the age of the oldest ready message (since its publish), of the oldest delivery awaiting its ack
// (since it went out), and how often deliveries came back and went out again — for classic,
// priority, quorum, transient and durable queues, paged or not, across a restart. The ages are
// checked against bounds measured around the publishes and gets, never against fixed sleeps.
// RabbitMQ's own head_message_timestamp is in queue-head-timestamp.test.ts (run against RabbitMQ).
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import amqp from 'amqplib';
import { Broker } from '../src/index.js';
import { apiOk, seg, uniqueName } from './management-support.js';
import { freePort } from './support/free-port.js';
import { find, scrape } from './support/prometheus-text.js';

interface Ages {
  ready: number | null;
  unacked: number | null;
  redelivered: number;
  requeued: number;
  messagesReady: number;
  /** The clock just before the request and just after the answer: bounds for the ages' reference point. */
  asked: number;
  answered: number;
}

/** Waits until `ms` have passed on the clock (the broker's clock is the same). */
async function passes(ms: number): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until) await new Promise((r) => setTimeout(r, Math.max(1, until - Date.now())));
}

describe('queue message ages and redelivery counts', { timeout: 180_000 }, () => {
  let dataDir: string;
  let broker: Broker;
  let url: string;
  let mgmt: string;
  let prom: string;
  let conn: amqp.ChannelModel;

  async function start(): Promise<void> {
    broker = await Broker.start({
      port: 0, host: '127.0.0.1', dataDir, managementPort: await freePort(), prometheusPort: await freePort(), streamPort: 0, logLevel: 'silent',
    });
    url = `amqp://guest:guest@127.0.0.1:${broker.port}/%2F`;
    mgmt = `http://127.0.0.1:${broker.managementPort}`;
    prom = `http://127.0.0.1:${broker.prometheusPort}`;
    conn = await amqp.connect(url);
  }

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'warren-ages-test-'));
    await start();
  });
  after(async () => {
    await conn.close().catch(() => {});
    await broker.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  async function ages(queue: string): Promise<Ages> {
    const asked = Date.now();
    const q = (await apiOk(mgmt, 'GET', `/api/queues/%2F/${seg(queue)}`)).body;
    return {
      asked,
      answered: Date.now(),
      ready: q.oldest_ready_message_age_ms,
      unacked: q.oldest_unacked_delivery_age_ms,
      redelivered: q.redelivered_total,
      requeued: q.requeued_total,
      messagesReady: q.messages_ready,
    };
  }

  /** A new queue of that kind and a channel to use it. */
  async function declared(prefix: string, options: amqp.Options.AssertQueue): Promise<{ q: string; ch: amqp.Channel }> {
    const q = uniqueName(prefix);
    const ch = await conn.createChannel();
    await ch.assertQueue(q, options);
    return { q, ch };
  }

  /** Publish `n` messages with confirms; returns the time before the first and after the last. */
  async function publish(queue: string, n: number, options: amqp.Options.Publish = {}, body = 'x'): Promise<{ from: number; to: number }> {
    const ch = await conn.createConfirmChannel();
    const from = Date.now();
    for (let i = 0; i < n; i++) ch.sendToQueue(queue, Buffer.from(body), options);
    await ch.waitForConfirms();
    const to = Date.now();
    await ch.close();
    return { from, to };
  }

  test('a ready message ages from its publish; a delivery ages from when it went out; nack, redelivery, ack and purge reset them', async () => {
    const { q, ch } = await declared('ages-classic', { durable: true });
    const empty = await ages(q);
    assert.deepEqual([empty.ready, empty.unacked, empty.redelivered, empty.requeued], [null, null, 0, 0]);

    const pub = await publish(q, 1);
    await passes(300);
    const a1 = await ages(q);
    assert.ok(a1.ready! >= 300 && a1.ready! <= a1.answered - pub.from, `ready age ${a1.ready} after 300 ms`);
    assert.equal(a1.unacked, null);
    await passes(200);
    const a2 = await ages(q);
    assert.ok(a2.ready! >= a1.ready! + 200, `grows: ${a1.ready} then ${a2.ready}`);

    const gotAt = Date.now();
    const m = await ch.get(q, { noAck: false });
    assert.ok(m);
    await passes(250);
    const out = await ages(q);
    assert.equal(out.ready, null, 'nothing ready while it is out');
    assert.ok(out.unacked! >= 250 && out.unacked! <= out.answered - gotAt, `unacked age ${out.unacked} counts from the get, not the publish`);
    assert.ok(out.unacked! < out.asked - pub.to, 'younger than the message');

    ch.nack(m, false, true);
    await ch.checkQueue(q); // a round trip: the nack has been handled
    const back = await ages(q);
    assert.equal(back.unacked, null, 'requeued: not outstanding any more');
    assert.ok(back.ready! >= back.asked - pub.to, `a requeued message keeps its publish time: ${back.ready}`);
    assert.deepEqual([back.requeued, back.redelivered], [1, 0]);

    const again = await ch.get(q, { noAck: false });
    assert.ok(again && again.fields.redelivered);
    const redelivered = await ages(q);
    assert.deepEqual([redelivered.requeued, redelivered.redelivered], [1, 1]);
    assert.ok(redelivered.unacked !== null && redelivered.unacked < 1000, 'the second delivery ages from its own start');
    ch.ack(again);
    await ch.checkQueue(q);
    const acked = await ages(q);
    assert.deepEqual([acked.ready, acked.unacked], [null, null]);

    await publish(q, 3);
    assert.notEqual((await ages(q)).ready, null);
    await ch.purgeQueue(q);
    assert.equal((await ages(q)).ready, null, 'purged');
    await ch.deleteQueue(q);
    await ch.close();
  });

  test('the oldest outstanding delivery is found across channels and consumers, whatever order acks come in', async () => {
    const q = uniqueName('ages-channels');
    const a = await conn.createChannel();
    const b = await conn.createChannel();
    await a.assertQueue(q, { durable: false });
    await publish(q, 3);
    const firstOut = Date.now();
    const m1 = await a.get(q, { noAck: false });
    await passes(400);
    const secondOut = Date.now();
    const m2 = await b.get(q, { noAck: false });
    const m3 = await b.get(q, { noAck: false });
    assert.ok(m1 && m2 && m3);
    const both = await ages(q);
    assert.ok(both.unacked! >= 400 && both.unacked! <= both.answered - firstOut, `oldest is the first get: ${both.unacked}`);
    b.ack(m3);
    a.ack(m1);
    await b.checkQueue(q); // a round trip after the acks on both channels (a's ack was sent first)
    await a.checkQueue(q);
    const left = await ages(q);
    assert.ok(left.unacked! <= left.answered - secondOut, `now the second get is the oldest: ${left.unacked}`);
    b.ack(m2);
    await b.checkQueue(q);
    assert.equal((await ages(q)).unacked, null);
    await a.deleteQueue(q);
    await a.close();
    await b.close();
  });

  test('a channel closed with unacked deliveries: all requeued, ready again with their publish age, redelivered to the next consumer', async () => {
    const { q, ch: setup } = await declared('ages-close', { durable: true });
    const pub = await publish(q, 5, { persistent: true });
    const c1 = await conn.createChannel();
    await c1.prefetch(5);
    let got = 0;
    await new Promise<void>((resolve) => {
      void c1.consume(q, (m) => {
        if (!m) return;
        if (++got === 5) resolve();
      });
    });
    const out = await ages(q);
    assert.equal(out.ready, null);
    assert.notEqual(out.unacked, null);
    await c1.close();
    const back = await ages(q);
    assert.deepEqual([back.messagesReady, back.requeued, back.redelivered, back.unacked], [5, 5, 0, null]);
    assert.ok(back.ready! >= back.asked - pub.to);

    const c2 = await conn.createChannel();
    const flags: boolean[] = [];
    await new Promise<void>((resolve) => {
      void c2.consume(q, (m) => {
        if (!m) return; // cancelled when the queue is deleted at the end
        flags.push(m.fields.redelivered);
        c2.ack(m);
        if (flags.length === 5) resolve();
      });
    });
    assert.deepEqual(flags, [true, true, true, true, true]);
    await c2.checkQueue(q);
    const done = await ages(q);
    assert.deepEqual([done.requeued, done.redelivered, done.ready, done.unacked], [5, 5, null, null]);
    await setup.deleteQueue(q);
    await setup.close();
    await c2.close();
  });

  test('priority queue: the oldest ready message over every priority level, not only the head', async () => {
    const { q, ch } = await declared('ages-prio', { durable: true, arguments: { 'x-max-priority': 5 } });
    const low = await publish(q, 1, { priority: 1, persistent: true });
    await passes(400);
    await publish(q, 1, { priority: 4, persistent: true });
    const a = await ages(q);
    assert.ok(a.ready! >= a.asked - low.to, `the low-priority message is the oldest: ${a.ready}`);
    const m = await ch.get(q, { noAck: true });
    assert.equal(m && m.properties.priority, 4, 'the high one is delivered first');
    const after = await ages(q);
    assert.ok(after.ready! >= after.asked - low.to, 'still the low one');
    await ch.deleteQueue(q);
    await ch.close();
  });

  test('quorum queue: ages, requeues and redeliveries too', async () => {
    const { q, ch } = await declared('ages-quorum', { durable: true, arguments: { 'x-queue-type': 'quorum' } });
    const pub = await publish(q, 2, { persistent: true });
    const m = await ch.get(q, { noAck: false });
    assert.ok(m);
    const a = await ages(q);
    assert.ok(a.ready! >= a.asked - pub.to && a.unacked !== null);
    ch.reject(m, true);
    // A quorum queue puts a rejected message behind the others (RabbitMQ 3.10): the second one comes first.
    const other = await ch.get(q, { noAck: true });
    assert.ok(other && !other.fields.redelivered);
    const again = await ch.get(q, { noAck: false });
    assert.ok(again && again.fields.redelivered);
    assert.equal(again.properties.headers?.['x-delivery-count'], 1);
    const b = await ages(q);
    assert.deepEqual([b.requeued, b.redelivered], [1, 1]);
    ch.ack(again);
    await ch.deleteQueue(q);
    await ch.close();
  });

  for (const durable of [false, true]) {
    test(`${durable ? 'durable' : 'transient'} queue paged to disk: the head read back from the segments has the right age`, async () => {
      const { q, ch } = await declared(durable ? 'ages-paged-durable' : 'ages-paged-transient', { durable });
      // More than one memory window (2,048 messages) in each batch, so the second batch is paged out.
      const first = await publish(q, 2500, { persistent: durable });
      await passes(600);
      const second = await publish(q, 2500, { persistent: durable });
      const a = await ages(q);
      assert.ok(a.ready! >= a.asked - first.to, `first batch's age: ${a.ready}`);
      // Where the messages are: the middle only on disk (RabbitMQ's paged-out figures), the rest in memory.
      const paged = (await apiOk(mgmt, 'GET', `/api/queues/%2F/${seg(q)}`)).body;
      assert.ok(paged.messages_paged_out > 0, 'some are only on disk');
      assert.equal(paged.messages_ready_ram + paged.messages_paged_out, 5000);
      assert.equal(paged.message_bytes_paged_out, paged.messages_paged_out, 'one-byte bodies');
      assert.equal(paged.message_bytes_ram, paged.messages_ready_ram);
      // Per queue in the detailed view (/metrics/per-object leaves these out to stay fast at 100k queues).
      const queueMetrics = `${prom}/metrics/detailed?family=queue_metrics`;
      const perObject = await scrape(queueMetrics);
      const sample = (name: string) => find(perObject, name, { vhost: '/', queue: q })[0]?.value;
      assert.equal(sample('rabbitmq_detailed_queue_messages_paged_out'), paged.messages_paged_out);
      assert.equal(sample('rabbitmq_detailed_queue_messages_ready_ram'), paged.messages_ready_ram);
      assert.ok(sample('rabbitmq_detailed_queue_disk_writes_total')! >= (durable ? 5000 : paged.messages_paged_out), 'written to the segments');
      assert.equal(sample('rabbitmq_detailed_queue_disk_reads_total'), 0, 'nothing read back yet');
      for (let i = 0; i < 2500; i++) assert.ok(await ch.get(q, { noAck: true }));
      const reads = find(await scrape(queueMetrics), 'rabbitmq_detailed_queue_disk_reads_total', { vhost: '/', queue: q })[0]!.value;
      assert.ok(reads > 0, 'the middle was read back');
      const b = await ages(q);
      assert.equal(b.messagesReady, 2500);
      assert.ok(b.ready! <= b.answered - second.from && b.ready! >= b.asked - second.to, `second batch's age: ${b.ready}`);
      await ch.deleteQueue(q);
      await ch.close();
    });
  }

  test('durable queue across a restart: ready ages keep counting from the publish, unacked ones come back ready and are counted as redelivered', async () => {
    const { q, ch } = await declared('ages-restart', { durable: true });
    const pub = await publish(q, 3, { persistent: true, timestamp: 1_700_000_000 });
    const held = await ch.get(q, { noAck: false });
    assert.ok(held);
    await conn.close();
    await broker.close();
    await start();
    const a = await ages(q);
    assert.equal(a.messagesReady, 3);
    assert.equal(a.unacked, null);
    assert.ok(a.ready! >= a.asked - pub.to, `age survives the restart: ${a.ready}`);
    assert.equal((await apiOk(mgmt, 'GET', `/api/queues/%2F/${seg(q)}`)).body.head_message_timestamp, 1_700_000_000);
    const ch2 = await conn.createChannel();
    const m = await ch2.get(q, { noAck: true });
    assert.ok(m && m.fields.redelivered);
    const b = await ages(q);
    assert.deepEqual([b.redelivered, b.messagesReady], [1, 2]);
    assert.ok(b.ready! >= b.asked - pub.to);
    await ch2.deleteQueue(q);
    await ch2.close();
  });

  test('Prometheus: warren_detailed_queue_* per queue, the largest age on /metrics, none on /metrics/per-object', async () => {
    const { q, ch } = await declared('ages-prom', { durable: false });
    const pub = await publish(q, 2);
    const m = await ch.get(q, { noAck: false });
    assert.ok(m);
    ch.nack(m, false, true);
    const again = await ch.get(q, { noAck: false });
    assert.ok(again);
    await passes(300);
    const labels = { vhost: '/', queue: q };

    const per = await scrape(`${prom}/metrics/detailed?family=warren_queue_metrics&vhost=%2F`);
    assert.equal(per.types.get('warren_detailed_queue_oldest_ready_message_age_seconds'), 'gauge');
    assert.equal(per.types.get('warren_detailed_queue_messages_redelivered_total'), 'counter');
    const ready = find(per, 'warren_detailed_queue_oldest_ready_message_age_seconds', labels)[0]!.value;
    assert.ok(ready >= 0.3 && ready <= (Date.now() - pub.from) / 1000, `ready ${ready} s`);
    const unacked = find(per, 'warren_detailed_queue_oldest_unacked_delivery_age_seconds', labels)[0]!.value;
    assert.ok(unacked >= 0.3 && unacked <= ready, `unacked ${unacked} s`);
    assert.equal(find(per, 'warren_detailed_queue_messages_redelivered_total', labels)[0]!.value, 1);
    assert.equal(find(per, 'warren_detailed_queue_messages_requeued_total', labels)[0]!.value, 1);
    assert.ok(per.help.get('warren_detailed_queue_oldest_unacked_delivery_age_seconds'));
    assert.equal(find(per, 'rabbitmq_detailed_queue_messages_ready').length, 0, 'only the family asked for');
    const plain = await scrape(`${prom}/metrics/per-object`);
    assert.equal(plain.types.get('warren_queue_oldest_ready_message_age_seconds'), undefined, 'not on /metrics/per-object');

    const agg = await scrape(`${prom}/metrics`);
    const max = find(agg, 'warren_queue_oldest_ready_message_age_seconds');
    assert.equal(max.length, 1);
    assert.deepEqual(max[0]!.labels, {});
    assert.ok(max[0]!.value >= ready, 'the largest over all queues');


    ch.ack(again);
    await ch.checkQueue(q);
    const acked = await scrape(`${prom}/metrics/detailed?family=warren_queue_metrics`);
    assert.equal(find(acked, 'warren_detailed_queue_oldest_unacked_delivery_age_seconds', labels)[0]!.value, 0, '0 when none is out');
    await ch.deleteQueue(q);
    await ch.close();
  });
});
