/**
 * The admin flow of the README, end to end with amqplib: warrenctl creates henry, makes him an
 * administrator with full permissions on "/", henry publishes and consumes, and
 * `warrenctl list_queues name messages_ready messages_unacknowledged` shows the ready and
 * unacknowledged counts while messages wait and while they are out with henry's consumer.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ConsumeMessage } from 'amqplib';
import { connect } from './management-support.js';
import { warrenctlFixture } from './support/warrenctl.js';

describe('warrenctl admin flow', () => {
  const fixture = warrenctlFixture();
  const warrenctl = fixture.ok;

  const listQueues = () => warrenctl('list_queues', 'name', 'messages_ready', 'messages_unacknowledged');

  test('warrenctl admin flow: henry publishes and consumes; list_queues shows ready and unacked', async () => {
    await warrenctl('add_user', 'henry', '123');
    await warrenctl('set_user_tags', 'henry', 'administrator');
    await warrenctl('set_permissions', '-p', '/', 'henry', '.*', '.*', '.*');
    assert.match(await warrenctl('list_users', '-q'), /^henry\t\[administrator\]$/m);

    const conn = await connect(fixture.target.amqpUrl('henry', '123'));
    try {
      const ch = await conn.createChannel();
      await ch.assertQueue('henry-work', { durable: true });
      for (let i = 1; i <= 5; i++) ch.sendToQueue('henry-work', Buffer.from(`job ${i}`), { persistent: true });
      await ch.checkQueue('henry-work');
      assert.equal(await listQueues(), 'Timeout: 60.0 seconds ...\nListing queues for vhost / ...\nname\tmessages_ready\tmessages_unacknowledged\nhenry-work\t5\t0\n');

      // Two deliveries out (prefetch 2), not acked yet.
      await ch.prefetch(2);
      const received: ConsumeMessage[] = [];
      await ch.consume('henry-work', (m) => { if (m) received.push(m); }, { noAck: false });
      for (let i = 0; i < 200 && received.length < 2; i++) await new Promise((r) => setTimeout(r, 10));
      assert.equal(received.length, 2);
      assert.deepEqual(received.map((m) => m.content.toString()), ['job 1', 'job 2']);
      assert.equal(await listQueues(), 'Timeout: 60.0 seconds ...\nListing queues for vhost / ...\nname\tmessages_ready\tmessages_unacknowledged\nhenry-work\t3\t2\n');

      // Ack everything as it arrives: the queue drains.
      for (const m of received.splice(0)) ch.ack(m);
      for (let i = 0; i < 300; i++) {
        for (const m of received.splice(0)) ch.ack(m);
        if ((await warrenctl('-s', 'list_queues', 'messages_ready', 'messages_unacknowledged')) === '0\t0\n') break;
        await new Promise((r) => setTimeout(r, 10));
      }
      assert.equal(await warrenctl('-q', 'list_queues', 'name', 'messages_ready', 'messages_unacknowledged'), 'name\tmessages_ready\tmessages_unacknowledged\nhenry-work\t0\t0\n');
    } finally {
      await conn.close();
    }
  });
});
