// Auto-delete queues go when their last consumer goes (cancel, channel close, connection close),
// never before they had one; auto-delete exchanges go when their last binding goes.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { brokerPerFile } from './support/broker-per-file.js';
import { uniq } from './support/test-broker.js';
import { channel, connect, consume, eventually, expectChannelError, type ChannelModel } from './support/amqp-client.js';

describe('auto-delete', () => {
  const b = brokerPerFile();

  const exists = async (conn: ChannelModel, q: string) => {
    const ch = await channel(conn);
    return ch.checkQueue(q).then(async () => { await ch.close(); return true; }, () => false);
  };

  test('an auto-delete queue without consumers yet stays', async () => {
    const conn = await connect(b.url);
    const ch = await channel(conn);
    const q = uniq('ad');
    await ch.assertQueue(q, { autoDelete: true, durable: false });
    assert.equal(await exists(conn, q), true);
    await ch.deleteQueue(q);
  });

  test('it is deleted when its last consumer cancels, not when the first of two does', async () => {
    const conn = await connect(b.url);
    const ch = await channel(conn);
    const q = uniq('ad');
    await ch.assertQueue(q, { autoDelete: true, durable: false });
    const a = await consume(ch, q);
    const z = await consume(ch, q);
    await ch.cancel(a.consumerTag);
    assert.equal(await exists(conn, q), true);
    await ch.cancel(z.consumerTag);
    await eventually(async () => !(await exists(conn, q)), 'the queue auto-deleted');
    assert.equal(await exists(conn, q), false);
  });

  test('it is deleted when the channel of its last consumer closes', async () => {
    const conn = await connect(b.url);
    const ch = await channel(conn);
    const q = uniq('ad');
    await ch.assertQueue(q, { autoDelete: true, durable: false });
    await consume(ch, q);
    await ch.close();
    await eventually(async () => !(await exists(conn, q)), 'the queue auto-deleted');
    assert.equal(await exists(conn, q), false);
  });

  test('it is deleted when the connection of its last consumer closes', async () => {
    const owner = await connect(b.url);
    const watcher = await connect(b.url);
    const ch = await channel(owner);
    const q = uniq('ad');
    await ch.assertQueue(q, { autoDelete: true, durable: false });
    await consume(ch, q);
    await owner.close();
    await eventually(async () => !(await exists(watcher, q)), 'the queue auto-deleted');
    assert.equal(await exists(watcher, q), false);
  });

  test('messages still queued are dropped with it', async () => {
    const conn = await connect(b.url);
    const ch = await channel(conn);
    const q = uniq('ad');
    await ch.assertQueue(q, { autoDelete: true, durable: false });
    const inbox = await consume(ch, q);
    ch.sendToQueue(q, Buffer.from('x'));
    await inbox.waitFor(1);
    await ch.cancel(inbox.consumerTag);
    await eventually(async () => !(await exists(conn, q)), 'the queue auto-deleted');
    const ch2 = await channel(conn);
    await expectChannelError(conn, ch2, () => ch2.checkQueue(q), 404, `NOT_FOUND - no queue '${q}' in vhost '/'`);
  });

  test('an auto-delete exchange survives until its last binding is removed', async () => {
    const conn = await connect(b.url);
    const ch = await channel(conn);
    const x = uniq('adx');
    await ch.assertExchange(x, 'fanout', { autoDelete: true, durable: false });
    const q = (await ch.assertQueue('', { exclusive: true })).queue;
    await ch.bindQueue(q, x, '');
    await ch.checkExchange(x);
    await ch.deleteQueue(q);
    await expectChannelError(conn, ch, () => ch.checkExchange(x), 404, `NOT_FOUND - no exchange '${x}' in vhost '/'`);
  });

  test('an auto-delete exchange used as an exchange-to-exchange source goes with its last binding', async () => {
    const conn = await connect(b.url);
    const ch = await channel(conn);
    const x = uniq('adx');
    await ch.assertExchange(x, 'fanout', { autoDelete: true, durable: false });
    await ch.bindExchange('amq.fanout', x, '');
    await ch.unbindExchange('amq.fanout', x, '');
    await expectChannelError(conn, ch, () => ch.checkExchange(x), 404, `NOT_FOUND - no exchange '${x}' in vhost '/'`);
  });
});
