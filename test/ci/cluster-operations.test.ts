// Cluster operations on a real etcd and three CLI nodes: `warrenctl forget_cluster_node` (refusals
// as rabbitmqctl's, then a stopped member leaves etcd's member list and in-sync set, and can join
// again as a new member).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import amqp from 'amqplib';
import { ClusterKeys, parseNodeList } from '../../src/cluster/cluster-keys.js';
import { EtcdClient } from '../../src/cluster/etcd-client.js';
import { checkoutRoot } from '../support/cli-process.js';
import { WarrenCluster, httpGet, type ClusterNode } from '../support/cluster.js';
import { etcdAvailable } from '../support/etcd.js';
import { eventually } from '../support/eventually.js';

const warrenctlJs = join(checkoutRoot, 'dist', 'src', 'cli', 'warrenctl.js');
const CLUSTER = 'operations';

/** warrenctl against one node's management API; never throws on a non-zero exit. */
function warrenctl(node: ClusterNode, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [warrenctlJs, '--url', `http://guest:guest@${node.host}:${node.managementPort}`, ...args], { timeout: 30_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
    });
  });
}

async function nodeNames(node: ClusterNode): Promise<Array<{ name: string; role: string; running: boolean }>> {
  const r = await httpGet(node.host, node.managementPort, '/api/nodes');
  assert.equal(r.status, 200, r.body);
  return (JSON.parse(r.body) as Array<{ name: string; role: string; running: boolean }>).map((n) => ({ name: n.name, role: n.role, running: n.running }));
}

describe('cluster operations', { skip: etcdAvailable() ? false : 'etcd is not installed (Debian etcd-server)' }, () => {
  let cluster: WarrenCluster;
  let etcd: EtcdClient;
  const keys = new ClusterKeys('warren-tests', CLUSTER);
  before(async () => {
    cluster = await WarrenCluster.start({ size: 3, clusterName: CLUSTER });
    etcd = new EtcdClient([cluster.etcd.endpoint]);
  });
  after(async () => {
    etcd?.close();
    await cluster?.stop();
  });

  it('forget_cluster_node refuses the leader, a running follower and a non-member, as rabbitmqctl', async () => {
    const leader = await cluster.waitForLeader({ followers: 2, inSync: true, timeoutMs: 90_000 });
    const follower = cluster.nodes.find((n) => n !== leader)!;
    for (const target of [leader, follower]) {
      const r = await warrenctl(follower, ['forget_cluster_node', target.name]);
      assert.equal(r.code, 69, `${target.name}: ${r.stdout} ${r.stderr}`);
      assert.match(r.stdout, new RegExp(`^Removing node ${target.name} from the cluster`));
      assert.equal(r.stderr, `Error:\nWarren on node ${target.name} must be stopped before it can be removed\n`);
    }
    const stranger = await warrenctl(leader, ['forget_cluster_node', 'warren-9']);
    assert.equal(stranger.code, 69);
    assert.equal(stranger.stderr, "Error:\n{:not_a_cluster_node, 'The node selected is not in the cluster.'}\n");
    // Nothing was removed.
    assert.equal((await etcd.getPrefix(keys.members)).kvs.length, 3);
  });

  it('a stopped member is forgotten through any node: gone from the member list and the in-sync set; it can join again', async () => {
    const leader = await cluster.waitForLeader({ followers: 2, inSync: true, timeoutMs: 90_000 });
    const [gone, other] = cluster.nodes.filter((n) => n !== leader) as [ClusterNode, ClusterNode];
    await gone.kill();
    // Its registration lapses with its lease (3 s); the leader then writes the smaller in-sync set.
    await eventually(async () => {
      const nodes = await nodeNames(leader);
      assert.deepEqual(nodes.find((n) => n.name === gone.name), { name: gone.name, role: 'down', running: false });
    }, 30_000, 200);

    const r = await warrenctl(other, ['forget_cluster_node', gone.name]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `Removing node ${gone.name} from the cluster\n`);

    const members = (await etcd.getPrefix(keys.members)).kvs.map((kv) => kv.key.slice(keys.members.length)).sort();
    assert.deepEqual(members, [leader.name, other.name].sort());
    const inSync = parseNodeList((await etcd.get(keys.inSync))?.value) ?? [];
    assert.ok(!inSync.includes(gone.name), `in-sync ${JSON.stringify(inSync)}`);
    assert.deepEqual((await nodeNames(other)).map((n) => n.name).sort(), [leader.name, other.name].sort());
    const status = await warrenctl(leader, ['cluster_status', '--formatter', 'json']);
    assert.deepEqual((JSON.parse(status.stdout) as { disk_nodes: string[] }).disk_nodes, [leader.name, other.name].sort());
    // Forgetting it twice: it is no member any more.
    const again = await warrenctl(leader, ['forget_cluster_node', gone.name]);
    assert.equal(again.code, 69);
    assert.match(again.stderr, /not_a_cluster_node/);

    // The two remaining nodes still confirm (a majority of two members).
    const conn = await amqp.connect(leader.url);
    try {
      const ch = await conn.createConfirmChannel();
      await ch.assertQueue('forget-q', { durable: true });
      ch.sendToQueue('forget-q', Buffer.from('after forget'), { persistent: true });
      await ch.waitForConfirms();
    } finally {
      await conn.close();
    }

    // Started again, the node joins as a new member and catches up.
    gone.start();
    await eventually(async () => {
      const nodes = await nodeNames(leader);
      assert.equal(nodes.length, 3);
      assert.ok(nodes.every((n) => n.running), JSON.stringify(nodes));
    }, 60_000, 200);
    await cluster.waitForLeader({ followers: 2, inSync: true, timeoutMs: 60_000 });
    assert.equal((await etcd.getPrefix(keys.members)).kvs.length, 3);
  });
});
