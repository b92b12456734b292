// basic.publish mandatory: unroutable messages come back as basic.return 312 NO_ROUTE with their
// properties and body; immediate=true is refused with 540 NOT_IMPLEMENTED as RabbitMQ does.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { brokerPerFile } from './support/broker-per-file.js';
import { uniq } from './support/test-broker.js';
import { RawConnection } from './support/raw-amqp.js';
import { Encoder, encodeProperties, headerFrame, bodyFrame, methodFrame } from './support/raw-codec.js';
import { channel, confirmChannel, connect, drain, roundTrip, within, type Message } from './support/amqp-client.js';

describe('mandatory and immediate', () => {
  const b = brokerPerFile();
  const raws = b.raws;

  test('an unroutable mandatory message comes back as basic.return 312 NO_ROUTE', async () => {
    const conn = await connect(b.url);
    const ch = await channel(conn);
    const key = uniq('nobody');
    const returned = new Promise<Message>((resolve) => ch.once('return', resolve));
    ch.publish('amq.direct', key, Buffer.from('back to sender'), { mandatory: true, messageId: 'm1', headers: { h: 'v' } });
    const m = await within(returned, 3000, 'basic.return');
    assert.equal(m.content.toString(), 'back to sender');
    assert.equal(m.fields.exchange, 'amq.direct');
    assert.equal(m.fields.routingKey, key);
    assert.equal((m.fields as unknown as { replyCode: number }).replyCode, 312);
    assert.equal((m.fields as unknown as { replyText: string }).replyText, 'NO_ROUTE');
    assert.equal(m.properties.messageId, 'm1');
    assert.deepEqual(m.properties.headers, { h: 'v' });
  });

  test('basic.return carries the properties byte-exact (raw)', async () => {
    const { conn: r } = await RawConnection.handshake(b.host, b.port);
    raws.push(r);
    await r.openChannel(1);
    const props = encodeProperties({ contentType: 'text/plain', headers: { n: 1 }, deliveryMode: 1, correlationId: 'c' });
    r.write(Buffer.concat([
      methodFrame(1, 60, 40, new Encoder().u16(0).shortstr('amq.topic').shortstr('no.such.key.anywhere').bit(true).bit(false).done()),
      headerFrame(1, 3, props),
      bodyFrame(1, Buffer.from('abc')),
    ]));
    const ret = await r.expectMethod(60, 50);
    assert.deepEqual(
      { code: ret.args.u16(), text: ret.args.shortstr(), exchange: ret.args.shortstr(), key: ret.args.shortstr() },
      { code: 312, text: 'NO_ROUTE', exchange: 'amq.topic', key: 'no.such.key.anywhere' },
    );
    const content = await r.readContent();
    assert.equal(content.properties.toString('hex'), props.toString('hex'));
    assert.equal(content.body.toString(), 'abc');
  });

  test('a routable mandatory message is delivered, not returned', async () => {
    const conn = await connect(b.url);
    const ch = await channel(conn);
    const q = (await ch.assertQueue('', { exclusive: true })).queue;
    let returns = 0;
    ch.on('return', () => returns++);
    ch.sendToQueue(q, Buffer.from('ok'), { mandatory: true });
    await roundTrip(ch);
    assert.equal(returns, 0);
    assert.deepEqual(await drain(ch, q), ['ok']);
  });

  test('an unroutable message without mandatory is dropped silently', async () => {
    const conn = await connect(b.url);
    const ch = await channel(conn);
    let returns = 0;
    ch.on('return', () => returns++);
    ch.publish('amq.direct', uniq('nobody'), Buffer.from('lost'));
    await roundTrip(ch);
    assert.equal(returns, 0);
    await ch.checkExchange('amq.direct');
  });

  test('with confirms, the return comes before the ack', async () => {
    const conn = await connect(b.url);
    const ch = await confirmChannel(conn);
    const events: string[] = [];
    ch.on('return', () => events.push('return'));
    await new Promise<void>((resolve, reject) =>
      ch.publish('amq.direct', uniq('nobody'), Buffer.from('x'), { mandatory: true }, (err) => {
        events.push(err ? 'nack' : 'ack');
        if (err) reject(err);
        else resolve();
      }),
    );
    assert.deepEqual(events, ['return', 'ack']);
  });

  test('with confirms, the ack of a returned message travels in the same socket write as the return', async () => {
    // RabbitMQ writes them together; rabbitmq-client resolves the publish on the ack and emits the
    // return one setImmediate later, so its own suite waits for a return that came a turn too early
    // when the ack lags behind in a write of its own.
    const { conn: r } = await RawConnection.handshake(b.host, b.port);
    raws.push(r);
    await r.openChannel(1);
    r.write(methodFrame(1, 85, 10, new Encoder().bit(false).done()));
    await r.expectMethod(85, 11);
    const chunks: number[] = [];
    r.socket.on('data', (chunk: Buffer) => chunks.push(chunk.length));
    r.publish(1, 'amq.direct', uniq('nobody'), Buffer.from('x'), {}, true);
    await r.expectMethod(60, 50);
    await r.readContent();
    assert.equal((await r.expectMethod(60, 80)).args.u64(), 1n);
    assert.equal(chunks.length, 1, `return and ack arrived in ${chunks.length} reads (${chunks.join(', ')} bytes)`);
  });

  test('immediate=true → 540 NOT_IMPLEMENTED, a connection error', async () => {
    const { conn: r } = await RawConnection.handshake(b.host, b.port);
    raws.push(r);
    await r.openChannel(1);
    r.write(Buffer.concat([
      methodFrame(1, 60, 40, new Encoder().u16(0).shortstr('').shortstr('q').bit(false).bit(true).done()),
      headerFrame(1, 1, {}),
      bodyFrame(1, Buffer.from('x')),
    ]));
    const close = await r.expectConnectionClose();
    assert.equal(close.code, 540);
    assert.equal(close.text, 'NOT_IMPLEMENTED - immediate=true');
    assert.deepEqual([close.classId, close.methodId], [60, 40]);
  });
});
