// Many channels per connection, clean close handshakes in both directions, and channel errors
// that close only their channel while the connection and its other channels carry on.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { brokerPerFile } from './support/broker-per-file.js';
import { uniq } from './support/test-broker.js';
import { RawConnection, queueDeclareArgs } from './support/raw-amqp.js';
import { Encoder, methodFrame } from './support/raw-codec.js';
import { channel, closeReason, connect, consume, expectChannelError } from './support/amqp-client.js';

describe('channels', () => {
  const b = brokerPerFile();
  const raws = b.raws;

  test('100 channels on one connection work independently', async () => {
    const conn = await connect(b.url);
    const chans = await Promise.all(Array.from({ length: 100 }, () => channel(conn)));
    const queues = await Promise.all(chans.map(async (ch) => (await ch.assertQueue('', { exclusive: true })).queue));
    chans.forEach((ch, i) => ch.sendToQueue(queues[i]!, Buffer.from(`m${i}`)));
    const got = await Promise.all(chans.map(async (ch, i) => {
      for (let tries = 0; tries < 100; tries++) {
        const m = await ch.get(queues[(i + 1) % 100]!, { noAck: true });
        if (m) return m.content.toString();
        await new Promise((r) => setTimeout(r, 10));
      }
      return 'nothing';
    }));
    assert.deepEqual(got, chans.map((_, i) => `m${(i + 1) % 100}`));
  });

  test('a channel error closes only that channel: the connection and its other channels carry on', async () => {
    const conn = await connect(b.url);
    const consumerCh = await channel(conn);
    const q = (await consumerCh.assertQueue('', { exclusive: true })).queue;
    const inbox = await consume(consumerCh, q, { noAck: true });
    const bad = await channel(conn);
    await expectChannelError(conn, bad, () => bad.checkQueue(uniq('missing')), 404, /^NOT_FOUND - no queue 'missing-[0-9a-f]+' in vhost '\/'$/);
    const pub = await channel(conn);
    pub.sendToQueue(q, Buffer.from('still here'));
    await inbox.waitFor(1);
    assert.equal(inbox.messages[0]!.content.toString(), 'still here');
  });

  test('client-initiated channel.close → close-ok, and the channel number can be opened again', async () => {
    const { conn: r } = await RawConnection.handshake(b.host, b.port);
    raws.push(r);
    await r.openChannel(1);
    r.write(methodFrame(1, 20, 40, new Encoder().u16(200).shortstr('bye').u16(0).u16(0).done()));
    const ok = await r.expectMethod(20, 41);
    assert.equal(ok.channel, 1);
    await r.openChannel(1);
    assert.match(await r.declareQueue(1, '', { exclusive: true }), /^amq\.gen-/);
  });

  test('after a server channel.close, frames on that channel are ignored until close-ok', async () => {
    const { conn: r } = await RawConnection.handshake(b.host, b.port);
    raws.push(r);
    await r.openChannel(1);
    r.write(methodFrame(1, 50, 10, queueDeclareArgs(uniq('missing'), { passive: true })));
    const close = await r.nextMethod();
    assert.deepEqual([close.channel, close.classId, close.methodId], [1, 20, 40]);
    // Sent before our close-ok: must be dropped silently (no reply, no connection error).
    r.write(methodFrame(1, 50, 10, queueDeclareArgs('', { exclusive: true })));
    r.write(methodFrame(1, 20, 41));
    await r.openChannel(1);
    assert.match(await r.declareQueue(1, '', { exclusive: true }), /^amq\.gen-/);
  });

  test('closing a channel that still has consumers cancels them; the connection stays open', async () => {
    const conn = await connect(b.url);
    const ch1 = await channel(conn);
    const q = (await ch1.assertQueue('', { exclusive: true })).queue;
    await consume(ch1, q);
    await ch1.close();
    assert.equal(await closeReason(ch1), undefined);
    const ch2 = await channel(conn);
    const info = await ch2.checkQueue(q);
    assert.equal(info.consumerCount, 0);
  });

  test('channel.close with a reply code from the client is not an error for the connection', async () => {
    const { conn: r } = await RawConnection.handshake(b.host, b.port);
    raws.push(r);
    await r.openChannel(1);
    await r.openChannel(2);
    r.write(methodFrame(1, 20, 40, new Encoder().u16(406).shortstr('client says no').u16(60).u16(40).done()));
    await r.expectMethod(20, 41);
    assert.match(await r.declareQueue(2, '', { exclusive: true }), /^amq\.gen-/);
  });
});
