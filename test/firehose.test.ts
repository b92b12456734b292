// The firehose tracer: amq.rabbitmq.trace in every vhost, and while tracing is on, a copy of each
// publish (publish.<exchange>) and delivery (deliver.<queue>) with rabbit_trace's headers. Runs
// against RabbitMQ too (WARREN_TEST_REFERENCE): tracing is switched with PUT /api/vhosts/{vhost}.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { apiOk, connect, startTarget, uniqueName, type Target } from './management-support.js';
import type { GetMessage } from 'amqplib';

describe('firehose tracer', () => {
  let target: Target;
  before(async () => {
    target = await startTarget();
  });
  after(async () => {
    await apiOk(target, 'PUT', '/api/vhosts/%2F', { tracing: false }).catch(() => {});
    await target.close();
  });

  test('amq.rabbitmq.trace: the 7th standard exchange, an internal durable topic exchange', async () => {
    const all = (await apiOk(target, 'GET', '/api/exchanges/%2F')).body as Array<Record<string, unknown>>;
    const standard = all.filter((x) => x['name'] === '' || String(x['name']).startsWith('amq.')).map((x) => x['name']).sort();
    assert.deepEqual(standard, ['', 'amq.direct', 'amq.fanout', 'amq.headers', 'amq.match', 'amq.rabbitmq.trace', 'amq.topic']);
    const trace = all.find((x) => x['name'] === 'amq.rabbitmq.trace')!;
    assert.deepEqual([trace['type'], trace['durable'], trace['internal']], ['topic', true, true]);
  });

  test('publish and deliver copies with rabbit_trace headers; none once tracing is off', async () => {
    const conn = await connect(target.amqpUrl('guest', 'guest'));
    try {
      const ch = await conn.createChannel();
      const traced = (await ch.assertQueue('', { exclusive: true })).queue;
      await ch.bindQueue(traced, 'amq.rabbitmq.trace', '#');
      const q = uniqueName('traced-q');
      await ch.assertQueue(q, { exclusive: true });
      await apiOk(target, 'PUT', '/api/vhosts/%2F', { tracing: true });
      assert.equal((await apiOk(target, 'GET', '/api/vhosts/%2F')).body.tracing, true);

      ch.publish('', q, Buffer.from('hello'), { contentType: 'text/plain', headers: { a: 1 } });
      const got = await ch.get(q, { noAck: true });
      assert.equal(got && got.content.toString(), 'hello');
      const copies: GetMessage[] = [];
      for (let i = 0; i < 100 && copies.length < 2; i++) {
        const m = await ch.get(traced, { noAck: true });
        if (m) copies.push(m);
      }
      assert.deepEqual(copies.map((m) => m.fields.routingKey), ['publish.', `deliver.${q}`]);
      const [pub, del] = copies as [GetMessage, GetMessage];
      assert.equal(pub.content.toString(), 'hello');
      assert.equal(pub.fields.exchange, 'amq.rabbitmq.trace');
      const ph = pub.properties.headers!;
      assert.equal(ph['exchange_name'], '');
      assert.deepEqual(ph['routing_keys'], [q]);
      assert.deepEqual(ph['properties'], { headers: { a: 1 }, content_type: 'text/plain' });
      assert.deepEqual(Object.keys(ph), ['exchange_name', 'routing_keys', 'properties', 'node', 'vhost', 'connection', 'channel', 'user', 'routed_queues']);
      assert.equal(typeof ph['node'], 'string');
      assert.deepEqual([ph['vhost'], ph['channel'], ph['user'], ph['routed_queues']], ['/', 1, 'guest', [q]]);
      assert.match(String(ph['connection']), / -> /);
      const dh = del.properties.headers!;
      assert.deepEqual(Object.keys(dh), ['exchange_name', 'routing_keys', 'properties', 'node', 'redelivered', 'vhost', 'connection', 'channel', 'user']);
      assert.deepEqual([dh['redelivered'], dh['vhost'], dh['channel'], dh['user']], [0, '/', 1, 'guest']);
      assert.equal(del.content.toString(), 'hello');

      await apiOk(target, 'PUT', '/api/vhosts/%2F', { tracing: false });
      ch.publish('', q, Buffer.from('untraced'));
      await ch.get(q, { noAck: true });
      assert.equal(await ch.get(traced, { noAck: true }), false, 'no copy once tracing is off');
    } finally {
      await conn.close();
    }
  });
});
