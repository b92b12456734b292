// basic.get / get-ok / get-empty: message-count is what remains after this message, no-ack and
// manual-ack gets, and errors for missing queues.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { brokerPerFile } from './support/broker-per-file.js';
import { uniq } from './support/test-broker.js';
import { RawConnection } from './support/raw-amqp.js';
import { channel, connect, expectChannelError } from './support/amqp-client.js';

describe('basic.get', () => {
  const b = brokerPerFile();
  const raws = b.raws;

  test('get-ok reports the messages left behind; get-empty when there are none', async () => {
    const conn = await connect(b.url);
    const ch = await channel(conn);
    const q = (await ch.assertQueue('', { exclusive: true })).queue;
    assert.equal(await ch.get(q), false);
    for (let i = 0; i < 3; i++) ch.sendToQueue(q, Buffer.from(String(i)));
    const seen: Array<[string, number]> = [];
    for (let i = 0; i < 3; i++) {
      const m = await ch.get(q, { noAck: true });
      assert.ok(m);
      seen.push([m.content.toString(), m.fields.messageCount]);
    }
    assert.deepEqual(seen, [['0', 2], ['1', 1], ['2', 0]]);
    assert.equal(await ch.get(q), false);
  });

  test('get-ok fields: delivery tag, redelivered, exchange and routing key of the publish', async () => {
    const conn = await connect(b.url);
    const ch = await channel(conn);
    const q = (await ch.assertQueue('', { exclusive: true })).queue;
    await ch.bindQueue(q, 'amq.direct', `rk-${q}`);
    ch.publish('amq.direct', `rk-${q}`, Buffer.from('x'));
    const m = await ch.get(q);
    assert.ok(m);
    assert.deepEqual(
      { ...m.fields },
      { deliveryTag: 1, redelivered: false, exchange: 'amq.direct', routingKey: `rk-${q}`, messageCount: 0 },
    );
  });

  test('a manual-ack get is unacked until acked: not counted, requeued if rejected', async () => {
    const conn = await connect(b.url);
    const ch = await channel(conn);
    const q = (await ch.assertQueue('', { exclusive: true })).queue;
    ch.sendToQueue(q, Buffer.from('held'));
    const m = await ch.get(q, { noAck: false });
    assert.ok(m);
    assert.equal((await ch.checkQueue(q)).messageCount, 0);
    ch.reject(m, true);
    assert.equal((await ch.checkQueue(q)).messageCount, 1);
    const again = await ch.get(q, { noAck: false });
    assert.ok(again);
    assert.equal(again.fields.redelivered, true);
    assert.equal(again.fields.deliveryTag, 2);
    ch.ack(again);
    assert.equal((await ch.checkQueue(q)).messageCount, 0);
  });

  test('raw basic.get: get-empty, then get-ok with message-count and a 64-bit delivery tag', async () => {
    const { conn: r } = await RawConnection.handshake(b.host, b.port);
    raws.push(r);
    await r.openChannel(1);
    const q = await r.declareQueue(1, '', { exclusive: true });
    assert.equal(await r.get(1, q), undefined);
    r.publish(1, '', q, Buffer.from('one'));
    const got = await r.get(1, q);
    assert.ok(got);
    assert.equal(got.messageCount, 0);
    assert.equal(got.deliveryTag, 1n);
  });

  test('get from a missing queue → 404 NOT_FOUND', async () => {
    const conn = await connect(b.url);
    const ch = await channel(conn);
    const q = uniq('missing');
    await expectChannelError(conn, ch, () => ch.get(q), 404, `NOT_FOUND - no queue '${q}' in vhost '/'`);
  });

  test('get and a consumer share one queue: a message goes to exactly one of them', async () => {
    const conn = await connect(b.url);
    const ch = await channel(conn);
    const q = (await ch.assertQueue('', { exclusive: true })).queue;
    const seen: string[] = [];
    await ch.prefetch(1);
    let held: import('amqplib').ConsumeMessage | undefined;
    await ch.consume(q, (m) => {
      if (m) {
        seen.push(`consumer:${m.content}`);
        held = m;
      }
    });
    for (let i = 0; i < 3; i++) ch.sendToQueue(q, Buffer.from(String(i)));
    for (;;) {
      const m = await ch.get(q, { noAck: true });
      if (!m) break;
      seen.push(`get:${m.content}`);
    }
    assert.ok(held);
    assert.deepEqual(seen, ['consumer:0', 'get:1', 'get:2']);
  });
});
