// channel.flow from the client: RabbitMQ answers active=true with flow-ok and refuses active=false
// with 540 NOT_IMPLEMENTED (it throttles publishers with TCP backpressure instead).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { brokerPerFile } from './support/broker-per-file.js';
import { RawConnection } from './support/raw-amqp.js';
import { Encoder, methodFrame } from './support/raw-codec.js';

describe('channel.flow', () => {
  const b = brokerPerFile();
  const raws = b.raws;
  const open = async () => {
    const { conn } = await RawConnection.handshake(b.host, b.port);
    raws.push(conn);
    await conn.openChannel(1);
    return conn;
  };

  test('channel.flow active=true → flow-ok active=true; the channel keeps working', async () => {
    const r = await open();
    r.write(methodFrame(1, 20, 20, new Encoder().bit(true).done()));
    const ok = await r.expectMethod(20, 21);
    assert.equal(ok.args.bit(), true);
    const q = await r.declareQueue(1, '', { exclusive: true });
    r.publish(1, '', q, Buffer.from('flowing'));
    assert.equal((await r.get(1, q))?.body.toString(), 'flowing');
  });

  test('channel.flow active=false → 540 NOT_IMPLEMENTED, a connection error', async () => {
    const r = await open();
    r.write(methodFrame(1, 20, 20, new Encoder().bit(false).done()));
    const close = await r.expectConnectionClose();
    assert.deepEqual(close, { code: 540, text: 'NOT_IMPLEMENTED - active=false', classId: 20, methodId: 20 });
  });

  test('an unsolicited channel.flow-ok → 503 COMMAND_INVALID', async () => {
    const r = await open();
    r.write(methodFrame(1, 20, 21, new Encoder().bit(true).done()));
    const close = await r.expectConnectionClose();
    assert.equal(close.code, 503);
    assert.match(close.text, /^COMMAND_INVALID - /);
    assert.deepEqual([close.classId, close.methodId], [20, 21]);
  });
});
