// Single active consumer over the stream protocol (RabbitMQ 3.11+; 3.10 lacks it, so Warren only):
// subscriptions with single-active-consumer=true and the same name on a stream form a group; only
// the first is active, told so by a consumer_update request whose answer gives its start offset;
// when it leaves, the next one is told and starts where its answer says. A nameless one is refused.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { StreamClient } from '../src/stream/client.js';
import { Code, Key, OffsetType } from '../src/stream/constants.js';
import { forEachEntry } from '../src/stream/chunk.js';
import type { OffsetSpec } from '../src/stream/requests.js';
import { startStreamBroker, type StreamTestBroker } from './support/stream-broker.js';
import { uniq } from './support/test-broker.js';
import { waitFor } from './support/eventually.js';

interface Member {
  client: StreamClient;
  received: { offset: number; body: string }[];
  updates: boolean[];
}

describe('stream single active consumer', () => {
  let b: StreamTestBroker;
  before(async () => {
    b = await startStreamBroker();
  });
  after(async () => {
    await b.close();
  });

  /** A connection subscribed as a group member; it answers consumer_update with `answer`. */
  async function member(stream: string, group: string, answer: OffsetSpec): Promise<Member> {
    const client = await StreamClient.connect({ host: '127.0.0.1', port: b.streamPort });
    const m: Member = { client, received: [], updates: [] };
    client.onConsumerUpdate = (correlationId, _sub, active) => {
      m.updates.push(active);
      client.send({ key: Key.ConsumerUpdate, correlationId, code: Code.Ok, offset: answer });
    };
    client.onDeliver = (id, chunk) => {
      const first = Number(chunk.readBigUInt64BE(24));
      forEachEntry(chunk, (body, i) => m.received.push({ offset: first + i, body: body.toString() }));
      client.send({ key: Key.Credit, subscriptionId: id, credit: 1 });
    };
    const sub = await client.request({ key: Key.Subscribe, subscriptionId: 1, stream, offset: { type: OffsetType.Next }, credit: 5, properties: { 'single-active-consumer': 'true', name: group } });
    assert.equal(sub.code, Code.Ok);
    return m;
  }

  test('only the first member consumes; when it leaves, the next starts at the offset it answers', async () => {
    const admin = await StreamClient.connect({ host: '127.0.0.1', port: b.streamPort });
    const stream = uniq('sac');
    assert.equal((await admin.request({ key: Key.Create, stream, arguments: {} })).code, Code.Ok);
    assert.equal((await admin.request({ key: Key.DeclarePublisher, publisherId: 1, reference: '', stream })).code, Code.Ok);
    let confirmed = 0;
    admin.onConfirm = (_p, n) => void (confirmed += n);
    const publish = async (from: number, to: number) => {
      const target = confirmed + (to - from + 1);
      admin.send({ key: Key.Publish, publisherId: 1, messages: Array.from({ length: to - from + 1 }, (_, i) => ({ publishingId: BigInt(from + i), body: Buffer.from(`m${from + i}`) })) });
      await waitFor('confirms', () => confirmed >= target);
    };
    await publish(0, 9);

    const first = await member(stream, 'group-a', { type: OffsetType.First });
    const second = await member(stream, 'group-a', { type: OffsetType.Offset, offset: 6n });
    await waitFor('the first member reads the stream', () => first.received.length === 10);
    assert.deepEqual(first.updates, [true], 'the first member is told it is active');
    await second.client.request({ key: Key.Metadata, streams: [stream] }); // a round trip on the waiting member's connection
    assert.equal(second.updates.length, 0);
    assert.equal(second.received.length, 0, 'a waiting member gets nothing');

    assert.equal((await first.client.request({ key: Key.Unsubscribe, subscriptionId: 1 })).code, Code.Ok);
    await waitFor('the second member takes over', () => second.received.some((r) => r.offset === 9));
    assert.deepEqual(second.updates, [true]);
    // As for any subscription, the chunk holding the offset comes whole; clients skip what is below it.
    assert.deepEqual(second.received.map((r) => r.offset).filter((o) => o >= 6), [6, 7, 8, 9], 'it starts where its answer says');
    const before = second.received.length;
    await publish(10, 11);
    await waitFor('new messages reach the active member', () => second.received.length === before + 2);
    assert.equal(first.received.length, 10, 'the member that left gets nothing more');

    const nameless = await admin.request({ key: Key.Subscribe, subscriptionId: 9, stream, offset: { type: OffsetType.First }, credit: 1, properties: { 'single-active-consumer': 'true' } });
    assert.equal(nameless.code, Code.PreconditionFailed, 'a single active consumer needs a name');

    await admin.request({ key: Key.Delete, stream });
    for (const c of [admin, first.client, second.client]) await c.close();
  });
});
