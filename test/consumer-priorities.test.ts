/**
 * Consumer priorities (x-priority) and single active consumer (x-single-active-consumer), checked
 * on RabbitMQ 3.10.8 (WARREN_TEST_REFERENCE runs the same bodies there): validation texts,
 * higher priorities served while they have prefetch room, equal priorities in turn, one active
 * consumer that hands over in order when it cancels or its channel closes, and the management
 * API's single_active_consumer_tag / activity_status.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Channel, ConsumeMessage } from 'amqplib';
import { apiOk, connect, eventually, seg, startTarget, uniqueName, type Target } from './management-support.js';

describe('consumer priorities and single active consumer', () => {
  let target: Target;
  const queues: string[] = [];
  before(async () => {
    target = await startTarget();
  });
  after(async () => {
    const conn = await connect(target.amqpUrl('guest', 'guest'));
    const ch = await conn.createChannel();
    for (const q of queues) await ch.deleteQueue(q);
    await conn.close();
    await target.close();
  });

  async function setup(args: Record<string, unknown> = {}) {
    const conn = await connect(target.amqpUrl('guest', 'guest'));
    const ch = await conn.createConfirmChannel();
    const q = uniqueName('cp');
    queues.push(q);
    await ch.assertQueue(q, { durable: false, arguments: args });
    return { conn, ch, q };
  }
  async function publish(ch: import('amqplib').ConfirmChannel, q: string, n: number, from = 0) {
    for (let i = from; i < from + n; i++) ch.sendToQueue(q, Buffer.from(String(i)));
    await ch.waitForConfirms();
  }
  /** A consumer on its own channel with the given prefetch; collects what it gets. */
  async function consumer(q: string, prefetch: number, args: Record<string, unknown> = {}, tag?: string) {
    const conn = await connect(target.amqpUrl('guest', 'guest'));
    const ch = await conn.createChannel();
    await ch.prefetch(prefetch);
    const got: ConsumeMessage[] = [];
    const { consumerTag } = await ch.consume(q, (m) => m && got.push(m), { arguments: args, ...(tag ? { consumerTag: tag } : {}) });
    return { conn, ch, got, consumerTag, bodies: () => got.map((m) => m.content.toString()) };
  }

  test('x-priority must be an integer (RabbitMQ\'s text); the capability is advertised', async () => {
    const { conn, q } = await setup();
    const ch: Channel = await conn.createChannel();
    ch.on('error', () => {});
    await assert.rejects(ch.consume(q, () => {}, { arguments: { 'x-priority': 'high' } }), (e: Error) =>
      e.message.includes(`PRECONDITION_FAILED - invalid arg 'x-priority' for queue '${q}' in vhost '/': "expected integer, got longstr"`));
    // A whole-number double is no integer either (amqplib's explicit type: 5.0 on the wire).
    const ch2: Channel = await conn.createChannel();
    ch2.on('error', () => {});
    await assert.rejects(ch2.consume(q, () => {}, { arguments: { 'x-priority': { '!': 'double', value: 5 } } }), (e: Error) =>
      e.message.includes(`PRECONDITION_FAILED - invalid arg 'x-priority' for queue '${q}' in vhost '/': "expected integer, got double"`));
    const props = (conn as unknown as { connection: { serverProperties: { capabilities: Record<string, unknown> } } }).connection.serverProperties;
    assert.equal(props.capabilities['consumer_priorities'], true);
    await conn.close();
  });

  test('the higher priority consumer gets messages while it has room; the lower one only the overflow', async () => {
    const { conn, ch, q } = await setup();
    const low = await consumer(q, 100, { 'x-priority': 1 });
    const high = await consumer(q, 3, { 'x-priority': 10 });
    await publish(ch, q, 5);
    await eventually(() => high.got.length === 3 && low.got.length === 2);
    assert.deepEqual(high.bodies(), ['0', '1', '2']);
    assert.deepEqual(low.bodies(), ['3', '4']);
    // The high one acks: it has room again and takes the next ones.
    for (const m of high.got) high.ch.ack(m);
    await high.ch.prefetch(3); // a round trip: the acks are in
    await publish(ch, q, 2, 5);
    await eventually(() => high.got.length === 5);
    assert.deepEqual(high.bodies().slice(3), ['5', '6']);
    assert.equal(low.got.length, 2);
    for (const c of [low, high]) await c.conn.close();
    await conn.close();
  });

  test('consumers of equal priority take turns', async () => {
    const { conn, ch, q } = await setup();
    const a = await consumer(q, 0, { 'x-priority': 5 });
    const b = await consumer(q, 0, { 'x-priority': 5 });
    const idle = await consumer(q, 0, {});
    await publish(ch, q, 6);
    await eventually(() => a.got.length + b.got.length === 6);
    assert.deepEqual(a.bodies(), ['0', '2', '4']);
    assert.deepEqual(b.bodies(), ['1', '3', '5']);
    assert.equal(idle.got.length, 0);
    for (const c of [a, b, idle]) await c.conn.close();
    await conn.close();
  });

  test('x-single-active-consumer must be a boolean', async () => {
    const conn = await connect(target.amqpUrl('guest', 'guest'));
    const ch = await conn.createChannel();
    ch.on('error', () => {});
    const q = uniqueName('sac-bad');
    await assert.rejects(ch.assertQueue(q, { durable: false, arguments: { 'x-single-active-consumer': 'yes' } }), (e: Error) =>
      e.message.includes(`PRECONDITION_FAILED - invalid arg 'x-single-active-consumer' for queue '${q}' in vhost '/': {unacceptable_type,longstr}`));
    await conn.close();
  });

  test('single active consumer: one gets everything; on cancel and on channel close the next takes over in order', async () => {
    const { conn, ch, q } = await setup({ 'x-single-active-consumer': true });
    const first = await consumer(q, 2, {}, 'first');
    const second = await consumer(q, 2, { 'x-priority': 9 }, 'second');
    const third = await consumer(q, 2, {}, 'third');
    await publish(ch, q, 6);
    await eventually(() => first.got.length === 2);
    assert.deepEqual(first.bodies(), ['0', '1']);
    assert.equal(second.got.length + third.got.length, 0);
    await eventually(async () => {
      const j = (await apiOk(target, 'GET', `/api/queues/%2F/${seg(q)}`)).body;
      const status = Object.fromEntries((j.consumer_details ?? []).map((c: { consumer_tag: string; activity_status: string; active: boolean }) =>
        [c.consumer_tag, `${c.activity_status}/${c.active}`]));
      return j.single_active_consumer_tag === 'first' &&
        JSON.stringify(status) === JSON.stringify({ ...status, first: 'single_active/true', second: 'waiting/false', third: 'waiting/false' }) &&
        Object.keys(status).length === 3;
    }, 15000);
    // The active consumer's channel closes with 0 and 1 unacked: the next one gets them first.
    await first.conn.close();
    await eventually(() => second.got.length === 2);
    assert.deepEqual(second.bodies(), ['0', '1']);
    assert.ok(second.got.every((m) => m.fields.redelivered));
    // It cancels and its connection goes: the third continues with the ready ones.
    await second.ch.cancel(second.consumerTag);
    for (const m of second.got) second.ch.ack(m);
    await second.ch.checkQueue(q); // a round trip through the queue: the acks are in
    await second.conn.close();
    await eventually(() => third.got.length === 2);
    assert.deepEqual(third.bodies(), ['2', '3']);
    await third.conn.close();
    await conn.close();
  });

  test('single active consumer: basic.cancel alone hands over (RabbitMQ 3.10 waits for the channel to close)', async (t) => {
    if (target.isReference) return t.skip('RabbitMQ 3.10 hands over only when the channel closes');
    const { conn, ch, q } = await setup({ 'x-single-active-consumer': true });
    const first = await consumer(q, 1, {}, 'first');
    const second = await consumer(q, 1, {}, 'second');
    await publish(ch, q, 3);
    await eventually(() => first.got.length === 1);
    await first.ch.cancel('first');
    await eventually(() => second.got.length === 1);
    assert.deepEqual(second.bodies(), ['1']);
    for (const c of [first, second]) await c.conn.close();
    await conn.close();
  });
});
