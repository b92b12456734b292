// basic.recover: requeue=true redelivers every unacked message (redelivered=true); requeue=false
// and the async variant follow RabbitMQ.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { brokerPerFile } from './support/broker-per-file.js';
import { RawConnection, basicConsumeArgs } from './support/raw-amqp.js';
import { Encoder, methodFrame } from './support/raw-codec.js';
import { channel, connect, consume } from './support/amqp-client.js';

describe('basic.recover', () => {
  const b = brokerPerFile();
  const raws = b.raws;

  /** Raw connection with a manual-ack consumer 'c' that has received one message. */
  const holding = async () => {
    const { conn: r } = await RawConnection.handshake(b.host, b.port);
    raws.push(r);
    await r.openChannel(1);
    const q = await r.declareQueue(1, '', { exclusive: true });
    r.write(methodFrame(1, 60, 20, basicConsumeArgs(q, 'c', false)));
    await r.expectMethod(60, 21);
    r.publish(1, '', q, Buffer.from('m'));
    const d = await r.expectMethod(60, 60);
    d.args.shortstr();
    assert.equal(d.args.u64(), 1n);
    await r.readContent();
    return r;
  };

  test('recover(requeue=true) redelivers unacked messages, marked redelivered, after recover-ok', async () => {
    const conn = await connect(b.url);
    const ch = await channel(conn);
    const q = (await ch.assertQueue('', { exclusive: true })).queue;
    const inbox = await consume(ch, q);
    for (let i = 0; i < 3; i++) ch.sendToQueue(q, Buffer.from(String(i)));
    await inbox.waitFor(3);
    ch.ack(inbox.messages[1]!);
    await ch.recover();
    await inbox.waitFor(5);
    assert.deepEqual(
      inbox.messages.slice(3).map((m) => [m.content.toString(), m.fields.redelivered, m.fields.deliveryTag]),
      [['0', true, 4], ['2', true, 5]],
    );
  });

  test('recover-ok comes before the redelivery, with a new delivery tag (raw)', async () => {
    const r = await holding();
    r.write(methodFrame(1, 60, 110, new Encoder().bit(true).done()));
    await r.expectMethod(60, 111);
    const d = await r.expectMethod(60, 60);
    assert.equal(d.args.shortstr(), 'c');
    assert.equal(d.args.u64(), 2n);
    assert.equal(d.args.bit(), true, 'redelivered');
  });

  test('recover(requeue=false) → 540 NOT_IMPLEMENTED, a connection error', async () => {
    const r = await holding();
    r.write(methodFrame(1, 60, 110, new Encoder().bit(false).done()));
    const close = await r.expectConnectionClose();
    assert.deepEqual(close, { code: 540, text: 'NOT_IMPLEMENTED - requeue=false', classId: 60, methodId: 110 });
  });

  test('basic.recover-async(requeue=true) redelivers without a reply', async () => {
    const r = await holding();
    r.write(methodFrame(1, 60, 100, new Encoder().bit(true).done()));
    const d = await r.expectMethod(60, 60);
    d.args.shortstr();
    d.args.u64();
    assert.equal(d.args.bit(), true);
  });

  test('recover with nothing unacked is just recover-ok', async () => {
    const conn = await connect(b.url);
    const ch = await channel(conn);
    await ch.recover();
  });
});
