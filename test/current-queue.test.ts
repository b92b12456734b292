// The spec's "current queue": a channel remembers the last queue it declared, and an empty queue
// name in queue.bind / basic.get / basic.consume / queue.purge / queue.delete means that queue.
// amqplib always sends names, so this speaks the protocol directly.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { brokerPerFile } from './support/broker-per-file.js';
import { RawConnection, basicConsumeArgs, basicGetArgs, queueDeclareArgs } from './support/raw-amqp.js';
import { Encoder, methodFrame } from './support/raw-codec.js';

const bindArgs = (queue: string, exchange: string, key: string) =>
  new Encoder().u16(0).shortstr(queue).shortstr(exchange).shortstr(key).bit(false).table({}).done();

describe('current queue (empty queue name)', () => {
  const b = brokerPerFile();
  const raws = b.raws;
  const open = async () => {
    const { conn } = await RawConnection.handshake(b.host, b.port);
    raws.push(conn);
    await conn.openChannel(1);
    return conn;
  };

  test('queue.bind and basic.get with an empty name use the last declared queue', async () => {
    const r = await open();
    const q = await r.declareQueue(1, '', { exclusive: true });
    r.write(methodFrame(1, 50, 20, bindArgs('', 'amq.direct', `k-${q}`)));
    await r.expectMethod(50, 21);
    r.publish(1, 'amq.direct', `k-${q}`, Buffer.from('via current queue'));
    const got = await r.get(1, '');
    assert.equal(got?.body.toString(), 'via current queue');
  });

  test('basic.consume with an empty name consumes from the last declared queue', async () => {
    const r = await open();
    const q = await r.declareQueue(1, '', { exclusive: true });
    r.write(methodFrame(1, 60, 20, basicConsumeArgs('', 'cur', true)));
    await r.expectMethod(60, 21);
    r.publish(1, '', q, Buffer.from('m'));
    const d = await r.expectMethod(60, 60);
    assert.equal(d.args.shortstr(), 'cur');
  });

  test('queue.purge and queue.delete with an empty name act on the last declared queue', async () => {
    const r = await open();
    const q = await r.declareQueue(1, '', { exclusive: true });
    r.publish(1, '', q, Buffer.from('1'));
    r.publish(1, '', q, Buffer.from('2'));
    r.write(methodFrame(1, 50, 30, new Encoder().u16(0).shortstr('').bit(false).done()));
    assert.equal((await r.expectMethod(50, 31)).args.u32(), 2);
    r.write(methodFrame(1, 50, 40, new Encoder().u16(0).shortstr('').bit(false).bit(false).bit(false).done()));
    await r.expectMethod(50, 41);
    r.write(methodFrame(1, 50, 10, queueDeclareArgs(q, { passive: true })));
    const close = await r.expectChannelClose(1);
    assert.equal(close.code, 404);
  });

  test('an empty name before any queue.declare on the channel → 404 NOT_FOUND', async () => {
    const r = await open();
    r.write(methodFrame(1, 60, 70, basicGetArgs('')));
    assert.deepEqual(await r.expectChannelClose(1), { code: 404, text: 'NOT_FOUND - no previously declared queue', classId: 60, methodId: 70 });
    await r.openChannel(1);
    r.write(methodFrame(1, 50, 20, bindArgs('', 'amq.direct', 'k')));
    assert.deepEqual(await r.expectChannelClose(1), { code: 404, text: 'NOT_FOUND - no previously declared queue', classId: 50, methodId: 20 });
  });

  test('the current queue belongs to the channel: another channel has none', async () => {
    const r = await open();
    await r.declareQueue(1, '', { exclusive: true });
    await r.openChannel(2);
    r.write(methodFrame(2, 60, 70, basicGetArgs('')));
    const close = await r.expectChannelClose(2);
    assert.equal(close.text, 'NOT_FOUND - no previously declared queue');
  });

  test('a passive queue.declare with an empty name is not the current queue → 404', async () => {
    const r = await open();
    await r.declareQueue(1, '', { exclusive: true });
    r.write(methodFrame(1, 50, 10, queueDeclareArgs('', { passive: true })));
    assert.deepEqual(await r.expectChannelClose(1), { code: 404, text: "NOT_FOUND - no queue '' in vhost '/'", classId: 50, methodId: 10 });
  });
});
