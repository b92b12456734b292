// Stream queues over AMQP 0-9-1 (x-queue-type: stream), RabbitMQ 3.10's semantics: declaration rules
// and their 406 texts, consumers that read without removing from an x-stream-offset, the
// x-stream-offset header, prefetch required, manual acks only, and basic.get / purge / nack / reject
// refused with 540. Every test body here also passes against RabbitMQ 3.10.8 with rabbitmq_stream
// (WARREN_TEST_AMQP_URL=amqp://guest:guest@127.0.0.1:5689).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { uniq } from './support/test-broker.js';
import { brokerPerFile } from './support/broker-per-file.js';
import {
  channel, confirmChannel, connect, consume, expectChannelError, expectConnectionError, type Channel,
} from './support/amqp-client.js';

const STREAM = { 'x-queue-type': 'stream' };

describe('stream queues over AMQP 0-9-1', () => {
  const b = brokerPerFile();

  /** A new stream holding `bodies`, published with confirms (so each publish round is on disk). */
  async function streamWith(bodies: string[], name = uniq('sq')): Promise<string> {
    const conn = await connect(b.url);
    const ch = await confirmChannel(conn);
    await ch.assertQueue(name, { durable: true, arguments: STREAM });
    for (const body of bodies) ch.sendToQueue(name, Buffer.from(body), { headers: { n: body } });
    await ch.waitForConfirms();
    await conn.close();
    return name;
  }

  async function consumer(q: string, offset: unknown, prefetch = 100): Promise<{ ch: Channel; inbox: Awaited<ReturnType<typeof consume>> }> {
    const conn = await connect(b.url);
    const ch = await channel(conn);
    await ch.prefetch(prefetch);
    const inbox = await consume(ch, q, offset === undefined ? {} : { arguments: { 'x-stream-offset': offset } });
    return { ch, inbox };
  }

  test('declaration rules: durable, not exclusive, not auto-delete, named, stream arguments only (406 texts)', async () => {
    const conn = await connect(b.url);
    const cases: [string, Record<string, unknown>, string][] = [
      ['nd', { durable: false }, "PRECONDITION_FAILED - invalid property 'non-durable' for queue '%' in vhost '/'"],
      ['ex', { durable: true, exclusive: true }, "PRECONDITION_FAILED - invalid property 'exclusive-owner' for queue '%' in vhost '/'"],
      ['ad', { durable: true, autoDelete: true }, "PRECONDITION_FAILED - invalid property 'auto-delete' for queue '%' in vhost '/'"],
      ['ml', { durable: true, arguments: { ...STREAM, 'x-max-length': 10 } }, "PRECONDITION_FAILED - invalid arg 'x-max-length' for queue '%' in vhost '/' of queue type rabbit_stream_queue"],
      ['ttl', { durable: true, arguments: { ...STREAM, 'x-message-ttl': 10 } }, "PRECONDITION_FAILED - invalid arg 'x-message-ttl' for queue '%' in vhost '/' of queue type rabbit_stream_queue"],
      ['mem', { durable: true, arguments: { ...STREAM, 'x-max-in-memory-length': 2 } }, "PRECONDITION_FAILED - invalid arg 'x-max-in-memory-length' for queue '%' in vhost '/' of queue type rabbit_stream_queue"],
      ['ver', { durable: true, arguments: { ...STREAM, 'x-queue-version': 2 } }, "PRECONDITION_FAILED - invalid arg 'x-queue-version' for queue '%' in vhost '/' of queue type rabbit_stream_queue"],
      ['age', { durable: true, arguments: { ...STREAM, 'x-max-age': '10x' } }, "PRECONDITION_FAILED - invalid arg 'x-max-age' for queue '%' in vhost '/': invalid_max_age"],
    ];
    for (const [tag, options, text] of cases) {
      const name = uniq(`sq-${tag}`);
      const ch = await channel(conn);
      await expectChannelError(conn, ch, () => ch.assertQueue(name, { arguments: STREAM, ...options }), 406, text.replace('%', name));
    }
    const ch = await channel(conn);
    await expectChannelError(conn, ch, () => ch.assertQueue('', { durable: true, arguments: STREAM }), 406,
      'PRECONDITION_FAILED - Cannot declare a server-named queue for type rabbit_stream_queue');
    const ok = await channel(conn);
    const name = uniq('sq-ok');
    await ok.assertQueue(name, { durable: true, arguments: { ...STREAM, 'x-max-length-bytes': 20_000_000, 'x-max-age': '1h', 'x-stream-max-segment-size-bytes': 1_000_000 } });
    await ok.checkQueue(name);
    await ok.deleteQueue(name);
  });

  test('every consumer reads every message, each with an x-stream-offset header; nothing is removed', async () => {
    const q = await streamWith(['m0', 'm1', 'm2']);
    const a = await consumer(q, 'first');
    const c = await consumer(q, 'first');
    for (const { inbox } of [a, c]) {
      const got = await inbox.waitFor(3);
      assert.deepEqual(got.map((m) => m.content.toString()), ['m0', 'm1', 'm2']);
      assert.deepEqual(got.map((m) => m.properties.headers?.['x-stream-offset']), [0, 1, 2]);
      assert.deepEqual(got.map((m) => m.properties.headers?.['n']), ['m0', 'm1', 'm2']);
    }
    for (const m of a.inbox.messages) a.ch.ack(m);
    const again = await consumer(q, 'first');
    assert.equal((await again.inbox.waitFor(3)).length, 3, 'acked messages are still in the stream');
  });

  test('x-stream-offset: next, numeric, last (the last chunk), a timestamp, an interval', async () => {
    const q = await streamWith(['m0', 'm1', 'm2', 'm3']);
    await streamWith(['m4'], q); // a later publish round: its own chunk
    const numeric = await consumer(q, 3);
    assert.deepEqual((await numeric.inbox.waitFor(2)).map((m) => m.content.toString()), ['m3', 'm4'], 'records below the offset are not delivered');
    const last = await consumer(q, 'last');
    assert.deepEqual((await last.inbox.waitFor(1)).map((m) => m.content.toString()), ['m4']);
    const interval = await consumer(q, '10m');
    assert.equal((await interval.inbox.waitFor(5)).length, 5);
    const future = await consumer(q, { '!': 'timestamp', value: Math.floor(Date.now() / 1000) + 60 });
    const next = await consumer(q, 'next');
    await streamWith(['m5'], q);
    assert.deepEqual((await next.inbox.waitFor(1)).map((m) => m.content.toString()), ['m5']);
    assert.deepEqual((await future.inbox.waitFor(1)).map((m) => m.content.toString()), ['m5']);
    assert.equal(next.inbox.messages.length, 1);
  });

  test('acks give credit: prefetch 1 still reads the whole stream, one ack at a time', async () => {
    const q = uniq('sq-credit');
    const conn = await connect(b.url);
    const pub = await confirmChannel(conn);
    await pub.assertQueue(q, { durable: true, arguments: STREAM });
    for (let i = 0; i < 5; i++) {
      pub.sendToQueue(q, Buffer.from(`c${i}`));
      await pub.waitForConfirms(); // one chunk per message, so prefetch 1 holds back the next one
    }
    const { ch, inbox } = await consumer(q, 'first', 1);
    for (let i = 1; i <= 5; i++) {
      const got = await inbox.waitFor(i);
      ch.ack(got[i - 1]!);
    }
    assert.deepEqual(inbox.bodies(), ['c0', 'c1', 'c2', 'c3', 'c4']);
  });

  test('consuming without a prefetch is 406; auto-ack, basic.get, purge, nack and reject are 540', async () => {
    const q = await streamWith(['x']);
    const conn = await connect(b.url);
    const ch = await channel(conn);
    await expectChannelError(conn, ch, () => ch.consume(q, () => {}), 406, `PRECONDITION_FAILED - consumer prefetch count is not set for 'queue '${q}' in vhost '/''`);
    const refusals: [string, (ch: Channel) => unknown][] = [
      [`NOT_IMPLEMENTED - automatic acknowledgement not supported by stream queues queue '${q}' in vhost '/'`, async (c) => { await c.prefetch(10); await c.consume(q, () => {}, { noAck: true }); }],
      [`NOT_IMPLEMENTED - basic.get not supported by stream queues queue '${q}' in vhost '/'`, (c) => c.get(q)],
      [`NOT_IMPLEMENTED - queue.purge not supported by stream queues queue '${q}' in vhost '/'`, (c) => c.purgeQueue(q)],
      [`NOT_IMPLEMENTED - basic.nack and basic.reject not supported by stream queues queue '${q}' in vhost '/'`, async (c) => {
        await c.prefetch(10);
        await new Promise<void>((resolve) => void c.consume(q, (m) => { if (m) c.nack(m); resolve(); }, { arguments: { 'x-stream-offset': 'first' } }));
      }],
      [`NOT_IMPLEMENTED - basic.nack and basic.reject not supported by stream queues queue '${q}' in vhost '/'`, async (c) => {
        await c.prefetch(10);
        await new Promise<void>((resolve) => void c.consume(q, (m) => { if (m) c.reject(m, false); resolve(); }, { arguments: { 'x-stream-offset': 'first' } }));
      }],
    ];
    for (const [text, op] of refusals) {
      const c = await connect(b.url);
      const chan = await channel(c);
      await expectConnectionError(c, () => op(chan), 540, text);
    }
  });

  test('publisher confirms arrive for stream publishes, persistent or not', async () => {
    const q = uniq('sq-confirm');
    const conn = await connect(b.url);
    const ch = await confirmChannel(conn);
    await ch.assertQueue(q, { durable: true, arguments: STREAM });
    for (let i = 0; i < 50; i++) ch.sendToQueue(q, Buffer.from(`p${i}`), { persistent: i % 2 === 0 });
    await ch.waitForConfirms();
    const { inbox } = await consumer(q, 'first');
    assert.equal((await inbox.waitFor(50)).length, 50);
  });
});
