// basic.qos with RabbitMQ's semantics: prefetch_count with global=false limits each consumer created
// afterwards; global=true limits the whole channel; both can apply at once; 0 means no limit.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { brokerPerFile } from './support/broker-per-file.js';
import { RawConnection } from './support/raw-amqp.js';
import { Encoder, methodFrame } from './support/raw-codec.js';
import { channel, connect, consume, sleep, type Channel, type Inbox } from './support/amqp-client.js';

describe('prefetch', () => {
  const b = brokerPerFile();
  const raws = b.raws;

  /** A channel with a fresh exclusive queue holding `n` messages. */
  const loaded = async (n: number): Promise<{ ch: Channel; q: string }> => {
    const conn = await connect(b.url);
    const ch = await channel(conn);
    const q = (await ch.assertQueue('', { exclusive: true })).queue;
    for (let i = 0; i < n; i++) ch.sendToQueue(q, Buffer.from(String(i)));
    return { ch, q };
  };
  /**
   * Waits until `expected` deliveries arrived in total, then a little longer, so a count that is too
   * high shows up too (robust on a slow machine, unlike a fixed sleep).
   */
  const settle = async (inboxes: Inbox[], expected: number) => {
    const total = () => inboxes.reduce((n, i) => n + i.messages.length, 0);
    for (let i = 0; i < 200 && total() < expected; i++) await sleep(10);
    await sleep(100);
    return total();
  };

  test('per-consumer prefetch: a consumer gets at most N unacked; each ack lets one more through', async () => {
    const { ch, q } = await loaded(10);
    await ch.prefetch(2);
    const inbox = await consume(ch, q);
    assert.equal(await settle([inbox], 2), 2);
    ch.ack(inbox.messages[0]!);
    assert.equal(await settle([inbox], 3), 3);
    ch.ack(inbox.messages[2]!, true);
    assert.equal(await settle([inbox], 5), 5);
    assert.deepEqual(inbox.bodies(), ['0', '1', '2', '3', '4']);
  });

  test('per-consumer prefetch applies to each consumer of the channel separately', async () => {
    const { ch, q } = await loaded(10);
    await ch.prefetch(2, false);
    const a = await consume(ch, q);
    const z = await consume(ch, q);
    await settle([a, z], 4);
    assert.deepEqual([a.messages.length, z.messages.length], [2, 2]);
  });

  test('global prefetch is shared by all consumers of the channel', async () => {
    const { ch, q } = await loaded(10);
    await ch.prefetch(3, true);
    const a = await consume(ch, q);
    const z = await consume(ch, q);
    assert.equal(await settle([a, z], 3), 3);
    ch.ack((a.messages[0] ?? z.messages[0])!);
    assert.equal(await settle([a, z], 4), 4);
  });

  // The order of RabbitMQ's documentation example (per-consumer, then global). In 3.10 the other
  // order leaves the global limit unenforced, which looks accidental, so it is not asserted.
  test('global and per-consumer limits both apply', async () => {
    const { ch, q } = await loaded(20);
    await ch.prefetch(2, false);
    await ch.prefetch(5, true);
    const consumers = [await consume(ch, q), await consume(ch, q), await consume(ch, q)];
    await settle(consumers, 5);
    const counts = consumers.map((c) => c.messages.length);
    assert.equal(counts.reduce((x, y) => x + y), 5, `counts ${counts}`);
    for (const n of counts) assert.ok(n <= 2, `counts ${counts}`);
  });

  test('per-consumer prefetch only affects consumers created after basic.qos', async () => {
    const { ch, q } = await loaded(0);
    const unlimited = await consume(ch, q);
    await ch.prefetch(1);
    const limited = await consume(ch, q);
    for (let i = 0; i < 10; i++) ch.sendToQueue(q, Buffer.from(String(i)));
    await settle([unlimited, limited], 10);
    assert.deepEqual([unlimited.messages.length, limited.messages.length], [9, 1]);
  });

  test('prefetch 0 means no limit', async () => {
    const { ch, q } = await loaded(50);
    await ch.prefetch(0);
    const inbox = await consume(ch, q);
    await inbox.waitFor(50);
  });

  test('no-ack consumers ignore prefetch', async () => {
    const { ch, q } = await loaded(20);
    await ch.prefetch(1);
    const inbox = await consume(ch, q, { noAck: true });
    await inbox.waitFor(20);
  });

  test('reject and nack free prefetch credit', async () => {
    const { ch, q } = await loaded(10);
    await ch.prefetch(2);
    const inbox = await consume(ch, q);
    assert.equal(await settle([inbox], 2), 2);
    ch.reject(inbox.messages[0]!, false);
    ch.nack(inbox.messages[1]!, false, false);
    assert.equal(await settle([inbox], 4), 4);
    assert.deepEqual(inbox.bodies(), ['0', '1', '2', '3']);
  });

  test('basic.get is not limited by prefetch', async () => {
    const { ch, q } = await loaded(5);
    await ch.prefetch(1, true);
    for (let i = 0; i < 5; i++) assert.ok(await ch.get(q, { noAck: false }));
  });

  test('raising the prefetch of a channel lets more through at once', async () => {
    const { ch, q } = await loaded(10);
    await ch.prefetch(1, true);
    const inbox = await consume(ch, q);
    assert.equal(await settle([inbox], 1), 1);
    await ch.prefetch(4, true);
    assert.equal(await settle([inbox], 4), 4);
  });

  test('basic.qos with prefetch_size ≠ 0 → 540 NOT_IMPLEMENTED', async () => {
    const { conn: r } = await RawConnection.handshake(b.host, b.port);
    raws.push(r);
    await r.openChannel(1);
    r.write(methodFrame(1, 60, 10, new Encoder().u32(1000).u16(1).bit(false).done()));
    const close = await r.expectConnectionClose();
    assert.equal(close.code, 540);
    assert.equal(close.text, 'NOT_IMPLEMENTED - prefetch_size!=0 (1000)');
  });
});
