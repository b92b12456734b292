// Single active consumer over the stream protocol (RabbitMQ 3.11+; 3.10 lacks it, so Warren only):
// subscriptions with single-active-consumer=true and the same name on a stream form a group; only
// the first is active, told so by a consumer_update request whose answer gives its start offset;
// when it leaves, the next one is told and starts where its answer says. A nameless one is refused.
// On a super stream's partitions (members sent super-stream=<name>) the active member is the one at
// partition index mod group size, and a hand-over waits for the former active member's answer.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import amqp from 'amqplib';
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

  test('super stream: partitions spread over the group; a hand-over waits for the step-down answer', async () => {
    const superStream = uniq('sac-super');
    const partitions = [`${superStream}-0`, `${superStream}-1`];
    const amqpConn = await amqp.connect(b.url);
    const ch = await amqpConn.createChannel();
    await ch.assertExchange(superStream, 'direct', { durable: true, arguments: { 'x-super-stream': true } });
    for (const [i, p] of partitions.entries()) {
      await ch.assertQueue(p, { durable: true, arguments: { 'x-queue-type': 'stream' } });
      await ch.bindQueue(p, superStream, String(i), { 'x-stream-partition-order': i });
    }

    /** A connection subscribed to every partition (subscription id = partition index + 1). */
    interface SuperMember { client: StreamClient; updates: { partition: number; active: boolean }[]; bodies: string[][]; held: (() => void)[] }
    async function superMember(holdStepDown: boolean): Promise<SuperMember> {
      const client = await StreamClient.connect({ host: '127.0.0.1', port: b.streamPort });
      const m: SuperMember = { client, updates: [], bodies: [[], []], held: [] };
      client.onConsumerUpdate = (correlationId, sub, active) => {
        m.updates.push({ partition: sub - 1, active });
        const answer = () => client.send({ key: Key.ConsumerUpdate, correlationId, code: Code.Ok, offset: { type: OffsetType.First } });
        if (!active && holdStepDown) m.held.push(answer);
        else answer();
      };
      client.onDeliver = (id, chunk) => {
        forEachEntry(chunk, (body) => m.bodies[id - 1]!.push(body.toString()));
        client.send({ key: Key.Credit, subscriptionId: id, credit: 1 });
      };
      for (const [i, stream] of partitions.entries()) {
        const properties = { 'single-active-consumer': 'true', name: 'workers', 'super-stream': superStream };
        const r = await client.request({ key: Key.Subscribe, subscriptionId: i + 1, stream, offset: { type: OffsetType.First }, credit: 5, properties });
        assert.equal(r.code, Code.Ok);
      }
      return m;
    }

    const a = await superMember(true);
    await waitFor('the only member is active on both partitions', () => a.updates.length === 2);
    assert.deepEqual(a.updates, [{ partition: 0, active: true }, { partition: 1, active: true }]);
    const bm = await superMember(false);
    await waitFor('partition 1 asks its active member to step down', () => a.updates.length === 3);
    assert.deepEqual(a.updates[2], { partition: 1, active: false });
    await bm.client.request({ key: Key.Metadata, streams: partitions }); // a round trip on the new member's connection
    assert.deepEqual(bm.updates, [], 'the new member waits for the step-down answer');
    a.held.splice(0).forEach((answer) => answer());
    await waitFor('the new member takes partition 1', () => bm.updates.length === 1);
    assert.deepEqual(bm.updates, [{ partition: 1, active: true }], 'partition 1 goes to member 1 of 2, partition 0 stays with member 0');

    for (let i = 0; i < 10; i++) ch.publish(superStream, String(i % 2), Buffer.from(`m${i}-p${i % 2}`));
    await waitFor('each partition reaches its own member', () => a.bodies[0]!.length === 5 && bm.bodies[1]!.length === 5);
    assert.deepEqual(a.bodies[1], [], 'the member that stepped down reads nothing more from partition 1');
    assert.deepEqual(bm.bodies[0], []);
    assert.ok(a.bodies[0]!.every((x) => x.endsWith('-p0')) && bm.bodies[1]!.every((x) => x.endsWith('-p1')));

    await bm.client.close();
    await waitFor('the remaining member takes partition 1 back', () => a.updates.length === 4);
    assert.deepEqual(a.updates[3], { partition: 1, active: true });
    await waitFor('and reads it from the offset it answered (first)', () => a.bodies[1]!.length === 5);

    await a.client.close();
    for (const p of partitions) await ch.deleteQueue(p);
    await ch.deleteExchange(superStream);
    await amqpConn.close();
  });
});
