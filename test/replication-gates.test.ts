/**
 * What a cluster leader lets out only once its followers have it (issue 20): deliveries of
 * persistent messages (as their confirms), the delivered mark that gives a redelivered flag after a
 * failover, and the replies to methods that change durable definitions. Driven as in
 * replication.test.ts: a leader with a real Broker, followers in data dirs of their own, amqplib
 * clients, no etcd; majority 2, so with every follower stopped nothing is replicated.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import amqp from 'amqplib';
import type { Channel, ConfirmChannel, ConsumeMessage } from 'amqplib';
import { Broker } from '../src/index.js';
import { eventually } from './support/eventually.js';
import { withReplicatedNodes } from './support/replication-nodes.js';
import { freePort } from './support/free-port.js';

/** How long "nothing happens" is watched for: the gate is closed, so any wait shows the same. */
const QUIET_MS = 500;

const quiet = (): Promise<void> => new Promise((r) => setTimeout(r, QUIET_MS));

function publishConfirmed(ch: ConfirmChannel, queue: string, body: string, persistent = true): Promise<void> {
  return new Promise((resolve, reject) => {
    ch.sendToQueue(queue, Buffer.from(body), { persistent }, (err) => (err ? reject(err) : resolve()));
  });
}

/** A Broker started on a follower's data dir, as a promotion does, with a client connected to it. */
async function onPromoted(dataDir: string, body: (conn: amqp.ChannelModel) => Promise<void>): Promise<void> {
  const promoted = await Broker.start({ port: 0, host: '127.0.0.1', managementPort: 0, prometheusPort: 0, streamPort: 0, dataDir, logLevel: 'silent' });
  try {
    const conn = await amqp.connect(`amqp://guest:guest@127.0.0.1:${promoted.port}/%2F`);
    try {
      await body(conn);
    } finally {
      await conn.close();
    }
  } finally {
    await promoted.close();
  }
}

async function collect(ch: Channel, queue: string): Promise<ConsumeMessage[]> {
  const got: ConsumeMessage[] = [];
  await ch.consume(queue, (m) => m && got.push(m));
  return got;
}

test('a persistent message is delivered only once a follower has it, with its confirm; a transient one behind it waits too', () =>
  withReplicatedNodes(['b'], async ({ node, startFollower, stopFollower }) => {
    const conn = await amqp.connect(node.url);
    const pub = await conn.createConfirmChannel();
    await pub.assertQueue('gate-q', { durable: true });
    const consumer = await conn.createChannel();
    const got = await collect(consumer, 'gate-q');
    await stopFollower('b');

    let confirmed = 0;
    const bodies = Array.from({ length: 10 }, (_, i) => `p${i}`);
    const confirms = Promise.all(bodies.map((b) => publishConfirmed(pub, 'gate-q', b).then(() => void confirmed++)));
    // A transient message behind them: it needs no replication, but must not overtake them.
    pub.sendToQueue('gate-q', Buffer.from('t'), { persistent: false });
    const getter = await conn.createChannel();
    // The queue holds them (a passive declare counts them), yet neither a consumer nor basic.get gets one.
    await eventually(async () => assert.equal((await getter.checkQueue('gate-q')).messageCount, 11), 15_000, 20);
    assert.equal(await getter.get('gate-q', { noAck: true }), false);
    await quiet();
    assert.equal(got.length, 0, 'delivered before any follower had it');
    assert.equal(confirmed, 0);

    await startFollower('b');
    await confirms;
    await eventually(() => assert.equal(got.length, 11), 15_000, 20);
    assert.deepEqual(got.map((m) => m.content.toString()), [...bodies, 't']);
    assert.ok(got.every((m) => !m.fields.redelivered));
    await conn.close();
  }));

test('a first delivery waits until the followers have its delivered mark: after a failover it comes back redelivered', () =>
  withReplicatedNodes(['b'], async ({ node, dirs, startFollower, stopFollower }) => {
    const conn = await amqp.connect(node.url);
    const pub = await conn.createConfirmChannel();
    await pub.assertQueue('mark-q', { durable: true });
    const bodies = Array.from({ length: 5 }, (_, i) => `m${i}`);
    await Promise.all(bodies.map((b) => publishConfirmed(pub, 'mark-q', b)));
    await stopFollower('b');

    // Replicated messages, but handing one out writes the delivered mark, which b does not have yet.
    const consumer = await conn.createChannel();
    const got = await collect(consumer, 'mark-q');
    await quiet();
    assert.equal(got.length, 0, 'delivered before a follower had the delivered mark');

    await startFollower('b');
    await eventually(() => assert.equal(got.length, bodies.length), 15_000, 20);
    // b is stopped at once, without waiting for anything more: a delivery implies b had the mark.
    await stopFollower('b');
    await conn.close();

    await onPromoted(dirs['b']!, async (c2) => {
      const ch = await c2.createChannel();
      for (const body of bodies) {
        const m = await ch.get('mark-q', { noAck: true });
        assert.ok(m, `${body} is on b`);
        assert.equal(m.content.toString(), body);
        assert.equal(m.fields.redelivered, true, `${body} went out on the old leader: redelivered`);
      }
    });
  }));

test('drop-head cannot drop a held head: the queue trims to its limit once the held messages may go', () =>
  withReplicatedNodes(['b'], async ({ node, startFollower, stopFollower }) => {
    const conn = await amqp.connect(node.url);
    const pub = await conn.createConfirmChannel();
    await pub.assertQueue('limit-q', { durable: true, arguments: { 'x-max-length': 1, 'x-overflow': 'drop-head' } });
    await stopFollower('b');
    const confirms = Promise.all(['first', 'second', 'third'].map((b) => publishConfirmed(pub, 'limit-q', b)));
    await startFollower('b');
    await confirms;
    const ch = await conn.createChannel();
    await eventually(async () => assert.equal((await ch.checkQueue('limit-q')).messageCount, 1), 15_000, 20);
    const m = await ch.get('limit-q', { noAck: true });
    assert.ok(m);
    assert.equal(m.content.toString(), 'third', 'the newest message stays, as drop-head keeps it');
    await conn.close();
  }));

test('replies to durable definition changes wait for a follower; transient ones do not', () =>
  withReplicatedNodes(['b'], async ({ node, dirs, startFollower, stopFollower }) => {
    await stopFollower('b');
    const conn = await amqp.connect(node.url);
    const ch = await conn.createChannel();
    // Nothing durable: answered at once even with the gate closed.
    await ch.assertQueue('plain-q', { durable: false });
    await ch.assertExchange('plain-x', 'fanout', { durable: false });
    await ch.bindQueue('plain-q', 'plain-x', '');

    const answered: string[] = [];
    const declared = ch.assertExchange('durable-x', 'direct', { durable: true }).then(() => void answered.push('exchange'));
    const ch2 = await conn.createChannel();
    const queueDeclared = ch2.assertQueue('durable-q', { durable: true }).then(() => void answered.push('queue'));
    await quiet();
    assert.deepEqual(answered, [], 'declare-ok before any follower had the definition');

    await startFollower('b');
    await Promise.all([declared, queueDeclared]);
    assert.deepEqual(answered.sort(), ['exchange', 'queue']);
    // A redeclare writes nothing, yet is answered only once the followers have what came before.
    await ch2.assertQueue('durable-q', { durable: true });
    await ch2.bindQueue('durable-q', 'durable-x', 'k');
    await stopFollower('b');
    await conn.close();

    // b has every definition whose declare-ok (or bind-ok) a client saw.
    await onPromoted(dirs['b']!, async (c2) => {
      const rc = await c2.createConfirmChannel();
      await rc.checkQueue('durable-q');
      await rc.checkExchange('durable-x');
      await new Promise<void>((resolve, reject) => rc.publish('durable-x', 'k', Buffer.from('routed'), {}, (err) => (err ? reject(err) : resolve())));
      await eventually(async () => assert.equal((await rc.checkQueue('durable-q')).messageCount, 1), 15_000, 20);
    });
  }));

test('the management API answers a durable declare once a follower has it', async () =>
  withReplicatedNodes(['b'], async ({ node, startFollower, stopFollower }) => {
    await stopFollower('b');
    const api = `http://127.0.0.1:${node.broker.managementPort}/api/queues/%2F`;
    const headers = { authorization: `Basic ${Buffer.from('guest:guest').toString('base64')}`, 'content-type': 'application/json' };
    const plain = await fetch(`${api}/api-plain-q`, { method: 'PUT', headers, body: JSON.stringify({ durable: false }) });
    assert.equal(plain.status, 201, 'nothing durable: answered with the gate closed');

    let status = 0;
    const declared = fetch(`${api}/api-durable-q`, { method: 'PUT', headers, body: JSON.stringify({ durable: true }) }).then((r) => void (status = r.status));
    await quiet();
    assert.equal(status, 0, 'answered before any follower had the definition');
    await startFollower('b');
    await declared;
    assert.equal(status, 201);
  }, { broker: { managementPort: await freePort() } }));
