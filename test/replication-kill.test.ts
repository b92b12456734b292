/**
 * kill -9 of a replication leader process under confirmed load (no etcd: the nodes are
 * test/support/replication-child.ts processes). The leader confirms once both followers acked (the
 * gate the cluster node uses while both are in sync); after the kill each follower is stopped and a
 * Broker started on its data dir must hold every message that was confirmed.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import amqp from 'amqplib';
import { Broker } from '../src/index.js';
import { startNodeProcess, type NodeProcess } from './support/replication-child.js';
import { removeDirs, tempDir } from './support/replication-nodes.js';

const QUEUE = 'kill-q';

test('every confirmed message survives kill -9 of the leader on each follower', async () => {
  const [a, b, c] = [tempDir('a'), tempDir('b'), tempDir('c')];
  const nodes: NodeProcess[] = [];
  try {
    const leader = await startNodeProcess(['leader', a, '3']);
    nodes.push(leader);
    for (const [dir, name] of [[b, 'b'], [c, 'c']] as const) nodes.push(await startNodeProcess(['follower', dir, name, String(leader.info.repl)]));

    const conn = await amqp.connect(`amqp://guest:guest@127.0.0.1:${leader.info.amqp}/%2F`);
    conn.on('error', () => {});
    const ch = await conn.createConfirmChannel();
    ch.on('error', () => {});
    await ch.assertQueue(QUEUE, { durable: true });
    const confirmed = new Set<string>();
    let next = 0;
    let inFlight = 0;
    let killed = false;
    await new Promise<void>((resolve) => {
      const pump = (): void => {
        while (!killed && inFlight < 200) {
          const body = `k${next++}-${'z'.repeat(next % 500)}`;
          inFlight++;
          ch.sendToQueue(QUEUE, Buffer.from(body), { persistent: true }, (err) => {
            inFlight--;
            if (!err && !killed) confirmed.add(body);
            if (!killed && confirmed.size >= 3000) {
              killed = true;
              // Whatever is confirmed at this instant must be on both followers.
              leader.stop('SIGKILL').then(resolve, resolve);
              return;
            }
            pump();
          });
        }
      };
      pump();
    });
    const mustHave = new Set(confirmed);
    for (const f of nodes.slice(1)) await f.stop('SIGTERM');

    for (const dir of [b, c]) {
      const broker = await Broker.start({ port: 0, host: '127.0.0.1', managementPort: 0, prometheusPort: 0, streamPort: 0, dataDir: dir, logLevel: 'silent' });
      try {
        const c2 = await amqp.connect(`amqp://guest:guest@127.0.0.1:${broker.port}/%2F`);
        const rc = await c2.createChannel();
        const got = new Set<string>();
        for (;;) {
          const m = await rc.get(QUEUE, { noAck: true });
          if (!m) break;
          got.add(m.content.toString());
        }
        await c2.close();
        const missing = [...mustHave].filter((body) => !got.has(body));
        assert.equal(missing.length, 0, `${dir}: ${missing.length} of ${mustHave.size} confirmed messages missing (${missing.slice(0, 3).join(', ')})`);
        assert.ok(got.size >= mustHave.size);
      } finally {
        await broker.close();
      }
    }
  } finally {
    for (const n of nodes) await n.stop('SIGKILL');
    removeDirs(a, b, c);
  }
});
