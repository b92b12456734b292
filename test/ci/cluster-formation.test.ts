// A three-node cluster from the CLI (`warren --config node-N.conf --data-dir DIR --node-name
// warren-N`) on a real etcd: it forms, cluster_status and /api/nodes agree from every node, a client
// of a follower reaches the leader, and a leader killed with SIGKILL is replaced within 5 s with its
// confirmed messages. (The kill-every-node-under-load and partition tests are cluster-failover and
// cluster-partition.)
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import amqp from 'amqplib';
import { checkoutRoot } from '../support/cli-process.js';
import { WarrenCluster, httpGet, type ClusterNode } from '../support/cluster.js';
import { etcdAvailable } from '../support/etcd.js';
import { eventually } from '../support/eventually.js';
import { find, parseExposition, value } from '../support/prometheus-text.js';
import { freePort } from '../support/free-port.js';

const run = promisify(execFile);
const warrenctl = join(checkoutRoot, 'dist', 'src', 'cli', 'warrenctl.js');

async function clusterStatus(node: ClusterNode): Promise<{ nodes: Array<Record<string, unknown>>; leader: string; in_sync: string[]; cluster_name: string }> {
  const { stdout } = await run(process.execPath, [warrenctl, '--url', `http://guest:guest@${node.host}:${node.managementPort}`, 'cluster_status', '--formatter', 'json'], { timeout: 15_000 });
  return JSON.parse(stdout) as { nodes: Array<Record<string, unknown>>; leader: string; in_sync: string[]; cluster_name: string };
}

async function apiNodes(node: ClusterNode): Promise<Array<Record<string, unknown>>> {
  const r = await httpGet(node.host, node.managementPort, '/api/nodes');
  assert.equal(r.status, 200, r.body);
  return JSON.parse(r.body) as Array<Record<string, unknown>>;
}

describe('cluster formation', { skip: etcdAvailable() ? false : 'etcd is not installed (Debian etcd-server)' }, () => {
  let cluster: WarrenCluster;
  let prometheusPort = 0;
  before(async () => {
    // Each node on its own loopback address (127.0.0.1-3), so all three can serve Prometheus on one port.
    prometheusPort = await freePort();
    cluster = await WarrenCluster.start({
      size: 3, clusterName: 'formation', host: (i) => `127.0.0.${i}`, advertise: true,
      extraConf: [`prometheus.tcp.port = ${prometheusPort}`],
    });
  });
  after(async () => {
    await cluster?.stop();
  });

  it('three nodes started together form one cluster within 60 s: one leader, two in-sync followers', async () => {
    const leader = await cluster.waitForLeader({ followers: 2, inSync: true, timeoutMs: 60_000 });
    for (const node of cluster.nodes) {
      const nodes = await apiNodes(node);
      assert.deepEqual(nodes.map((n) => n['name']).sort(), ['warren-1', 'warren-2', 'warren-3']);
      assert.deepEqual(nodes.filter((n) => n['role'] === 'leader').map((n) => n['name']), [leader.name], `asked through ${node.name}`);
      assert.ok(nodes.every((n) => n['running'] === true && n['in_sync'] === true));
      // The leader's entry keeps RabbitMQ's single-node fields.
      const own = nodes.find((n) => n['name'] === leader.name)!;
      assert.equal(typeof own['mem_used'], 'number');
      assert.equal(own['lag_bytes'], 0);
    }
    const name = await httpGet(cluster.nodes[1]!.host, cluster.nodes[1]!.managementPort, '/api/cluster-name');
    assert.deepEqual(JSON.parse(name.body), { name: 'formation' });
  });

  it('every node reports itself to Prometheus: identity with the cluster name, leader or follower, in sync, lag', async () => {
    const leader = await cluster.waitForLeader({ followers: 2, inSync: true });
    for (const node of cluster.nodes) {
      const r = await httpGet(node.host, prometheusPort, '/metrics');
      assert.equal(r.status, 200);
      const s = parseExposition(r.body);
      const identity = find(s, 'rabbitmq_identity_info');
      assert.equal(identity.length, 1);
      assert.equal(identity[0]!.labels['rabbitmq_node'], node.name);
      assert.equal(identity[0]!.labels['rabbitmq_cluster'], 'formation');
      assert.equal(value(s, 'warren_cluster_leader'), node === leader ? 1 : 0, node.name);
      assert.equal(value(s, 'warren_cluster_in_sync'), 1, node.name);
      assert.ok(value(s, 'warren_cluster_replication_lag_bytes') >= 0, node.name);
      assert.equal(find(s, 'rabbitmq_queues').length, node === leader ? 1 : 0, 'only the leader serves the broker\'s figures');
    }
  });

  it('warrenctl cluster_status agrees with /api/nodes, through any node', async () => {
    const leader = await cluster.waitForLeader({ followers: 2, inSync: true });
    for (const node of cluster.nodes) {
      const status = await clusterStatus(node);
      assert.equal(status.cluster_name, 'formation');
      assert.equal(status.leader, leader.name);
      assert.deepEqual(status.in_sync, ['warren-1', 'warren-2', 'warren-3']);
      const api = await apiNodes(node);
      assert.deepEqual(status.nodes.map((n) => [n['name'], n['role']]).sort(), api.map((n) => [n['name'], n['role']]).sort());
    }
    const { stdout } = await run(process.execPath, [warrenctl, '--url', `http://guest:guest@${cluster.nodes[0]!.host}:${cluster.nodes[0]!.managementPort}`, 'cluster_status'], { timeout: 15_000 });
    assert.match(stdout, /^Cluster status of node warren-\d \.\.\./m);
    assert.match(stdout, new RegExp(`^Leader\\n\\n${leader.name}$`, 'm'));
    assert.match(stdout, /^Running Nodes\n\nwarren-1\nwarren-2\nwarren-3$/m);
  });

  it('a client of a follower reaches the leader: a queue declared through one node is seen through another', async () => {
    const leader = await cluster.waitForLeader({ followers: 2, inSync: true });
    const [viaA, viaB] = cluster.nodes.filter((n) => n !== leader);
    const a = await amqp.connect(viaA!.url);
    const b = await amqp.connect(viaB!.url);
    try {
      const chA = await a.createConfirmChannel();
      await chA.assertQueue('formation-q', { durable: true });
      for (let i = 0; i < 10; i++) chA.sendToQueue('formation-q', Buffer.from(`m${i}`), { persistent: true });
      await chA.waitForConfirms();
      const chB = await b.createChannel();
      const seen = await chB.checkQueue('formation-q');
      assert.equal(seen.messageCount, 10);
    } finally {
      await a.close().catch(() => undefined);
      await b.close().catch(() => undefined);
    }
  });

  it('a leader killed with SIGKILL is replaced within 5 s, with its confirmed messages', async () => {
    const old = await cluster.waitForLeader({ followers: 2, inSync: true });
    const survivors = cluster.nodes.filter((n) => n !== old);
    const killedAt = Date.now();
    await old.kill();
    const next = await cluster.waitForLeader({ not: old, ask: survivors, timeoutMs: 30_000 });
    const elected = Date.now() - killedAt;
    // Serving: an AMQP client through the other survivor gets the queue and its 10 confirmed messages.
    let served = 0;
    await eventually(async () => {
      const c = await amqp.connect(survivors.find((n) => n !== next)!.url);
      try {
        const ch = await c.createChannel();
        assert.equal((await ch.checkQueue('formation-q')).messageCount, 10);
        served = Date.now() - killedAt;
      } finally {
        await c.close().catch(() => undefined);
      }
    }, 30_000, 100);
    console.log(`# leader ${old.name} killed: ${next.name} leader after ${elected} ms, serving through a follower after ${served} ms`);
    assert.ok(served < 5_000, `new leader serving after ${served} ms (elected after ${elected} ms)`);

    // The killed node rejoins as a follower and gets back in sync.
    old.start();
    await old.waitListening();
    await eventually(async () => {
      const nodes = await apiNodes(next);
      const back = nodes.find((n) => n['name'] === old.name);
      assert.equal(back?.['role'], 'follower');
      assert.equal(back?.['in_sync'], true);
    }, 60_000, 200);
  });

  it('a leader stopped with SIGTERM leaves at once: its lease is revoked and another node leads without waiting for the TTL', async () => {
    const old = await cluster.waitForLeader({ followers: 2, inSync: true, timeoutMs: 60_000 });
    const survivors = cluster.nodes.filter((n) => n !== old);
    const stoppedAt = Date.now();
    await old.stop();
    assert.equal(old.proc?.exitCode, 0, old.logs());
    const next = await cluster.waitForLeader({ not: old, ask: survivors, timeoutMs: 30_000 });
    const elected = Date.now() - stoppedAt;
    console.log(`# leader ${old.name} stopped with SIGTERM: ${next.name} leader after ${elected} ms`);
    assert.ok(elected < 5_000, `new leader after ${elected} ms`);
    const view = await apiNodes(next);
    assert.equal(view.find((n) => n['name'] === old.name)?.['role'], 'down');
    assert.equal(view.find((n) => n['name'] === old.name)?.['running'], false);
  });
});
