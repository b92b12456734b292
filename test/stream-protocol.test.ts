// RabbitMQ's stream protocol, driven by the real rabbitmq-stream-js-client from npm: create and
// delete streams, publish with confirms, consume from every offset specification, deduplication by
// publishing id, stored offsets, credit, metadata, and streams surviving a restart.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Offset, type Client } from 'rabbitmq-stream-js-client';
import type { Message } from 'rabbitmq-stream-js-client/dist/publisher.js';
import { startStreamBroker, type StreamTestBroker } from './support/stream-broker.js';
import { uniq } from './support/test-broker.js';
import { Broker } from '../src/index.js';
import { StreamClient } from '../src/stream/client.js';
import { Code, Key } from '../src/stream/constants.js';
import { channel, confirmChannel, connect, consume as consumeAmqp } from './support/amqp-client.js';

/** Collects the content of the first n messages a consumer receives. */
async function consume(client: Client, stream: string, offset: Offset, n: number): Promise<Message[]> {
  const got: Message[] = [];
  let done: () => void = () => {};
  const all = new Promise<void>((resolve) => (done = resolve));
  const consumer = await client.declareConsumer({ stream, offset }, (m) => {
    got.push(m);
    if (got.length === n) done();
  });
  const timeout = new Promise<never>((_r, reject) => setTimeout(() => reject(new Error(`only ${got.length} of ${n} messages arrived`)), 5000).unref());
  try {
    await Promise.race([all, timeout]);
  } finally {
    await consumer.close();
  }
  return got;
}

async function publishAll(client: Client, stream: string, bodies: string[], publisherRef?: string): Promise<void> {
  const publisher = await client.declarePublisher({ stream, ...(publisherRef ? { publisherRef } : {}) });
  const confirmed = new Promise<void>((resolve) => {
    let n = 0;
    publisher.on('publish_confirm', (err, ids) => {
      assert.equal(err, null);
      n += ids.length;
      if (n >= bodies.length) resolve();
    });
  });
  for (const b of bodies) await publisher.send(Buffer.from(b));
  await publisher.flush();
  await confirmed;
  await publisher.close();
}

describe('stream protocol (rabbitmq-stream-js-client)', () => {
  let b: StreamTestBroker;
  let client: Client;
  before(async () => {
    b = await startStreamBroker();
    client = await b.client();
  });
  after(async () => {
    await b.close();
  });

  test('create, publish with confirms, consume from first; create again: exists (5) or inequivalent (17)', async () => {
    const stream = uniq('s');
    await client.createStream({ stream, arguments: {} });
    const raw = await StreamClient.connect({ host: '127.0.0.1', port: b.streamPort });
    assert.equal((await raw.request({ key: Key.Create, stream, arguments: {} })).code, Code.StreamAlreadyExists);
    assert.equal((await raw.request({ key: Key.Create, stream, arguments: { 'max-age': '1h' } })).code, Code.PreconditionFailed);
    // RabbitMQ 3.10 drops the connection here; Warren answers precondition failed.
    assert.equal((await raw.request({ key: Key.Create, stream: uniq('bad'), arguments: { 'max-age': 'nonsense' } })).code, Code.PreconditionFailed);
    await raw.close();
    await publishAll(client, stream, ['a', 'b', 'c']);
    const got = await consume(client, stream, Offset.first(), 3);
    assert.deepEqual(got.map((m) => m.content.toString()), ['a', 'b', 'c']);
    assert.deepEqual(got.map((m) => m.offset), [0n, 1n, 2n]);
    const [meta] = await client.queryMetadata({ streams: [stream] });
    assert.equal(meta?.leader?.host, '127.0.0.1');
    assert.equal(meta?.leader?.port, b.streamPort);
  });

  test('offset specifications: next, last (start of the last chunk), numeric, timestamp', async () => {
    const stream = uniq('offsets');
    await client.createStream({ stream, arguments: {} });
    await publishAll(client, stream, ['0', '1', '2']); // one or more chunks
    const t = new Date();
    await new Promise((r) => setTimeout(r, 5)); // chunk timestamps have millisecond resolution
    await publishAll(client, stream, ['3']);
    const last = await consume(client, stream, Offset.last(), 1);
    assert.equal(last[0]!.content.toString(), '3', 'the last chunk holds only the last publish');
    const numeric = await consume(client, stream, Offset.offset(1n), 3);
    assert.deepEqual(numeric.map((m) => m.content.toString()), ['1', '2', '3'], 'the client drops records of the chunk below the offset');
    const fromTime = await consume(client, stream, Offset.timestamp(t), 1);
    assert.equal(fromTime[0]!.content.toString(), '3');
    // next: only what is published after subscribing
    const later: string[] = [];
    const consumer = await client.declareConsumer({ stream, offset: Offset.next() }, (m) => void later.push(m.content.toString()));
    await publishAll(client, stream, ['4']);
    const deadline = Date.now() + 5000;
    while (later.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(later, ['4']);
    await consumer.close();
  });

  test('deduplication: a publisher reference drops publishing ids it has already written', async () => {
    const stream = uniq('dedup');
    await client.createStream({ stream, arguments: {} });
    const publisher = await client.declarePublisher({ stream, publisherRef: 'producer-1' });
    for (let i = 1n; i <= 3n; i++) await publisher.basicSend(i, Buffer.from(`m${i}`));
    await publisher.flush();
    const confirmedIds: bigint[] = [];
    publisher.on('publish_confirm', (_e, ids) => void confirmedIds.push(...ids));
    // a retry of 2 and 3 after a "reconnect", then a new one
    for (const i of [2n, 3n, 4n]) await publisher.basicSend(i, Buffer.from(`retry-${i}`));
    await publisher.flush();
    const deadline = Date.now() + 5000;
    while (!(confirmedIds.includes(3n) && confirmedIds.includes(4n)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    assert.ok(confirmedIds.includes(3n) && confirmedIds.includes(4n), 'duplicates are confirmed too');
    assert.equal(await publisher.getLastPublishingId(), 4n);
    await publisher.close();
    const got = await consume(client, stream, Offset.first(), 4);
    assert.deepEqual(got.map((m) => m.content.toString()), ['m1', 'm2', 'm3', 'retry-4']);
  });

  test('stored offsets: store_offset then query_offset; an unknown reference is an error', async () => {
    const stream = uniq('tracking');
    await client.createStream({ stream, arguments: {} });
    await publishAll(client, stream, ['x', 'y']);
    const consumer = await client.declareConsumer({ stream, offset: Offset.first(), consumerRef: 'reader-1' }, () => {});
    await consumer.storeOffset(1n);
    const deadline = Date.now() + 5000;
    let stored: bigint | undefined;
    while (stored === undefined && Date.now() < deadline) {
      stored = await consumer.queryOffset().catch(() => undefined);
      if (stored === undefined) await new Promise((r) => setTimeout(r, 10));
    }
    assert.equal(stored, 1n);
    await assert.rejects(client.queryOffset({ reference: 'nobody', stream }));
    await consumer.close();
  });

  test('delete: the stream goes away; publishing to a missing stream is refused', async () => {
    const stream = uniq('gone');
    await client.createStream({ stream, arguments: {} });
    await client.deleteStream({ stream });
    await assert.rejects(client.declarePublisher({ stream }));
    const [meta] = await client.queryMetadata({ streams: [stream] });
    assert.equal(meta?.leader, undefined);
  });

  test('authentication failure (8), unknown vhost (12), and the 3.11+ command-version exchange', async () => {
    await assert.rejects(StreamClient.connect({ host: '127.0.0.1', port: b.streamPort, password: 'wrong' }), { code: Code.AuthenticationFailure });
    await assert.rejects(StreamClient.connect({ host: '127.0.0.1', port: b.streamPort, vhost: 'no-such-vhost' }), { code: Code.VirtualHostAccessFailure });
    const raw = await StreamClient.connect({ host: '127.0.0.1', port: b.streamPort });
    const versions = await raw.request({ key: Key.ExchangeCommandVersions, versions: [{ key: Key.Publish, min: 1, max: 2 }] });
    assert.equal(versions.code, Code.Ok);
    const n = versions.reader.i32();
    const keys = Array.from({ length: n }, () => { const k = versions.reader.u16(); versions.reader.u16(); versions.reader.u16(); return k; });
    assert.ok(keys.includes(Key.Publish) && keys.includes(Key.Deliver) && keys.includes(Key.ExchangeCommandVersions));
    await raw.close();
  });

  test('AMQP 0-9-1 consumers read what stream clients wrote, with properties and headers', async () => {
    const stream = uniq('cross-in');
    await client.createStream({ stream, arguments: {} });
    const publisher = await client.declarePublisher({ stream });
    await publisher.send(Buffer.from('from-stream'), {
      applicationProperties: { region: 'eu', n: 7 },
      messageProperties: { contentType: 'text/plain', messageId: 'id-1', correlationId: 'c-1', replyTo: 'back' },
    });
    await publisher.flush();
    const conn = await connect(b.url);
    const ch = await channel(conn);
    await ch.prefetch(10);
    const inbox = await consumeAmqp(ch, stream, { arguments: { 'x-stream-offset': 'first' } });
    const [m] = await inbox.waitFor(1);
    assert.equal(m!.content.toString(), 'from-stream');
    assert.equal(m!.properties.contentType, 'text/plain');
    assert.equal(m!.properties.messageId, 'id-1');
    assert.equal(m!.properties.correlationId, 'c-1');
    assert.equal(m!.properties.replyTo, 'back');
    assert.equal(m!.properties.headers?.['region'], 'eu');
    assert.equal(Number(m!.properties.headers?.['n']), 7);
    assert.equal(m!.properties.headers?.['x-stream-offset'], 0);
    await publisher.close();
    await conn.close();
  });

  test('stream clients read what AMQP 0-9-1 publishers wrote to a stream queue', async () => {
    const stream = uniq('cross-out');
    const conn = await connect(b.url);
    const ch = await confirmChannel(conn);
    await ch.assertQueue(stream, { durable: true, arguments: { 'x-queue-type': 'stream' } });
    ch.sendToQueue(stream, Buffer.from('from-amqp'), { contentType: 'application/json', messageId: 'm-9', headers: { tenant: 'acme', count: 3 } });
    await ch.waitForConfirms();
    await conn.close();
    const [m] = await consume(client, stream, Offset.first(), 1);
    assert.equal(m!.content.toString(), 'from-amqp');
    assert.equal(m!.messageProperties?.contentType, 'application/json');
    assert.equal(m!.messageProperties?.messageId, 'm-9');
    assert.equal(m!.applicationProperties?.['tenant'], 'acme');
    assert.equal(Number(m!.applicationProperties?.['count']), 3);
  });

  test('streams, their messages, dedup state and stored offsets survive a restart', async () => {
    const dataDir = b.broker!.options.dataDir;
    const streamPort = b.streamPort;
    const stream = uniq('durable');
    await client.createStream({ stream, arguments: { 'max-length-bytes': 10_000_000 } });
    await publishAll(client, stream, ['kept-1', 'kept-2'], 'restart-producer');
    const c = await client.declareConsumer({ stream, offset: Offset.first(), consumerRef: 'restart-reader' }, () => {});
    await c.storeOffset(1n);
    await c.close();
    await client.close();
    await b.broker!.close();
    const broker = await Broker.start({ port: 0, host: '127.0.0.1', managementPort: 0, prometheusPort: 0, streamPort, streamHost: '127.0.0.1', dataDir, logLevel: 'silent' });
    try {
      client = await b.client();
      const got = await consume(client, stream, Offset.first(), 2);
      assert.deepEqual(got.map((m) => m.content.toString()), ['kept-1', 'kept-2']);
      const p = await client.declarePublisher({ stream, publisherRef: 'restart-producer' });
      assert.equal(await p.getLastPublishingId(), 2n);
      await p.close();
      assert.equal(await client.queryOffset({ reference: 'restart-reader', stream }), 1n);
    } finally {
      await client.close();
      await broker.close();
    }
  });
});
