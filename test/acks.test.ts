// basic.ack / basic.nack / basic.reject with multiple and requeue; unknown delivery tags are
// 406 PRECONDITION_FAILED channel errors; delivery tags are per channel.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { brokerPerFile } from './support/broker-per-file.js';
import { RawConnection } from './support/raw-amqp.js';
import { Encoder, methodFrame } from './support/raw-codec.js';
import {
  channel, connect, consume, drain, eventually, expectChannelError, roundTrip, type Channel, type ChannelModel,
} from './support/amqp-client.js';

describe('acks', () => {
  const b = brokerPerFile();
  const raws = b.raws;

  const loaded = async (n: number): Promise<{ conn: ChannelModel; ch: Channel; q: string }> => {
    const conn = await connect(b.url);
    const ch = await channel(conn);
    const q = (await ch.assertQueue('', { exclusive: true })).queue;
    for (let i = 0; i < n; i++) ch.sendToQueue(q, Buffer.from(String(i)));
    await roundTrip(ch);
    return { conn, ch, q };
  };
  const counts = async (ch: Channel, q: string) => (await ch.checkQueue(q)).messageCount;

  test('delivery tags count from 1 per channel', async () => {
    const { conn, ch, q } = await loaded(3);
    const inbox = await consume(ch, q);
    await inbox.waitFor(3);
    assert.deepEqual(inbox.messages.map((m) => m.fields.deliveryTag), [1, 2, 3]);
    const ch2 = await channel(conn);
    ch2.sendToQueue(q, Buffer.from('x'));
    const q2 = (await ch2.assertQueue('', { exclusive: true })).queue;
    ch2.sendToQueue(q2, Buffer.from('y'));
    const m = await ch2.get(q2);
    assert.equal(m && m.fields.deliveryTag, 1);
  });

  test('ack removes a message for good; multiple acks everything up to the tag', async () => {
    const { conn, ch, q } = await loaded(5);
    const inbox = await consume(ch, q);
    await inbox.waitFor(5);
    ch.ack(inbox.messages[0]!);
    ch.ack(inbox.messages[3]!, true);
    await ch.cancel(inbox.consumerTag);
    // Cancelling does not requeue; closing the channel requeues only the one never acked.
    assert.equal(await counts(ch, q), 0);
    await ch.close();
    const ch2 = await channel(conn);
    await eventually(async () => (await ch2.checkQueue(q)).messageCount === 1, 'the unacked message requeued on close');
    assert.deepEqual(await drain(ch2, q), ['4']);
  });

  test('nack multiple with requeue puts the messages back in order, redelivered', async () => {
    const { ch, q } = await loaded(4);
    const inbox = await consume(ch, q);
    await inbox.waitFor(4);
    await ch.cancel(inbox.consumerTag);
    ch.nack(inbox.messages[2]!, true, true);
    const first = await ch.get(q, { noAck: true });
    assert.ok(first);
    assert.equal(first.content.toString(), '0');
    assert.equal(first.fields.redelivered, true);
    assert.deepEqual(await drain(ch, q), ['1', '2']);
  });

  test('reject without requeue drops the message; with requeue it comes back redelivered', async () => {
    const { ch, q } = await loaded(2);
    const a = await ch.get(q);
    const z = await ch.get(q);
    assert.ok(a && z);
    ch.reject(a, false);
    ch.reject(z, true);
    const again = await ch.get(q, { noAck: true });
    assert.ok(again);
    assert.equal(again.content.toString(), '1');
    assert.equal(again.fields.redelivered, true);
    assert.equal(await ch.get(q), false);
  });

  test('nack without requeue drops the messages', async () => {
    const { ch, q } = await loaded(3);
    const inbox = await consume(ch, q);
    await inbox.waitFor(3);
    ch.nack(inbox.messages[2]!, true, false);
    await ch.cancel(inbox.consumerTag);
    assert.equal(await counts(ch, q), 0);
  });

  test('ack of an unknown delivery tag → 406 PRECONDITION_FAILED, a channel error', async () => {
    const { conn, ch } = await loaded(0);
    await expectChannelError(conn, ch, () => ch.ack({ fields: { deliveryTag: 42 } } as never), 406,
      'PRECONDITION_FAILED - unknown delivery tag 42');
  });

  test('acking the same delivery twice → 406 unknown delivery tag', async () => {
    const { conn, ch, q } = await loaded(1);
    const m = await ch.get(q);
    assert.ok(m);
    ch.ack(m);
    await expectChannelError(conn, ch, () => ch.ack(m), 406, 'PRECONDITION_FAILED - unknown delivery tag 1');
  });

  test('nack and reject of unknown tags → 406 too', async () => {
    const { conn, ch } = await loaded(0);
    await expectChannelError(conn, ch, () => ch.nack({ fields: { deliveryTag: 7 } } as never), 406, 'PRECONDITION_FAILED - unknown delivery tag 7');
    const ch2 = await channel(conn);
    await expectChannelError(conn, ch2, () => ch2.reject({ fields: { deliveryTag: 8 } } as never), 406, 'PRECONDITION_FAILED - unknown delivery tag 8');
  });

  test('the channel error for an unknown tag names basic.ack (60.80)', async () => {
    const { conn: r } = await RawConnection.handshake(b.host, b.port);
    raws.push(r);
    await r.openChannel(1);
    r.write(methodFrame(1, 60, 80, new Encoder().u64(99).bit(false).done()));
    const close = await r.expectChannelClose(1);
    assert.deepEqual(close, { code: 406, text: 'PRECONDITION_FAILED - unknown delivery tag 99', classId: 60, methodId: 80 });
  });

  test('a delivery from a no-ack consumer cannot be acked → 406', async () => {
    const { conn, ch, q } = await loaded(1);
    const inbox = await consume(ch, q, { noAck: true });
    const [m] = await inbox.waitFor(1);
    await expectChannelError(conn, ch, () => ch.ack(m!), 406, 'PRECONDITION_FAILED - unknown delivery tag 1');
  });

  test('a delivery tag from another channel is unknown here → 406', async () => {
    const { conn, ch, q } = await loaded(1);
    const m = await ch.get(q);
    assert.ok(m);
    const other = await channel(conn);
    await expectChannelError(conn, other, () => other.ack(m), 406, 'PRECONDITION_FAILED - unknown delivery tag 1');
  });

  test('ack with multiple and tag 0 acks everything outstanding', async () => {
    const { ch, q } = await loaded(4);
    const inbox = await consume(ch, q);
    await inbox.waitFor(4);
    ch.ackAll();
    await ch.cancel(inbox.consumerTag);
    await ch.recover();
    assert.equal(await counts(ch, q), 0);
  });

  test('nack with multiple and tag 0 requeues everything outstanding', async () => {
    const { ch, q } = await loaded(3);
    const inbox = await consume(ch, q);
    await inbox.waitFor(3);
    await ch.cancel(inbox.consumerTag);
    ch.nackAll(true);
    assert.equal(await counts(ch, q), 3);
  });

  test('one delivery left unacked while thousands after it are acked: the books stay right', async () => {
    const n = 3000;
    const { conn, ch, q } = await loaded(n);
    await ch.prefetch(10);
    const seen: number[] = [];
    const first = await new Promise<{ fields: { deliveryTag: number } }>((resolve, reject) => {
      let held: { fields: { deliveryTag: number } } | undefined;
      ch.consume(q, (m) => {
        if (!m) return reject(new Error('cancelled'));
        seen.push(m.fields.deliveryTag);
        // Tag 1 stays out; every later one is acked as it comes, some out of order.
        if (m.fields.deliveryTag === 1) held = m as never;
        else if (m.fields.deliveryTag % 7 === 0) setTimeout(() => ch.ack(m), 1);
        else ch.ack(m);
        if (seen.length === n) resolve(held!);
      }).catch(reject);
    });
    assert.equal(first.fields.deliveryTag, 1);
    await roundTrip(ch);
    await eventually(async () => (await counts(ch, q)) === 0, 'all delivered');
    // The held one is still out (nack puts it back, to the same consumer); an acked tag is unknown.
    ch.nack(first as never, false, true);
    await eventually(() => seen.length === n + 1, 'the held delivery redelivered');
    assert.equal(seen[n], n + 1);
    await expectChannelError(conn, ch, () => ch.ack({ fields: { deliveryTag: 2 } } as never), 406, 'PRECONDITION_FAILED - unknown delivery tag 2');
  });

  test('acks in any order, then multiple and tag-0 acks, settle exactly what is outstanding', async () => {
    const n = 500;
    const { conn, ch, q } = await loaded(n);
    const inbox = await consume(ch, q);
    const all = await inbox.waitFor(n);
    await ch.cancel(inbox.consumerTag);
    // Every third from the back, then a multiple ack halfway, then nack (requeue) the rest at once.
    for (let i = n - 1; i >= 0; i -= 3) ch.ack(all[i]!);
    ch.ack(all[249]!, true);
    ch.nackAll(true);
    await roundTrip(ch);
    const left = await drain(ch, q);
    const expected = all.slice(250).filter((_, k) => (n - 1 - (k + 250)) % 3 !== 0).map((m) => m.content.toString());
    assert.deepEqual(left, expected);
    await expectChannelError(conn, ch, () => ch.ack(all[0]!), 406, 'PRECONDITION_FAILED - unknown delivery tag 1');
  });

  describe('multiple=true needs the named tag itself to be outstanding (raw)', () => {
    /** Raw channel 1 holding deliveries 1..3 from basic.get (manual ack). */
    const holding = async () => {
      const { conn: r } = await RawConnection.handshake(b.host, b.port);
      raws.push(r);
      await r.openChannel(1);
      const q = await r.declareQueue(1, '', { exclusive: true });
      for (let i = 0; i < 3; i++) r.publish(1, '', q, Buffer.from(`m${i}`));
      for (let i = 0; i < 3; i++) assert.ok(await r.get(1, q, false));
      return { r, q };
    };
    const ack = (tag: number, multiple: boolean) => methodFrame(1, 60, 80, new Encoder().u64(tag).bit(multiple).done());

    test('ack multiple with a tag never delivered → 406', async () => {
      const { r } = await holding();
      r.write(ack(5, true));
      assert.deepEqual(await r.expectChannelClose(1), { code: 406, text: 'PRECONDITION_FAILED - unknown delivery tag 5', classId: 60, methodId: 80 });
    });

    test('ack multiple with a tag already acked → 406, even though older ones are outstanding', async () => {
      const { r } = await holding();
      r.write(ack(2, false));
      r.write(ack(2, true));
      assert.deepEqual(await r.expectChannelClose(1), { code: 406, text: 'PRECONDITION_FAILED - unknown delivery tag 2', classId: 60, methodId: 80 });
    });

    test('ack multiple skips over tags already acked', async () => {
      const { r, q } = await holding();
      r.write(ack(2, false));
      r.write(ack(3, true));
      r.write(methodFrame(1, 60, 110, new Encoder().bit(true).done()));
      await r.expectMethod(60, 111);
      assert.equal(await r.get(1, q), undefined, 'everything was acked: nothing to recover');
    });

    test('nack multiple with an unknown tag → 406 naming basic.nack', async () => {
      const { r } = await holding();
      r.write(methodFrame(1, 60, 120, new Encoder().u64(9).bit(true).bit(true).done()));
      assert.deepEqual(await r.expectChannelClose(1), { code: 406, text: 'PRECONDITION_FAILED - unknown delivery tag 9', classId: 60, methodId: 120 });
    });

    test('ack tag 0 without multiple → 406; with multiple and nothing outstanding it is a no-op', async () => {
      const { r, q } = await holding();
      r.write(ack(0, true));
      r.write(ack(0, true));
      r.write(methodFrame(1, 60, 110, new Encoder().bit(true).done()));
      await r.expectMethod(60, 111);
      assert.equal(await r.get(1, q), undefined);
      r.write(ack(0, false));
      assert.deepEqual(await r.expectChannelClose(1), { code: 406, text: 'PRECONDITION_FAILED - unknown delivery tag 0', classId: 60, methodId: 80 });
    });
  });
});
