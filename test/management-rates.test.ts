/**
 * The management API's message_stats for confirms, basic.get, unroutable returns and no-ack
 * deliveries (overview, vhost, channel, queue), a channel's messages_unconfirmed, and exchanges'
 * publish_in/publish_out. Counts are asserted exactly in a vhost of the test's own; against
 * RabbitMQ (WARREN_TEST_REFERENCE) the figures arrive with its 5 s statistics interval, hence the polling.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { api, apiOk, connect, seg, startTarget, uniqueName, type Target } from './management-support.js';
import { eventually } from './support/eventually.js';

let target: Target;
const V = uniqueName('rates-vhost');

before(async () => {
  target = await startTarget();
  await apiOk(target, 'PUT', `/api/vhosts/${seg(V)}`, {});
  await apiOk(target, 'PUT', `/api/permissions/${seg(V)}/guest`, { configure: '.*', write: '.*', read: '.*' });
});

after(async () => {
  await api(target, 'DELETE', `/api/vhosts/${seg(V)}`);
  await target.close();
});

const EXPECTED = {
  publish: 4,
  confirm: 4,
  return_unroutable: 1,
  drop_unroutable: 0,
  get: 1,
  get_no_ack: 1,
  get_empty: 1,
  deliver: 0,
  deliver_no_ack: 1,
  deliver_get: 3,
  ack: 1,
};

function assertCounts(stats: Record<string, unknown> | undefined, what: string): void {
  assert.ok(stats, `${what} has message_stats`);
  for (const [key, n] of Object.entries(EXPECTED)) {
    assert.equal(stats[key] ?? 0, n, `${what} ${key}`);
    if (n > 0) assert.equal(typeof (stats[`${key}_details`] as { rate?: unknown } | undefined)?.rate, 'number', `${what} ${key}_details.rate`);
  }
}

test('confirms, gets, unroutable returns and no-ack deliveries are counted per channel, vhost and overview; exchanges count publish_in/out', async () => {
  const conn = await connect(target.amqpUrl('guest', 'guest', V));
  try {
    const publisher = await conn.createConfirmChannel();
    const q = uniqueName('rates-q');
    await publisher.assertQueue(q);
    for (let i = 0; i < 3; i++) publisher.sendToQueue(q, Buffer.from(`m${i}`));
    const returned = new Promise((resolve) => publisher.once('return', resolve));
    publisher.publish('amq.direct', uniqueName('nowhere'), Buffer.from('lost'), { mandatory: true });
    await publisher.waitForConfirms();
    await returned;

    const consumer = await conn.createChannel();
    const first = await consumer.get(q);
    assert.ok(first);
    consumer.ack(first);
    assert.ok(await consumer.get(q, { noAck: true }));
    const delivered = new Promise<void>((resolve) => {
      void consumer.consume(q, () => resolve(), { noAck: true, consumerTag: 'rates-consumer' });
    });
    await delivered;
    await consumer.cancel('rates-consumer');
    assert.equal(await consumer.get(q), false);

    await eventually(async () => {
      const v = (await apiOk(target, 'GET', `/api/vhosts/${seg(V)}`)).body;
      assertCounts(v.message_stats, 'vhost');
      const o = (await apiOk(target, 'GET', '/api/overview')).body;
      for (const key of Object.keys(EXPECTED)) assert.ok(o.message_stats[key] >= (EXPECTED as Record<string, number>)[key]!, `overview ${key}`);
      const channels = (await apiOk(target, 'GET', `/api/vhosts/${seg(V)}/channels`)).body as Record<string, any>[];
      const confirming = channels.find((c) => c['confirm'] === true);
      assert.ok(confirming, 'the confirm channel is listed');
      assert.equal(confirming['messages_unconfirmed'], 0);
      assert.equal(confirming['message_stats']['publish'], 4);
      assert.equal(confirming['message_stats']['confirm'], 4);
      assert.equal(confirming['message_stats']['return_unroutable'], 1);
      const getter = channels.find((c) => c['confirm'] === false)!;
      assert.equal(getter['messages_unconfirmed'], 0);
      for (const key of ['get', 'get_no_ack', 'get_empty', 'deliver_no_ack']) assert.equal(getter['message_stats'][key], 1, `channel ${key}`);
      // The queue splits its deliver_get the same way (RabbitMQ's per-queue message_stats).
      const queue = (await apiOk(target, 'GET', `/api/queues/${seg(V)}/${seg(q)}`)).body.message_stats;
      const perQueue = { publish: 3, deliver_get: 3, deliver: 0, deliver_no_ack: 1, get: 1, get_no_ack: 1, get_empty: 1, ack: 1 };
      for (const [key, n] of Object.entries(perQueue)) assert.equal(queue?.[key] ?? 0, n, `queue ${key}`);
      const direct = (await apiOk(target, 'GET', `/api/exchanges/${seg(V)}/amq.direct`)).body;
      assert.equal(direct.message_stats?.publish_in, 1);
      // RabbitMQ leaves out a counter that never moved.
      assert.equal(direct.message_stats?.publish_out ?? 0, 0);
      if (!target.isReference) {
        // The UI's rate charts draw each series from its `_details.samples` (only Warren's history is checked here).
        target.broker!.management!.stats.sample();
        const charted = (await apiOk(target, 'GET', `/api/vhosts/${seg(V)}?msg_rates_age=60&msg_rates_incr=5`)).body.message_stats;
        for (const key of ['confirm', 'get', 'get_no_ack', 'return_unroutable', 'deliver_no_ack']) {
          assert.ok(Array.isArray(charted[`${key}_details`]?.samples), `${key} samples for the UI chart`);
        }
      }
      const dflt = (await apiOk(target, 'GET', `/api/exchanges/${seg(V)}/amq.default`)).body;
      assert.equal(dflt.message_stats?.publish_in, 3);
      assert.equal(dflt.message_stats?.publish_out, 3);
    }, 20_000, 250);
  } finally {
    await conn.close();
  }

  // The channels are gone; their counts stay in the vhost's totals and the exchanges' stats.
  await eventually(async () => {
    assert.equal(((await apiOk(target, 'GET', `/api/vhosts/${seg(V)}/channels`)).body as unknown[]).length, 0);
    assertCounts((await apiOk(target, 'GET', `/api/vhosts/${seg(V)}`)).body.message_stats, 'vhost after close');
    const listed = (await apiOk(target, 'GET', `/api/exchanges/${seg(V)}`)).body as Record<string, any>[];
    assert.equal(listed.find((x) => x['name'] === '')?.['message_stats']?.['publish_in'], 3);
  }, 20_000, 250);
});

test('a channel in confirm mode reports messages_unconfirmed as a number', async () => {
  const conn = await connect(target.amqpUrl('guest', 'guest', V));
  try {
    const ch = await conn.createConfirmChannel();
    ch.publish('amq.fanout', '', Buffer.from('x'));
    await ch.waitForConfirms();
    await eventually(async () => {
      const channels = (await apiOk(target, 'GET', `/api/vhosts/${seg(V)}/channels`)).body as Record<string, any>[];
      assert.equal(channels.length, 1);
      assert.equal(channels[0]!['messages_unconfirmed'], 0);
      assert.equal(channels[0]!['message_stats']['confirm'], 1);
    }, 20_000, 250);
  } finally {
    await conn.close();
  }
});

test('a queue shows its publish count and its delivery counts each once it has moved, and no message_stats before', async () => {
  const conn = await connect(target.amqpUrl('guest', 'guest', V));
  try {
    const ch = await conn.createConfirmChannel();
    const [fresh, published, emptyGet] = [uniqueName('fresh'), uniqueName('published'), uniqueName('empty-get')];
    for (const q of [fresh, published, emptyGet]) await ch.assertQueue(q);
    ch.sendToQueue(published, Buffer.from('x'));
    await ch.waitForConfirms();
    assert.equal(await ch.get(emptyGet), false);
    const counts = (stats: Record<string, unknown> | undefined) =>
      stats && Object.keys(stats).filter((k) => !k.endsWith('_details')).sort();
    await eventually(async () => {
      const queue = async (q: string) => (await apiOk(target, 'GET', `/api/queues/${seg(V)}/${seg(q)}`)).body;
      assert.equal((await queue(published)).message_stats?.publish, 1);
      assert.equal((await queue(emptyGet)).message_stats?.get_empty, 1);
      assert.equal('message_stats' in (await queue(fresh)), false, 'nothing happened to it');
      assert.deepEqual(counts((await queue(published)).message_stats), ['publish']);
      assert.deepEqual(counts((await queue(emptyGet)).message_stats),
        ['ack', 'deliver', 'deliver_get', 'deliver_no_ack', 'get', 'get_empty', 'get_no_ack', 'redeliver']);
    }, 20_000, 250);
  } finally {
    await conn.close();
  }
});
