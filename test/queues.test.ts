// queue.declare (server-named, passive, redeclare rules, arguments), queue.bind/unbind,
// queue.purge and queue.delete (if-unused, if-empty) with their counts and error codes.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { brokerPerFile } from './support/broker-per-file.js';
import { uniq } from './support/test-broker.js';
import {
  channel, connect, consume, drain, expectChannelError, 
  type Channel, type ChannelModel,
} from './support/amqp-client.js';

describe('queues', () => {
  const b = brokerPerFile();
  let conn: ChannelModel;
  let ch: Channel;
  const fresh = async () => {
    conn = await connect(b.url);
    ch = await channel(conn);
  };
  /** A non-exclusive queue (so other connections can see it) deleted at the end of the test. */
  const shared = async (t: { after: (fn: () => Promise<void>) => void }, options = {}) => {
    const name = uniq('q');
    await ch.assertQueue(name, { durable: false, autoDelete: false, ...options });
    t.after(async () => {
      const c = await connect(b.url);
      const x = await channel(c);
      await x.deleteQueue(name);
      await c.close();
    });
    return name;
  };

  test('server-named queues are amq.gen-… and unique; declare-ok carries the counts', async () => {
    await fresh();
    const a = await ch.assertQueue('', { exclusive: true });
    const c = await ch.assertQueue('', { exclusive: true });
    assert.match(a.queue, /^amq\.gen-[A-Za-z0-9_-]{22}$/);
    assert.notEqual(a.queue, c.queue);
    assert.deepEqual(a, { queue: a.queue, messageCount: 0, consumerCount: 0 });
    ch.sendToQueue(a.queue, Buffer.from('1'));
    ch.sendToQueue(a.queue, Buffer.from('2'));
    await consume(ch, c.queue);
    assert.deepEqual(await ch.checkQueue(a.queue), { queue: a.queue, messageCount: 2, consumerCount: 0 });
    assert.deepEqual(await ch.checkQueue(c.queue), { queue: c.queue, messageCount: 0, consumerCount: 1 });
    // Even its owner cannot declare an amq.gen- name other than passively.
    await expectChannelError(conn, ch, () => ch.assertQueue(a.queue, { exclusive: true }), 403,
      `ACCESS_REFUSED - queue name '${a.queue}' contains reserved prefix 'amq.*'`);
  });

  test('passive declare of a missing queue → 404 NOT_FOUND', async () => {
    await fresh();
    const q = uniq('missing');
    await expectChannelError(conn, ch, () => ch.checkQueue(q), 404, `NOT_FOUND - no queue '${q}' in vhost '/'`);
  });

  test('redeclare with another durable flag → 406 with RabbitMQ\'s exact text', async (t) => {
    await fresh();
    const q = await shared(t, { durable: true });
    await expectChannelError(conn, ch, () => ch.assertQueue(q, { durable: false }), 406,
      `PRECONDITION_FAILED - inequivalent arg 'durable' for queue '${q}' in vhost '/': received 'false' but current is 'true'`);
  });

  test('redeclare with another auto_delete flag → 406', async (t) => {
    await fresh();
    const q = await shared(t);
    await expectChannelError(conn, ch, () => ch.assertQueue(q, { durable: false, autoDelete: true }), 406,
      `PRECONDITION_FAILED - inequivalent arg 'auto_delete' for queue '${q}' in vhost '/': received 'true' but current is 'false'`);
  });

  test('redeclare with different arguments → 406; the same arguments are fine', async (t) => {
    await fresh();
    const q = await shared(t, { arguments: { 'x-message-ttl': 60000 } });
    await ch.assertQueue(q, { durable: false, autoDelete: false, arguments: { 'x-message-ttl': 60000 } });
    await expectChannelError(conn, ch, () => ch.assertQueue(q, { durable: false, autoDelete: false, arguments: { 'x-message-ttl': 1000 } }), 406,
      `PRECONDITION_FAILED - inequivalent arg 'x-message-ttl' for queue '${q}' in vhost '/': received '1000' but current is '60000'`);
    ch = await channel(conn);
    await expectChannelError(conn, ch, () => ch.assertQueue(q, { durable: false, autoDelete: false }), 406,
      `PRECONDITION_FAILED - inequivalent arg 'x-message-ttl' for queue '${q}' in vhost '/': received none but current is the value '60000' of type 'signedint'`);
  });

  test('a passive declare ignores the flags it is sent', async (t) => {
    await fresh();
    const q = await shared(t, { durable: true });
    const { RawConnection } = await import('./support/raw-amqp.js');
    const { conn: r } = await RawConnection.handshake(b.host, b.port);
    try {
      await r.openChannel(1);
      assert.equal(await r.declareQueue(1, q, { passive: true, durable: false, autoDelete: true }), q);
    } finally {
      r.destroy();
    }
  });

  test('the amq. prefix is reserved for queue names → 403 ACCESS_REFUSED', async () => {
    await fresh();
    const q = uniq('amq.mine');
    await expectChannelError(conn, ch, () => ch.assertQueue(q, { exclusive: true }), 403,
      `ACCESS_REFUSED - queue name '${q}' contains reserved prefix 'amq.*'`);
  });

  test('queue.purge returns the number of messages removed and leaves unacked ones alone', async () => {
    await fresh();
    const q = (await ch.assertQueue('', { exclusive: true })).queue;
    for (let i = 0; i < 5; i++) ch.sendToQueue(q, Buffer.from(String(i)));
    const m = await ch.get(q, { noAck: false });
    assert.ok(m);
    assert.deepEqual(await ch.purgeQueue(q), { messageCount: 4 });
    assert.deepEqual(await ch.purgeQueue(q), { messageCount: 0 });
    ch.nack(m, false, true);
    assert.deepEqual(await drain(ch, q), ['0']);
  });

  test('queue.purge of a missing queue → 404', async () => {
    await fresh();
    const q = uniq('missing');
    await expectChannelError(conn, ch, () => ch.purgeQueue(q), 404, `NOT_FOUND - no queue '${q}' in vhost '/'`);
  });

  test('queue.delete returns the message count; deleting a missing queue is fine', async () => {
    await fresh();
    const q = uniq('q');
    await ch.assertQueue(q, { durable: false });
    for (let i = 0; i < 3; i++) ch.sendToQueue(q, Buffer.from(String(i)));
    assert.deepEqual(await ch.deleteQueue(q), { messageCount: 3 });
    assert.deepEqual(await ch.deleteQueue(q), { messageCount: 0 });
    await expectChannelError(conn, ch, () => ch.checkQueue(q), 404, `NOT_FOUND - no queue '${q}' in vhost '/'`);
  });

  test('queue.delete if-empty refuses a queue with messages → 406', async (t) => {
    await fresh();
    const q = await shared(t);
    ch.sendToQueue(q, Buffer.from('x'));
    await expectChannelError(conn, ch, () => ch.deleteQueue(q, { ifEmpty: true }), 406,
      `PRECONDITION_FAILED - queue '${q}' in vhost '/' not empty`);
  });

  test('queue.delete if-unused refuses a queue with consumers → 406', async (t) => {
    await fresh();
    const q = await shared(t);
    const other = await channel(conn);
    await consume(other, q);
    await expectChannelError(conn, ch, () => ch.deleteQueue(q, { ifUnused: true }), 406,
      `PRECONDITION_FAILED - queue '${q}' in vhost '/' in use`);
  });

  test('queue.delete if-unused / if-empty succeed on an idle empty queue', async () => {
    await fresh();
    const q = uniq('q');
    await ch.assertQueue(q, { durable: false });
    assert.deepEqual(await ch.deleteQueue(q, { ifUnused: true, ifEmpty: true }), { messageCount: 0 });
  });

  test('queue.bind and unbind; binding twice is idempotent', async () => {
    await fresh();
    const q = (await ch.assertQueue('', { exclusive: true })).queue;
    await ch.bindQueue(q, 'amq.direct', q);
    await ch.bindQueue(q, 'amq.direct', q);
    ch.publish('amq.direct', q, Buffer.from('bound'));
    assert.deepEqual(await drain(ch, q), ['bound']);
    await ch.unbindQueue(q, 'amq.direct', q);
    ch.publish('amq.direct', q, Buffer.from('unbound'));
    assert.deepEqual(await drain(ch, q), []);
  });

  test('deleting a queue removes its bindings', async () => {
    await fresh();
    const q = uniq('q');
    await ch.assertQueue(q, { durable: false });
    await ch.bindQueue(q, 'amq.direct', q);
    await ch.deleteQueue(q);
    await ch.assertQueue(q, { durable: false });
    ch.publish('amq.direct', q, Buffer.from('x'));
    assert.deepEqual(await drain(ch, q), []);
    await ch.deleteQueue(q);
  });

  test('a message is delivered in FIFO order', async () => {
    await fresh();
    const q = (await ch.assertQueue('', { exclusive: true })).queue;
    for (let i = 0; i < 50; i++) ch.sendToQueue(q, Buffer.from(String(i)));
    assert.deepEqual(await drain(ch, q), Array.from({ length: 50 }, (_, i) => String(i)));
  });

  test('unbinding from a missing queue or exchange is answered with unbind-ok (RabbitMQ 3.10 is lenient)', async () => {
    await fresh();
    const q = (await ch.assertQueue('', { exclusive: true })).queue;
    await ch.unbindQueue(uniq('missing'), 'amq.direct', 'k');
    await ch.unbindQueue(q, uniq('missing'), 'k');
    await ch.unbindExchange(uniq('missing'), 'amq.direct', 'k');
    await ch.unbindExchange('amq.fanout', 'amq.direct', 'never-bound');
  });

  test('declaring a shared queue as exclusive, even on its own connection → 405 RESOURCE_LOCKED', async (t) => {
    await fresh();
    const q = await shared(t);
    await expectChannelError(conn, ch, () => ch.assertQueue(q, { exclusive: true, durable: false, autoDelete: false }), 405,
      `RESOURCE_LOCKED - cannot obtain exclusive access to locked queue '${q}' in vhost '/'. ` +
      'It could be originally declared on another connection or the exclusive property value does not match that of the original declaration.');
  });
});
