// Consumer cancel notification: when a queue is deleted under its consumers, clients that announced
// consumer_cancel_notify get basic.cancel from the broker; the channel stays open.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { brokerPerFile } from './support/broker-per-file.js';
import { uniq } from './support/test-broker.js';
import { RawConnection, basicConsumeArgs } from './support/raw-amqp.js';
import { methodFrame } from './support/raw-codec.js';
import { channel, connect, consume } from './support/amqp-client.js';

describe('consumer cancel notification', () => {
  const b = brokerPerFile();
  const raws = b.raws;

  test('deleting a queue cancels its consumers (amqplib gets a null message); the channel survives', async () => {
    const conn = await connect(b.url);
    const ch = await channel(conn);
    const q = uniq('cn');
    await ch.assertQueue(q, { durable: false });
    const a = await consume(ch, q);
    const z = await consume(ch, q);
    const other = await channel(conn);
    await other.deleteQueue(q);
    await a.waitForCancel();
    await z.waitForCancel();
    await ch.checkExchange('amq.direct');
  });

  test('the broker\'s basic.cancel names the consumer tag and expects no reply (raw)', async () => {
    const { conn: r } = await RawConnection.handshake(b.host, b.port);
    raws.push(r);
    await r.openChannel(1);
    await r.openChannel(2);
    const q = await r.declareQueue(1, uniq('cn'), { autoDelete: false });
    r.write(methodFrame(1, 60, 20, basicConsumeArgs(q, 'doomed-consumer')));
    await r.expectMethod(60, 21);
    const { Encoder } = await import('./support/raw-codec.js');
    r.write(methodFrame(2, 50, 40, new Encoder().u16(0).shortstr(q).bit(false).bit(false).bit(false).done()));
    const first = await r.nextMethod();
    const second = await r.nextMethod();
    const [cancel] = [first, second].filter((m) => m.classId === 60 && m.methodId === 30);
    const [deleteOk] = [first, second].filter((m) => m.classId === 50 && m.methodId === 41);
    assert.ok(cancel && deleteOk, `got ${first.classId}.${first.methodId} and ${second.classId}.${second.methodId}`);
    assert.equal(cancel.channel, 1);
    assert.equal(cancel.args.shortstr(), 'doomed-consumer');
    assert.equal(cancel.args.bit(), true, 'no-wait: the client must not answer');
    assert.match(await r.declareQueue(1, '', { exclusive: true }), /^amq\.gen-/);
  });

  test('a client without consumer_cancel_notify is not sent basic.cancel', async () => {
    const { conn: r } = await RawConnection.handshake(b.host, b.port, { clientProperties: { product: 'old-client' } });
    raws.push(r);
    await r.openChannel(1);
    const q = await r.declareQueue(1, uniq('cn'), { autoDelete: false });
    r.write(methodFrame(1, 60, 20, basicConsumeArgs(q, 'c')));
    await r.expectMethod(60, 21);
    const { Encoder } = await import('./support/raw-codec.js');
    r.write(methodFrame(1, 50, 40, new Encoder().u16(0).shortstr(q).bit(false).bit(false).bit(false).done()));
    const m = await r.nextMethod();
    assert.deepEqual([m.classId, m.methodId], [50, 41], 'only delete-ok');
    await assert.rejects(r.nextMethod(300), /timed out/);
  });

  test('an exclusive queue\'s consumers on other channels are cancelled when it is deleted', async () => {
    const conn = await connect(b.url);
    const ch = await channel(conn);
    const q = (await ch.assertQueue('', { exclusive: true })).queue;
    const ch2 = await channel(conn);
    const inbox = await consume(ch2, q);
    await ch.deleteQueue(q);
    await inbox.waitForCancel();
    assert.equal(inbox.cancelled, true);
  });
});
