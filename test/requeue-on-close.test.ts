// Unacked messages go back to the queue when their channel or connection closes, or the socket just
// dies, and go back to their original position with redelivered=true, ahead of newer messages.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { brokerPerFile } from './support/broker-per-file.js';
import { uniq } from './support/test-broker.js';
import { RawConnection, basicConsumeArgs } from './support/raw-amqp.js';
import { methodFrame } from './support/raw-codec.js';
import { channel, connect, consume, eventually, roundTrip, type Channel } from './support/amqp-client.js';

describe('requeue on close', () => {
  const b = brokerPerFile();
  const raws = b.raws;

  /** A shared (non-exclusive, auto-delete) queue with n messages, and a channel on a watcher connection. */
  const sharedQueue = async (n: number): Promise<{ q: string; watch: Channel }> => {
    const conn = await connect(b.url);
    const watch = await channel(conn);
    const q = uniq('rq');
    await watch.assertQueue(q, { durable: false, autoDelete: false });
    for (let i = 0; i < n; i++) watch.sendToQueue(q, Buffer.from(String(i)));
    await roundTrip(watch);
    return { q, watch };
  };
  const cleanup = async (watch: Channel, q: string) => {
    await watch.deleteQueue(q);
  };
  const describeGets = async (ch: Channel, q: string) => {
    const out: string[] = [];
    for (;;) {
      const m = await ch.get(q, { noAck: true });
      if (!m) return out;
      out.push(`${m.content}${m.fields.redelivered ? '*' : ''}`);
    }
  };

  test('rejected messages return to their original position, redelivered', async () => {
    const { q, watch } = await sharedQueue(6);
    const got = [await watch.get(q), await watch.get(q), await watch.get(q)];
    watch.reject(got[1] as never, true);
    watch.reject(got[0] as never, true);
    watch.reject(got[2] as never, true);
    assert.deepEqual(await describeGets(watch, q), ['0*', '1*', '2*', '3', '4', '5']);
    await cleanup(watch, q);
  });

  test('closing a channel requeues its unacked messages to their original positions', async () => {
    const { q, watch } = await sharedQueue(6);
    const conn = await connect(b.url);
    const ch = await channel(conn);
    await ch.prefetch(3);
    const a = await consume(ch, q);
    const z = await consume(ch, q);
    await a.waitFor(3);
    await z.waitFor(3);
    ch.ack(z.messages[2]!);
    await ch.close();
    await eventually(async () => (await watch.checkQueue(q)).messageCount === 5, 'the unacked messages requeued on close');
    assert.deepEqual(await describeGets(watch, q), ['0*', '1*', '2*', '3*', '4*']);
    await cleanup(watch, q);
  });

  test('a closed connection\'s unacked messages go to another consumer, redelivered', async () => {
    const { q, watch } = await sharedQueue(4);
    const conn = await connect(b.url);
    const ch = await channel(conn);
    await ch.prefetch(2);
    const first = await consume(ch, q);
    await first.waitFor(2);
    const other = await consume(watch, q);
    await other.waitFor(2);
    assert.deepEqual(other.bodies(), ['2', '3']);
    watch.sendToQueue(q, Buffer.from('new'));
    await roundTrip(watch);
    await conn.close();
    await other.waitFor(5);
    assert.deepEqual(other.messages.map((m) => `${m.content}${m.fields.redelivered ? '*' : ''}`), ['2', '3', 'new', '0*', '1*']);
    await watch.cancel(other.consumerTag);
    await cleanup(watch, q);
  });

  test('a socket that just dies has its unacked messages redelivered to another consumer', async () => {
    const { q, watch } = await sharedQueue(3);
    const { conn: r } = await RawConnection.handshake(b.host, b.port);
    raws.push(r);
    await r.openChannel(1);
    r.write(methodFrame(1, 60, 20, basicConsumeArgs(q, 'doomed', false)));
    await r.expectMethod(60, 21);
    for (let i = 0; i < 3; i++) {
      await r.expectMethod(60, 60);
      await r.readContent();
    }
    const other = await consume(watch, q);
    await roundTrip(watch);
    assert.equal(other.messages.length, 0, 'nothing is free while the raw consumer holds all');
    r.destroy();
    await other.waitFor(3);
    assert.deepEqual(other.messages.map((m) => `${m.content}${m.fields.redelivered ? '*' : ''}`), ['0*', '1*', '2*']);
    await watch.cancel(other.consumerTag);
    await cleanup(watch, q);
  });

  test('messages taken with basic.get are requeued when the channel closes', async () => {
    const { q, watch } = await sharedQueue(2);
    const conn = await connect(b.url);
    const ch = await channel(conn);
    assert.ok(await ch.get(q));
    assert.ok(await ch.get(q));
    await ch.close();
    await eventually(async () => (await watch.checkQueue(q)).messageCount === 2, 'the unacked messages requeued on close');
    assert.deepEqual(await describeGets(watch, q), ['0*', '1*']);
    await cleanup(watch, q);
  });
});
