/**
 * File-level replication (src/cluster/replication/) driven directly: a leader with a real Broker on
 * its data dir, followers mirroring into their own dirs, real amqplib clients, confirms. No etcd:
 * the role state machine is not involved, the tests decide who stops and who starts a Broker.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import amqp from 'amqplib';
import type { ConfirmChannel } from 'amqplib';
import { Broker } from '../src/index.js';
import { REPLICATED_MARK_AHEAD } from '../src/store/delivered-mark.js';
import { eventually } from './support/eventually.js';
import { treeDigest, waitAcked, withReplicatedNodes } from './support/replication-nodes.js';

function publishConfirmed(ch: ConfirmChannel, queue: string, body: string): Promise<void> {
  return new Promise((resolve, reject) => {
    ch.sendToQueue(queue, Buffer.from(body), { persistent: true }, (err) => (err ? reject(err) : resolve()));
  });
}

async function openOnDir(dataDir: string): Promise<Broker> {
  return Broker.start({ port: 0, host: '127.0.0.1', managementPort: 0, prometheusPort: 0, streamPort: 0, dataDir, logLevel: 'silent' });
}

/** Every message of a queue as [body, redelivered], through basic.get. */
async function readAll(url: string, queue: string): Promise<Map<string, boolean>> {
  const conn = await amqp.connect(url);
  try {
    const ch = await conn.createChannel();
    const out = new Map<string, boolean>();
    for (;;) {
      const m = await ch.get(queue, { noAck: true });
      if (!m) break;
      out.set(m.content.toString(), m.fields.redelivered);
    }
    return out;
  } finally {
    await conn.close();
  }
}

test('a broker started on a follower data dir has every confirmed message; delivered ones come back redelivered', () =>
  withReplicatedNodes(['b', 'c'], async ({ node, dirs, stopFollower }) => {
    const conn = await amqp.connect(node.url);
    const ch = await conn.createConfirmChannel();
    await ch.assertQueue('repl-q', { durable: true });
    // More than the leader's mark runs ahead of deliveries: the last ones were never covered by it.
    const bodies = Array.from({ length: REPLICATED_MARK_AHEAD + 500 }, (_, i) => `m${i}-${'x'.repeat(i % 300)}`);
    await Promise.all(bodies.map((body) => publishConfirmed(ch, 'repl-q', body)));
    // A consumer takes the first 10 and holds them unacked.
    const consumer = await conn.createChannel();
    await consumer.prefetch(10);
    const held: string[] = [];
    await consumer.consume('repl-q', (m) => m && held.push(m.content.toString()));
    await eventually(() => assert.equal(held.length, 10), 15_000, 20);
    // The delivered mark is written before a delivery leaves; wait until b has it too.
    await waitAcked(node.leader, 'b');
    await stopFollower('b');

    const promoted = await openOnDir(dirs['b']!);
    try {
      const got = await readAll(`amqp://guest:guest@127.0.0.1:${promoted.port}/%2F`, 'repl-q');
      assert.equal(got.size, bodies.length, 'every confirmed message is on the follower');
      for (const body of bodies) assert.ok(got.has(body), `missing ${body.slice(0, 10)}`);
      for (const body of held) assert.equal(got.get(body), true, `${body.slice(0, 10)} was delivered: redelivered`);
      assert.equal(got.get(bodies[bodies.length - 1]!), false);
    } finally {
      await promoted.close();
    }
    await conn.close();
  }));

test('with a majority of 2 and no follower, confirms are held; they are sent once a follower caught up', () =>
  withReplicatedNodes(['b'], async ({ node, startFollower, stopFollower }) => {
    const conn = await amqp.connect(node.url);
    const ch = await conn.createConfirmChannel();
    // Declared while b is there: its declare-ok waits for the followers too (replication-gates.test.ts).
    await ch.assertQueue('held-q', { durable: true });
    await stopFollower('b');
    let confirmed = 0;
    const all = Promise.all(
      Array.from({ length: 20 }, (_, i) => publishConfirmed(ch, 'held-q', `h${i}`).then(() => void confirmed++)),
    );
    // The broker has the messages (a passive declare round trip counts them), yet confirms nothing.
    await eventually(async () => assert.equal((await ch.checkQueue('held-q')).messageCount, 20), 15_000, 20);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(confirmed, 0, 'no confirm without a follower');
    await startFollower('b');
    await all;
    assert.equal(confirmed, 20);
    await conn.close();
  }));

test('a follower disconnected during load catches up; one whose files diverge (an old leader tail) is corrected', () =>
  withReplicatedNodes(['b', 'c'], async ({ node, dirs, follower, startFollower, stopFollower }) => {
    const a = node.dataDir;
    const [b, c] = [dirs['b']!, dirs['c']!];
    const conn = await amqp.connect(node.url);
    const ch = await conn.createConfirmChannel();
    await ch.assertQueue('load-q', { durable: true });
    await ch.assertQueue('other-q', { durable: true });
    const consumer = await conn.createChannel();
    await consumer.consume('other-q', (m) => m && m.fields.deliveryTag % 2 === 0 && consumer.ack(m));
    let stop = false;
    let sent = 0;
    const load = (async () => {
      while (!stop) {
        const batch = [];
        for (let i = 0; i < 50; i++, sent++) {
          batch.push(publishConfirmed(ch, sent % 3 === 0 ? 'other-q' : 'load-q', `L${sent}-${'y'.repeat(sent % 2000)}`));
        }
        await Promise.all(batch);
      }
    })();
    await eventually(() => assert.ok(sent > 500), 30_000, 20);
    await stopFollower('c');
    await eventually(() => assert.ok(!node.leader.inSync().includes('c')), 15_000, 20);
    const before = sent;
    await eventually(() => assert.ok(sent > before + 500), 30_000, 20);
    await startFollower('c');
    await eventually(() => assert.ok(follower('c').caughtUp), 30_000, 20);
    const again = sent;
    await eventually(() => assert.ok(sent > again + 300), 30_000, 20);
    stop = true;
    await load;
    // Deliveries to the consumer may still write the delivered mark: compare once all is acked.
    await eventually(async () => {
      await waitAcked(node.leader, 'b');
      await waitAcked(node.leader, 'c');
      assert.deepEqual(treeDigest(c), treeDigest(a), 'c caught up: same files as the leader');
      assert.deepEqual(treeDigest(b), treeDigest(a));
    }, 30_000, 100);

    // Divergence: c's copy gets an unconfirmed tail on a segment, a file and a queue the leader never had,
    // and a damaged definitions file; reconnecting must make it the leader's again.
    await stopFollower('c');
    const segs: string[] = [];
    const walk = (d: string): void => {
      for (const e of fs.readdirSync(d, { withFileTypes: true })) {
        const p = path.join(d, e.name);
        if (e.isDirectory()) walk(p);
        else if (e.name.endsWith('.seg')) segs.push(p);
      }
    };
    walk(path.join(c, 'vhosts'));
    assert.ok(segs.length > 0);
    fs.appendFileSync(segs[0]!, Buffer.alloc(5000, 7));
    fs.writeFileSync(path.join(c, 'stray-file'), 'old leader');
    fs.mkdirSync(path.join(c, 'vhosts', 'deadbeef', 'queues', 'cafe'), { recursive: true });
    fs.writeFileSync(path.join(c, 'definitions.json'), '{"broken": true');
    assert.notDeepEqual(treeDigest(c), treeDigest(a));
    await startFollower('c');
    await eventually(() => assert.ok(follower('c').caughtUp), 30_000, 20);
    await waitAcked(node.leader, 'c');
    assert.deepEqual(treeDigest(c), treeDigest(a), 'the divergent copy is the leader\'s again');
    await conn.close();
  }));

test('streams are replicated: a stream queue reads back on the follower data dir', () =>
  withReplicatedNodes(['b'], async ({ node, dirs, stopFollower }) => {
    const conn = await amqp.connect(node.url);
    const ch = await conn.createConfirmChannel();
    await ch.assertQueue('repl-stream', { durable: true, arguments: { 'x-queue-type': 'stream' } });
    const bodies = Array.from({ length: 300 }, (_, i) => `s${i}`);
    await Promise.all(bodies.map((body) => publishConfirmed(ch, 'repl-stream', body)));
    await conn.close();
    await stopFollower('b');

    const promoted = await openOnDir(dirs['b']!);
    try {
      const c2 = await amqp.connect(`amqp://guest:guest@127.0.0.1:${promoted.port}/%2F`);
      const rc = await c2.createChannel();
      await rc.prefetch(1000);
      const got: string[] = [];
      await rc.consume('repl-stream', (m) => {
        if (!m) return;
        got.push(m.content.toString());
        rc.ack(m);
      }, { arguments: { 'x-stream-offset': 'first' } });
      await eventually(() => assert.equal(got.length, bodies.length), 15_000, 20);
      assert.deepEqual(got, bodies);
      await c2.close();
    } finally {
      await promoted.close();
    }
  }));
