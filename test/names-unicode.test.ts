// Names are up to 255 bytes of UTF-8: queues like 订单, exchanges and routing keys in any script,
// 255-byte names (counted in bytes, not characters), and the reserved amq. prefix.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { brokerPerFile } from './support/broker-per-file.js';
import { uniq } from './support/test-broker.js';
import { RawConnection } from './support/raw-amqp.js';
import { channel, connect, consume, drain, expectChannelError } from './support/amqp-client.js';

describe('names and unicode', () => {
  const b = brokerPerFile();

  test('a queue named 订单 works end to end', async () => {
    const conn = await connect(b.url);
    const ch = await channel(conn);
    const q = `订单-${uniq('')}`;
    const ok = await ch.assertQueue(q, { exclusive: true });
    assert.equal(ok.queue, q);
    ch.sendToQueue(q, Buffer.from('你好'));
    const inbox = await consume(ch, q, { noAck: true });
    const [m] = await inbox.waitFor(1);
    assert.equal(m!.fields.routingKey, q);
    assert.equal(m!.content.toString(), '你好');
    await expectChannelError(conn, ch, () => ch.checkQueue(`${q}-нет`), 404, `NOT_FOUND - no queue '${q}-нет' in vhost '/'`);
  });

  test('unicode exchange names and routing keys route (topic words included)', async () => {
    const conn = await connect(b.url);
    const ch = await channel(conn);
    const x = uniq('обмен');
    await ch.assertExchange(x, 'topic', { durable: false, autoDelete: true });
    const q = (await ch.assertQueue('', { exclusive: true })).queue;
    await ch.bindQueue(q, x, 'заказ.*.🚀');
    ch.publish(x, 'заказ.новый.🚀', Buffer.from('hit'));
    ch.publish(x, 'заказ.новый.x', Buffer.from('miss'));
    assert.deepEqual(await drain(ch, q), ['hit']);
  });

  test('names of exactly 255 bytes of UTF-8 are accepted', async () => {
    const conn = await connect(b.url);
    const ch = await channel(conn);
    const prefix = uniq('q');
    const q = prefix + '中'.repeat(Math.floor((255 - prefix.length) / 3)) + 'x'.repeat((255 - prefix.length) % 3);
    assert.equal(Buffer.byteLength(q), 255);
    assert.equal((await ch.assertQueue(q, { exclusive: true })).queue, q);
    ch.sendToQueue(q, Buffer.from('long name'));
    assert.deepEqual(await drain(ch, q), ['long name']);
    const x = 'é'.repeat(127) + 'e';
    assert.equal(Buffer.byteLength(x), 255);
    await ch.assertExchange(x, 'fanout', { durable: false, autoDelete: true });
    await ch.bindQueue(q, x, '');
    ch.publish(x, '', Buffer.from('via long exchange'));
    assert.deepEqual(await drain(ch, q), ['via long exchange']);
  });

  test('queue names keep their exact bytes (no normalisation): é and e+◌́ are different queues', async () => {
    const conn = await connect(b.url);
    const ch = await channel(conn);
    const tag = uniq('');
    const composed = `caf\u00e9${tag}`;
    const decomposed = `cafe\u0301${tag}`;
    await ch.assertQueue(composed, { exclusive: true });
    await ch.assertQueue(decomposed, { exclusive: true });
    ch.sendToQueue(composed, Buffer.from('composed'));
    assert.deepEqual(await drain(ch, decomposed), []);
    assert.deepEqual(await drain(ch, composed), ['composed']);
  });

  test('a raw client sees the server-named queue and a unicode name byte-exact', async () => {
    const { conn: r } = await RawConnection.handshake(b.host, b.port);
    try {
      await r.openChannel(1);
      const name = `队列-${uniq('')}`;
      assert.equal(await r.declareQueue(1, name, { exclusive: true }), name);
    } finally {
      r.destroy();
    }
  });

  test('the amq. prefix is reserved, but only as a prefix', async () => {
    const conn = await connect(b.url);
    const ch = await channel(conn);
    const ok = uniq('my.amq.queue');
    await ch.assertQueue(ok, { exclusive: true });
    const bad = uniq('amq.queue');
    await expectChannelError(conn, ch, () => ch.assertQueue(bad, { exclusive: true }), 403,
      `ACCESS_REFUSED - queue name '${bad}' contains reserved prefix 'amq.*'`);
  });
});
