// Cluster operations on a real etcd and three CLI nodes: `warrenctl forget_cluster_node` (refusals
// as rabbitmqctl's, then a stopped member leaves etcd's member list and in-sync set, and can join
// again as a new member); clients forwarded by a follower seen by the leader with their own address
// (PROXY protocol header, honoured only from members), for /api/connections and guest's loopback rule.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { connect as tcpConnect, type AddressInfo } from 'node:net';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import amqp from 'amqplib';
import { ClusterKeys, parseNodeList } from '../../src/cluster/cluster-keys.js';
import { EtcdClient } from '../../src/cluster/etcd-client.js';
import { checkoutRoot } from '../support/cli-process.js';
import { WarrenCluster, httpGet, type ClusterNode } from '../support/cluster.js';
import { etcdAvailable } from '../support/etcd.js';
import { eventually } from '../support/eventually.js';
import { createVhostWithUser } from '../support/admin.js';

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

/** A non-loopback IPv4 address of this machine, if it has one (a client from there is not local). */
function externalIPv4(): string | undefined {
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return undefined;
}

interface ConnectionJson {
  name: string;
  user: string;
  peer_host: string;
  peer_port: number;
}

async function connectionsOf(node: ClusterNode): Promise<ConnectionJson[]> {
  const r = await httpGet(node.host, node.managementPort, '/api/connections');
  assert.equal(r.status, 200, r.body);
  return JSON.parse(r.body) as ConnectionJson[];
}

describe('clients forwarded by a follower keep their own address', { skip: etcdAvailable() ? false : 'etcd is not installed (Debian etcd-server)' }, () => {
  let cluster: WarrenCluster;
  let leader: ClusterNode;
  let follower: ClusterNode;
  before(async () => {
    // Every node on all addresses (a client may come from outside), reached by its peers on loopback.
    cluster = await WarrenCluster.start({ size: 3, clusterName: 'proxied', host: () => '0.0.0.0', extraConf: ['cluster.advertised_host = 127.0.0.1'] });
    leader = await cluster.waitForLeader({ followers: 2, inSync: true, timeoutMs: 90_000 });
    follower = cluster.nodes.find((n) => n !== leader)!;
    await createVhostWithUser({ managementUrl: leader.managementUrl }, { vhost: '/', user: 'proxied', password: 'proxied-pw' });
  });
  after(async () => {
    await cluster?.stop();
  });

  it('/api/connections on the leader shows the client\'s address and port, not the follower\'s', async () => {
    // amqplib hands its socket options to net.connect (its types do not list localAddress).
    const conn = await amqp.connect(`amqp://guest:guest@127.0.0.1:${follower.amqpPort}`, { localAddress: '127.0.0.7' } as object);
    try {
      const local = (conn.connection as unknown as { stream: { localAddress: string; localPort: number } }).stream;
      assert.equal(local.localAddress, '127.0.0.7');
      await eventually(async () => {
        const mine = (await connectionsOf(leader)).filter((c) => c.peer_port === local.localPort);
        assert.equal(mine.length, 1, JSON.stringify(await connectionsOf(leader)));
        assert.equal(mine[0]!.peer_host, '127.0.0.7');
        assert.match(mine[0]!.name, new RegExp(`^127\\.0\\.0\\.7:${local.localPort} -> `));
      }, 15_000, 200);
    } finally {
      await conn.close();
    }
  });

  it('guest through a follower from a non-loopback address is refused, as it would be on the leader itself', { skip: externalIPv4() ? false : 'no non-loopback IPv4 address on this machine' }, async () => {
    const ip = externalIPv4()!;
    await assert.rejects(amqp.connect(`amqp://guest:guest@${ip}:${follower.amqpPort}`), /ACCESS.REFUSED|403/);
    // Another user is let in, and the leader sees where it really comes from.
    const conn = await amqp.connect(`amqp://proxied:proxied-pw@${ip}:${follower.amqpPort}`);
    try {
      const port = (conn.connection as unknown as { stream: { localPort: number } }).stream.localPort;
      await eventually(async () => {
        const mine = (await connectionsOf(leader)).find((c) => c.peer_port === port);
        assert.equal(mine?.peer_host, ip, JSON.stringify(await connectionsOf(leader)));
        assert.equal(mine?.user, 'proxied');
      }, 15_000, 200);
    } finally {
      await conn.close();
    }
  });

  it('a PROXY header from an address that is no member is ignored: the connection keeps its own address', { skip: externalIPv4() ? false : 'no non-loopback IPv4 address on this machine' }, async () => {
    const ip = externalIPv4()!;
    const socket = tcpConnect({ host: ip, port: leader.amqpPort });
    try {
      await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
      const from = (socket.address() as AddressInfo).port;
      socket.write(`PROXY TCP4 10.9.9.9 ${ip} 4242 ${leader.amqpPort}\r\nAMQP\x00\x00\x09\x01`, 'latin1');
      // The broker answers as to any client: connection.start (a method frame, type 1, on channel 0).
      const first = await new Promise<Buffer>((resolve, reject) => socket.once('data', resolve).once('error', reject));
      assert.equal(first[0], 1);
      assert.equal(first.readUInt16BE(1), 0);
      await eventually(() => {
        const warned = leader.proc!.lines.find((l) => typeof l.msg === 'string' && l.msg.includes('no cluster member') && l['claimed'] === '10.9.9.9');
        assert.ok(warned, 'the leader logs the ignored header');
        assert.equal(warned['peer'], `${ip}:${from}`);
      }, 10_000, 100);
    } finally {
      socket.destroy();
    }
  });
});
