// basic.consume / basic.cancel: round-robin among consumers, server-generated tags, duplicate tags,
// no-ack consumers, and consuming from a missing queue.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { brokerPerFile } from './support/broker-per-file.js';
import { uniq } from './support/test-broker.js';
import { RawConnection, basicConsumeArgs } from './support/raw-amqp.js';
import { Encoder, methodFrame } from './support/raw-codec.js';
import { channel, connect, consume, expectChannelError, expectConnectionError, roundTrip } from './support/amqp-client.js';

describe('consume and round-robin', () => {
  const b = brokerPerFile();
  const raws = b.raws;

  test('messages are dealt round-robin to the consumers of a queue', async () => {
    const conn = await connect(b.url);
    const ch = await channel(conn);
    const q = (await ch.assertQueue('', { exclusive: true })).queue;
    const inboxes = [await consume(ch, q, { noAck: true }), await consume(ch, q, { noAck: true }), await consume(ch, q, { noAck: true })];
    for (let i = 0; i < 9; i++) ch.sendToQueue(q, Buffer.from(String(i)));
    for (const inbox of inboxes) await inbox.waitFor(3);
    assert.deepEqual(inboxes.map((x) => x.bodies()), [['0', '3', '6'], ['1', '4', '7'], ['2', '5', '8']]);
  });

  test('round-robin also spans consumers on different connections', async () => {
    const c1 = await connect(b.url);
    const ch1 = await channel(c1);
    const q = uniq('rr');
    await ch1.assertQueue(q, { durable: false, autoDelete: true });
    const c2 = await connect(b.url);
    const ch2 = await channel(c2);
    const a = await consume(ch1, q, { noAck: true });
    const z = await consume(ch2, q, { noAck: true });
    for (let i = 0; i < 6; i++) ch1.sendToQueue(q, Buffer.from(String(i)));
    await a.waitFor(3);
    await z.waitFor(3);
    assert.deepEqual([a.bodies(), z.bodies()], [['0', '2', '4'], ['1', '3', '5']]);
  });

  test('server-generated consumer tags are amq.ctag-… and unique', async () => {
    const conn = await connect(b.url);
    const ch = await channel(conn);
    const q = (await ch.assertQueue('', { exclusive: true })).queue;
    const t1 = (await ch.consume(q, () => {})).consumerTag;
    const t2 = (await ch.consume(q, () => {})).consumerTag;
    assert.match(t1, /^amq\.ctag-[A-Za-z0-9_-]{22}$/);
    assert.notEqual(t1, t2);
    assert.equal((await ch.checkQueue(q)).consumerCount, 2);
  });

  test('a client-chosen tag is echoed in deliveries', async () => {
    const conn = await connect(b.url);
    const ch = await channel(conn);
    const q = (await ch.assertQueue('', { exclusive: true })).queue;
    const inbox = await consume(ch, q, { consumerTag: 'my-tag', noAck: true });
    assert.equal(inbox.consumerTag, 'my-tag');
    ch.sendToQueue(q, Buffer.from('x'));
    const [m] = await inbox.waitFor(1);
    assert.equal(m!.fields.consumerTag, 'my-tag');
    assert.equal(m!.fields.deliveryTag, 1);
    assert.equal(m!.fields.redelivered, false);
    assert.equal(m!.fields.exchange, '');
    assert.equal(m!.fields.routingKey, q);
  });

  test('reusing a consumer tag on the channel → 530 NOT_ALLOWED, a connection error', async () => {
    const conn = await connect(b.url);
    const ch = await channel(conn);
    const q = (await ch.assertQueue('', { exclusive: true })).queue;
    await ch.consume(q, () => {}, { consumerTag: 'dup' });
    await expectConnectionError(conn, () => ch.consume(q, () => {}, { consumerTag: 'dup' }), 530,
      "NOT_ALLOWED - attempt to reuse consumer tag 'dup'");
  });

  test('the same tag on two different channels is fine', async () => {
    const conn = await connect(b.url);
    const ch1 = await channel(conn);
    const ch2 = await channel(conn);
    const q = (await ch1.assertQueue('', { exclusive: true })).queue;
    await ch1.consume(q, () => {}, { consumerTag: 'same' });
    await ch2.consume(q, () => {}, { consumerTag: 'same' });
  });

  test('consuming from a missing queue → 404 NOT_FOUND', async () => {
    const conn = await connect(b.url);
    const ch = await channel(conn);
    const q = uniq('missing');
    await expectChannelError(conn, ch, () => ch.consume(q, () => {}), 404, `NOT_FOUND - no queue '${q}' in vhost '/'`);
  });

  test('basic.cancel stops deliveries to that consumer; the others take over', async () => {
    const conn = await connect(b.url);
    const ch = await channel(conn);
    const q = (await ch.assertQueue('', { exclusive: true })).queue;
    const a = await consume(ch, q, { noAck: true });
    const z = await consume(ch, q, { noAck: true });
    assert.deepEqual(await ch.cancel(a.consumerTag), { consumerTag: a.consumerTag });
    for (let i = 0; i < 4; i++) ch.sendToQueue(q, Buffer.from(String(i)));
    await z.waitFor(4);
    await roundTrip(ch);
    assert.deepEqual(a.bodies(), []);
    assert.equal((await ch.checkQueue(q)).consumerCount, 1);
  });

  test('basic.cancel of an unknown tag is answered with cancel-ok', async () => {
    const { conn: r } = await RawConnection.handshake(b.host, b.port);
    raws.push(r);
    await r.openChannel(1);
    r.write(methodFrame(1, 60, 30, new Encoder().shortstr('never-existed').bit(false).done()));
    const ok = await r.expectMethod(60, 31);
    assert.equal(ok.args.shortstr(), 'never-existed');
  });

  test('a consumer added later joins the rotation; messages already queued go to the first', async () => {
    const conn = await connect(b.url);
    const ch = await channel(conn);
    const q = (await ch.assertQueue('', { exclusive: true })).queue;
    for (let i = 0; i < 3; i++) ch.sendToQueue(q, Buffer.from(`early${i}`));
    const a = await consume(ch, q, { noAck: true });
    await a.waitFor(3);
    const z = await consume(ch, q, { noAck: true });
    for (let i = 0; i < 4; i++) ch.sendToQueue(q, Buffer.from(`late${i}`));
    await z.waitFor(2);
    await a.waitFor(5);
    assert.equal(a.messages.length + z.messages.length, 7);
  });

  test('no-wait consume (raw): no consume-ok, deliveries still come', async () => {
    const { conn: r } = await RawConnection.handshake(b.host, b.port);
    raws.push(r);
    await r.openChannel(1);
    const q = await r.declareQueue(1, '', { exclusive: true });
    r.write(methodFrame(1, 60, 20, basicConsumeArgs(q, 'nw', true, false, true)));
    r.publish(1, '', q, Buffer.from('nowait'));
    const m = await r.nextMethod();
    assert.deepEqual([m.classId, m.methodId], [60, 60], 'expected basic.deliver, not consume-ok');
    assert.equal((await r.readContent()).body.toString(), 'nowait');
  });
});
