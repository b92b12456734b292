// RabbitMQ 3.10's head_message_timestamp: the timestamp property (seconds) of the message a queue
// delivers next — for a priority queue the head of its highest non-empty priority — null when the
// queue is empty or the head has no timestamp; absent for quorum queues. On Prometheus it is
// rabbitmq_queue_head_message_timestamp per classic queue (NaN when there is none) and only a
// header on the aggregated /metrics.
// Against RabbitMQ (its statistics refresh every 5 s, so the checks poll):
//   WARREN_TEST_REFERENCE="amqp://127.0.0.1:5620 http://127.0.0.1:15620" \
//   WARREN_TEST_PROMETHEUS_URL=http://127.0.0.1:15625 node --test dist/test/queue-head-timestamp.test.js
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import amqp from 'amqplib';
import { api, apiOk, connect, seg, startTarget, uniqueName, type Target } from './management-support.js';
import { find, scrape } from './support/prometheus-text.js';
import { eventually } from './support/eventually.js';

describe('head_message_timestamp', { timeout: 120_000 }, () => {
  let target: Target;
  let prom: string;
  let conn: amqp.ChannelModel;
  let ch: amqp.ConfirmChannel;
  const created: string[] = [];

  before(async () => {
    target = await startTarget({ prometheus: true });
    prom = target.prometheusUrl!;
    conn = await connect(target.amqpUrl('guest', 'guest'));
    ch = await conn.createConfirmChannel();
  });
  after(async () => {
    for (const q of created) await api(target, 'DELETE', `/api/queues/%2F/${seg(q)}`);
    await conn.close().catch(() => {});
    await target.close();
  });

  async function declare(prefix: string, args: Record<string, unknown> = {}): Promise<string> {
    const q = uniqueName(prefix);
    created.push(q);
    await ch.assertQueue(q, { durable: true, arguments: args });
    return q;
  }

  const queueJson = async (q: string) => (await apiOk(target, 'GET', `/api/queues/%2F/${seg(q)}`)).body;

  test('classic and priority queues report their head\'s timestamp property; quorum queues do not have the field', async () => {
    const classic = await declare('hts-classic');
    const prio = await declare('hts-prio', { 'x-max-priority': 5 });
    const quorum = await declare('hts-quorum', { 'x-queue-type': 'quorum' });
    const bare = await declare('hts-bare');
    const empty = await declare('hts-empty');
    for (const q of [classic, quorum]) {
      ch.sendToQueue(q, Buffer.from('a'), { timestamp: 1_600_000_000 });
      ch.sendToQueue(q, Buffer.from('b'), { timestamp: 1_700_000_000 });
    }
    // The high-priority message is the head even though it was published later, with a later stamp.
    ch.sendToQueue(prio, Buffer.from('low'), { timestamp: 1_600_000_000, priority: 1 });
    ch.sendToQueue(prio, Buffer.from('high'), { timestamp: 1_700_000_000, priority: 3 });
    ch.sendToQueue(bare, Buffer.from('no timestamp'));
    await ch.waitForConfirms();

    await eventually(async () => {
      assert.equal((await queueJson(classic)).head_message_timestamp, 1_600_000_000);
      assert.equal((await queueJson(prio)).head_message_timestamp, 1_700_000_000);
      assert.equal((await queueJson(bare)).head_message_timestamp, null);
      assert.equal((await queueJson(empty)).head_message_timestamp, null);
      const qq = await queueJson(quorum);
      assert.equal(qq.messages, 2);
      assert.ok(!('head_message_timestamp' in qq), 'quorum queues have no head_message_timestamp');
    }, 20_000, 500);

    // The head moves on when it is consumed.
    assert.ok(await ch.get(classic, { noAck: true }));
    await eventually(async () => assert.equal((await queueJson(classic)).head_message_timestamp, 1_700_000_000), 20_000, 500);

    await eventually(async () => {
      const per = await scrape(`${prom}/metrics/per-object`);
      const ts = (q: string) => find(per, 'rabbitmq_queue_head_message_timestamp', { vhost: '/', queue: q }).map((s) => s.value);
      assert.equal(per.help.get('rabbitmq_queue_head_message_timestamp'), 'Timestamp of the first message in the queue, if any');
      assert.deepEqual(ts(classic), [1_700_000_000]);
      assert.deepEqual(ts(prio), [1_700_000_000]);
      assert.ok(Number.isNaN(ts(bare)[0]) && Number.isNaN(ts(empty)[0]), 'NaN when there is none');
      assert.deepEqual(ts(quorum), [], 'no sample for a quorum queue');
    }, 20_000, 500);
    const agg = await scrape(`${prom}/metrics`);
    assert.equal(agg.types.get('rabbitmq_queue_head_message_timestamp'), 'gauge');
    assert.deepEqual(find(agg, 'rabbitmq_queue_head_message_timestamp'), [], 'announced but never summed');
  });
});
