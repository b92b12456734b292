// Publisher confirms: confirm.select, acks carrying publish sequence numbers (possibly batched with
// multiple), unroutable messages acked too, and confirm/tx exclusivity (406).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { brokerPerFile } from './support/broker-per-file.js';
import { uniq } from './support/test-broker.js';
import { RawConnection, publishFrames } from './support/raw-amqp.js';
import { Encoder, methodFrame } from './support/raw-codec.js';
import {
  confirmChannel, connect, expectChannelError, within,
} from './support/amqp-client.js';

describe('publisher confirms', () => {
  const b = brokerPerFile();
  const raws = b.raws;

  const rawConfirming = async () => {
    const { conn: r } = await RawConnection.handshake(b.host, b.port);
    raws.push(r);
    await r.openChannel(1);
    r.write(methodFrame(1, 85, 10, new Encoder().bit(false).done()));
    await r.expectMethod(85, 11);
    return r;
  };

  /** Reads basic.ack frames until every sequence number up to n is covered; returns [tag, multiple] pairs. */
  const readAcks = async (r: RawConnection, n: number) => {
    const acks: Array<[number, boolean]> = [];
    let confirmed = 0;
    while (confirmed < n) {
      const m = await r.nextMethod();
      assert.deepEqual([m.classId, m.methodId], [60, 80], 'expected basic.ack');
      const tag = Number(m.args.u64());
      const multiple = m.args.bit();
      assert.ok(tag > confirmed, `ack ${tag} (multiple=${multiple}) is not after ${confirmed}`);
      if (!multiple) assert.equal(tag, confirmed + 1, 'a single ack must confirm the next unconfirmed publish');
      acks.push([tag, multiple]);
      confirmed = tag;
    }
    return acks;
  };

  test('each publish is acked with its sequence number, starting at 1', async () => {
    const r = await rawConfirming();
    const q = await r.declareQueue(1, '', { exclusive: true });
    for (let i = 0; i < 3; i++) {
      r.publish(1, '', q, Buffer.from(String(i)));
      const ack = await r.expectMethod(60, 80);
      assert.equal(ack.args.u64(), BigInt(i + 1));
    }
  });

  test('a burst of publishes is confirmed exactly once each, possibly batched with multiple', async () => {
    const r = await rawConfirming();
    const q = await r.declareQueue(1, '', { exclusive: true });
    const frames: Buffer[] = [];
    for (let i = 0; i < 500; i++) frames.push(...publishFrames(1, '', q, Buffer.from(String(i))));
    r.write(Buffer.concat(frames));
    const acks = await readAcks(r, 500);
    assert.equal(acks[acks.length - 1]![0], 500);
  });

  test('unroutable messages are acked too', async () => {
    const r = await rawConfirming();
    r.publish(1, 'amq.direct', uniq('nobody'), Buffer.from('x'));
    const ack = await r.expectMethod(60, 80);
    assert.equal(ack.args.u64(), 1n);
  });

  test('confirm.select with no-wait gets no select-ok but confirms still come', async () => {
    const { conn: r } = await RawConnection.handshake(b.host, b.port);
    raws.push(r);
    await r.openChannel(1);
    r.write(methodFrame(1, 85, 10, new Encoder().bit(true).done()));
    r.publish(1, 'amq.direct', 'nowhere', Buffer.from('x'));
    const m = await r.nextMethod();
    assert.deepEqual([m.classId, m.methodId], [60, 80]);
  });

  test('confirm.select twice is fine', async () => {
    const r = await rawConfirming();
    r.write(methodFrame(1, 85, 10, new Encoder().bit(false).done()));
    await r.expectMethod(85, 11);
  });

  test('amqplib confirm channel: callbacks and waitForConfirms resolve', async () => {
    const conn = await connect(b.url);
    const ch = await confirmChannel(conn);
    const q = (await ch.assertQueue('', { exclusive: true })).queue;
    let acked = 0;
    for (let i = 0; i < 200; i++) ch.sendToQueue(q, Buffer.from(String(i)), {}, (err) => { if (!err) acked++; });
    await within(ch.waitForConfirms(), 5000, 'confirms');
    assert.equal(acked, 200);
    assert.equal((await ch.checkQueue(q)).messageCount, 200);
  });

  test('tx.select on a confirm channel → 406 PRECONDITION_FAILED', async () => {
    const r = await rawConfirming();
    await r.openChannel(2);
    r.write(methodFrame(1, 90, 10));
    const close = await r.expectChannelClose(1);
    assert.deepEqual(close, { code: 406, text: 'PRECONDITION_FAILED - cannot switch from confirm to tx mode', classId: 90, methodId: 10 });
    assert.match(await r.declareQueue(2, '', { exclusive: true }), /^amq\.gen-/, 'the connection survives');
  });

  test('confirm.select on a transactional channel → 406 PRECONDITION_FAILED', async () => {
    const { conn: r } = await RawConnection.handshake(b.host, b.port);
    raws.push(r);
    await r.openChannel(1);
    r.write(methodFrame(1, 90, 10));
    await r.expectMethod(90, 11);
    r.write(methodFrame(1, 85, 10, new Encoder().bit(false).done()));
    const close = await r.expectChannelClose(1);
    assert.deepEqual(close, { code: 406, text: 'PRECONDITION_FAILED - cannot switch from tx to confirm mode', classId: 85, methodId: 10 });
  });

  test('publishing to a missing exchange in confirm mode is a 404 channel error, not a nack', async () => {
    const conn = await connect(b.url);
    const ch = await confirmChannel(conn);
    const x = uniq('missing');
    await expectChannelError(conn, ch, () => ch.publish(x, 'k', Buffer.from('x')), 404, `NOT_FOUND - no exchange '${x}' in vhost '/'`);
  });

  test('confirms on different channels count independently', async () => {
    const conn = await connect(b.url);
    const a = await confirmChannel(conn);
    const z = await confirmChannel(conn);
    const q = (await a.assertQueue('', { exclusive: true })).queue;
    const zTags: number[] = [];
    z.on('ack', (f: { deliveryTag: number }) => zTags.push(f.deliveryTag));
    const results: string[] = [];
    const cb = (name: string) => (err: unknown) => results.push(err ? `${name}:nack` : `${name}:ack`);
    a.sendToQueue(q, Buffer.from('a1'), {}, cb('a1'));
    a.sendToQueue(q, Buffer.from('a2'), {}, cb('a2'));
    z.sendToQueue(q, Buffer.from('z1'), {}, cb('z1'));
    await within(Promise.all([a.waitForConfirms(), z.waitForConfirms()]), 3000, 'confirms');
    assert.deepEqual(results.sort(), ['a1:ack', 'a2:ack', 'z1:ack']);
    assert.deepEqual(zTags, [1], 'channel z numbers its own publishes from 1');
  });
});
