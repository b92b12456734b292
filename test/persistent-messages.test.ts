/**
 * What a restart keeps, counted and kept as RabbitMQ 3.10 does: a queue's messages_persistent and
 * message_bytes_persistent (management API, rabbitmqctl's columns, rabbitmq_detailed_queue_messages_persistent*)
 * count the persistent messages of a durable queue, ready or unacked, and every message of a quorum
 * queue, whose transient messages also survive a restart. The counting test runs against the reference
 * RabbitMQ too (WARREN_TEST_REFERENCE, with its 5 s statistics interval, hence the polling).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import amqp from 'amqplib';
import { Broker } from '../src/index.js';
import { api, apiOk, connect, runWarrenctl, seg, startTarget, uniqueName, type Target } from './management-support.js';
import { freePort } from './support/free-port.js';
import { eventually } from './support/eventually.js';
import { find, scrape } from './support/prometheus-text.js';

let target: Target;
const V = uniqueName('persistent-vhost');

before(async () => {
  target = await startTarget({ prometheus: process.env['WARREN_TEST_PROMETHEUS_URL'] !== undefined || !process.env['WARREN_TEST_REFERENCE'] });
  await apiOk(target, 'PUT', `/api/vhosts/${seg(V)}`, {});
  await apiOk(target, 'PUT', `/api/permissions/${seg(V)}/guest`, { configure: '.*', write: '.*', read: '.*' });
});

after(async () => {
  await api(target, 'DELETE', `/api/vhosts/${seg(V)}`);
  await target.close();
});

interface Counts { messages_persistent: number; message_bytes_persistent: number }

async function persistentCounts(queue: string): Promise<Counts & { messages: number }> {
  const q = (await apiOk(target, 'GET', `/api/queues/${seg(V)}/${seg(queue)}`)).body;
  return { messages: q.messages, messages_persistent: q.messages_persistent, message_bytes_persistent: q.message_bytes_persistent };
}

test('messages_persistent counts persistent messages of durable queues (ready and unacked), none of transient queues, all of quorum queues', async () => {
  const conn = await connect(target.amqpUrl('guest', 'guest', V));
  try {
    const ch = await conn.createConfirmChannel();
    const durable = uniqueName('durable');
    const transient = uniqueName('transient');
    const quorum = uniqueName('quorum');
    const priority = uniqueName('priority');
    await ch.assertQueue(durable, { durable: true });
    await ch.assertQueue(transient, { durable: false });
    await ch.assertQueue(quorum, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
    await ch.assertQueue(priority, { durable: true, arguments: { 'x-max-priority': 5 } });
    for (let i = 0; i < 3; i++) ch.sendToQueue(durable, Buffer.alloc(10 + i), { persistent: true });
    for (let i = 0; i < 2; i++) ch.sendToQueue(durable, Buffer.alloc(100), { persistent: false });
    for (let i = 0; i < 3; i++) ch.sendToQueue(transient, Buffer.alloc(10), { persistent: true });
    for (let i = 0; i < 3; i++) ch.sendToQueue(quorum, Buffer.alloc(10), { persistent: true });
    ch.sendToQueue(quorum, Buffer.alloc(7), { persistent: false });
    for (let i = 0; i < 3; i++) ch.sendToQueue(priority, Buffer.alloc(10), { persistent: true, priority: i });
    ch.sendToQueue(priority, Buffer.alloc(7), { persistent: false, priority: 4 });
    await ch.waitForConfirms();

    // The durable queue's first (persistent, 10 bytes) message out with a consumer, unacked: still counted.
    const getter = await conn.createChannel();
    const held = await getter.get(durable, { noAck: false });
    assert.ok(held && held.content.length === 10);

    await eventually(async () => {
      assert.deepEqual(await persistentCounts(durable), { messages: 5, messages_persistent: 3, message_bytes_persistent: 33 });
      assert.deepEqual(await persistentCounts(transient), { messages: 3, messages_persistent: 0, message_bytes_persistent: 0 });
      assert.deepEqual(await persistentCounts(quorum), { messages: 4, messages_persistent: 4, message_bytes_persistent: 37 });
      assert.deepEqual(await persistentCounts(priority), { messages: 4, messages_persistent: 3, message_bytes_persistent: 30 });
    });

    if (!target.isReference) {
      const u = new URL(target.managementUrl);
      u.username = 'guest';
      u.password = 'guest';
      const ctl = await runWarrenctl(u.toString(), ['list_queues', '-p', V, '--quiet', 'name', 'messages_persistent', 'message_bytes_persistent']);
      assert.equal(ctl.code, 0, ctl.stderr);
      assert.match(ctl.stdout, new RegExp(`^${durable}\\s+3\\s+33$`, 'm'));
      assert.match(ctl.stdout, new RegExp(`^${quorum}\\s+4\\s+37$`, 'm'));
    }

    if (target.prometheusUrl) {
      const detailed = await scrape(`${target.prometheusUrl}/metrics/detailed?family=queue_metrics&vhost=${seg(V)}`);
      const sample = (name: string, queue: string) => find(detailed, name, { vhost: V, queue })[0]?.value;
      assert.equal(sample('rabbitmq_detailed_queue_messages_persistent', durable), 3);
      assert.equal(sample('rabbitmq_detailed_queue_messages_persistent_bytes', durable), 33);
      assert.equal(sample('rabbitmq_detailed_queue_messages_persistent', quorum), 4);
      assert.equal(sample('rabbitmq_detailed_queue_messages_persistent', transient), 0);
    }

    // A purge leaves the unacked one; its ack, then a delivery without ack, take the rest.
    await ch.purgeQueue(durable);
    await eventually(async () => {
      assert.deepEqual(await persistentCounts(durable), { messages: 1, messages_persistent: 1, message_bytes_persistent: 10 });
    });
    getter.ack(held);
    assert.ok(await getter.get(quorum, { noAck: true }));
    await getter.close();
    await eventually(async () => {
      assert.deepEqual(await persistentCounts(durable), { messages: 0, messages_persistent: 0, message_bytes_persistent: 0 });
      assert.deepEqual(await persistentCounts(quorum), { messages: 3, messages_persistent: 3, message_bytes_persistent: 27 });
    });
  } finally {
    await conn.close();
  }
});

test('a quorum queue keeps its transient messages across a restart (a classic durable queue drops them), and they keep their delivery mode', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'warren-persistent-test-'));
  const start = async () => Broker.start({ port: 0, host: '127.0.0.1', dataDir, managementPort: await freePort(), prometheusPort: 0, logLevel: 'error' });
  let broker = await start();
  try {
    let conn = await amqp.connect(`amqp://guest:guest@127.0.0.1:${broker.port}`);
    let ch = await conn.createConfirmChannel();
    await ch.assertQueue('qq', { durable: true, arguments: { 'x-queue-type': 'quorum' } });
    await ch.assertQueue('cq', { durable: true });
    for (const q of ['qq', 'cq']) {
      ch.sendToQueue(q, Buffer.from('transient'), { persistent: false });
      ch.sendToQueue(q, Buffer.from('persistent'), { persistent: true });
    }
    await ch.waitForConfirms();
    await conn.close();
    await broker.close();

    broker = await start();
    conn = await amqp.connect(`amqp://guest:guest@127.0.0.1:${broker.port}`);
    ch = await conn.createConfirmChannel();
    assert.equal((await ch.checkQueue('qq')).messageCount, 2);
    assert.equal((await ch.checkQueue('cq')).messageCount, 1);
    const counts = async (q: string) => (await apiOk(`http://127.0.0.1:${broker.managementPort}`, 'GET', `/api/queues/%2F/${q}`)).body;
    assert.equal((await counts('qq')).messages_persistent, 2);
    assert.equal((await counts('qq')).message_bytes_persistent, 19);
    assert.equal((await counts('cq')).messages_persistent, 1);

    const first = await ch.get('qq', { noAck: false });
    assert.ok(first);
    assert.equal(first.content.toString(), 'transient');
    assert.equal(first.properties.deliveryMode, 1);
    ch.ack(first);
    // Acked after the restart: gone for good, also from the next restart. (A method on the same
    // channel makes sure the broker had the ack: amqplib may send the connection's close before it.)
    assert.equal((await ch.checkQueue('qq')).messageCount, 1);
    // Rejected with requeue: stored again at the back (a new record), the old one let go: still one after a restart.
    const second = await ch.get('qq', { noAck: false });
    assert.ok(second);
    ch.reject(second, true);
    assert.equal((await ch.checkQueue('qq')).messageCount, 1);
    await conn.close();
    await broker.close();

    broker = await start();
    conn = await amqp.connect(`amqp://guest:guest@127.0.0.1:${broker.port}`);
    ch = await conn.createConfirmChannel();
    const left = await ch.get('qq', { noAck: true });
    assert.ok(left);
    assert.equal(left.content.toString(), 'persistent');
    assert.equal(await ch.get('qq', { noAck: true }), false);
    await conn.close();
  } finally {
    await broker.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
});
