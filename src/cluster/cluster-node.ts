/**
 * One cluster node: a process that is either the leader (runs the Broker on its data dir and the
 * replication leader) or a follower (mirrors the leader's data dir and forwards client connections
 * to it). etcd decides which, through the keys described in cluster-keys.ts.
 *
 * The role is settled by `reconcile()`, run on every change etcd reports (a watch of the cluster's
 * prefix), on a 1 s tick as a safety net, and when the lease is lost. Transitions run one at a time:
 *
 *   follower → leader   the leader key was absent, this node is in the in-sync set (or the set is
 *                       empty: a new cluster), and its create-if-absent transaction won. Stop
 *                       mirroring (the data dir is consistent and fsynced), close the proxies, start
 *                       the replication leader, then Broker.start() on the mirrored dir: crash
 *                       recovery brings back every queue, message and definition.
 *   leader → follower   the lease could not be kept (etcd unreachable or expired) or the leader key
 *                       is no longer ours: close the Broker at once (every client socket reset,
 *                       nothing more is confirmed or delivered), then follow whoever leads, resyncing the dir.
 */
import { createServer, type AddressInfo } from 'node:net';
import type { BrokerOptions } from '../config.js';
import type { ClusterNodeStatus, ClusterStatusSource } from '../cluster-status.js';
import type { Logger } from '../logger.js';
import type { NodeClusterState } from '../metrics/cluster-families.js';
import { Broker } from '../server.js';
import { ClusterKeys, parseNodeList, parseRegistration, type NodeRegistration } from './cluster-keys.js';
import { EtcdClient, type EtcdTls, type Watch } from './etcd-client.js';
import { ForwardingProxy, type ForwardedPort } from './forwarding-proxy.js';
import { FollowerMetrics } from './follower-metrics.js';
import { forgetMember } from './forget-member.js';
import { LeaseKeeper } from './lease-keeper.js';
import { ReplicationFollower, ReplicationLeader } from './replication/index.js';

export interface ClusterNodeOptions {
  /** What the leader's Broker is started with (ports, data dir, users, TLS...). */
  broker: BrokerOptions;
  nodeName: string;
  clusterName: string;
  keyPrefix: string;
  etcdEndpoints: string[];
  /** HTTPS to etcd (cluster_formation.etcd.scheme = https / ssl_options). */
  etcdTls?: EtcdTls;
  /** Where other nodes reach this one. */
  advertisedHost: string;
  /** Replication listener port. */
  clusterPort: number;
  log: Logger;
  /** Leader lease TTL, seconds (default 3: a dead leader's key is gone within 3 s). */
  leaseTtl?: number;
}

type Role = 'follower' | 'leader';

const TICK_MS = 1000;

function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, () => {
      const port = (s.address() as AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

export class ClusterNode implements ClusterStatusSource {
  readonly clusterName: string;
  private readonly etcd: EtcdClient;
  private readonly keys: ClusterKeys;
  private readonly log: Logger;
  private role: Role = 'follower';
  private lease: LeaseKeeper | undefined;
  private broker: Broker | undefined;
  private replicationLeader: ReplicationLeader | undefined;
  private follower: ReplicationFollower | undefined;
  /** The leader followed now: its registration and the create revision of its leader key (one per term). */
  private following: { reg: NodeRegistration; term: number } | undefined;
  private proxy: ForwardingProxy | undefined;
  private followerMetrics: FollowerMetrics | undefined;
  /** Ports as bound by the first listener (port 0 in the config picks one, kept for both roles). */
  private ports: { amqp: number; amqpExtra: number[]; amqps: number[]; management: number; stream: number; prometheus: number } | undefined;
  private watch: Watch | undefined;
  private ticker: NodeJS.Timeout | undefined;
  private chain: Promise<void> = Promise.resolve();
  private pending = false;
  private stopped = false;
  /** Last view of etcd, for status and the majority. */
  private view = { members: [] as string[], registrations: new Map<string, NodeRegistration>(), leader: undefined as string | undefined, inSync: [] as string[] };
  private leaderValue: string | undefined;
  /** The in-sync set as this leader last wrote it to etcd (itself included); see acksNeeded(). */
  private writtenInSync: string[] = [];
  private inSyncWrites: Promise<void> = Promise.resolve();
  /** Set when the lease was lost while leading: the broker's close, started at once. */
  private brokerClosing: Promise<void> | undefined;
  private lastError = '';

  private constructor(private readonly o: ClusterNodeOptions) {
    this.clusterName = o.clusterName;
    this.log = o.log;
    this.etcd = new EtcdClient(o.etcdEndpoints, o.etcdTls ? { tls: o.etcdTls } : {});
    this.keys = new ClusterKeys(o.keyPrefix, o.clusterName);
  }

  /** Starts as a follower (listening, forwarding nothing until a leader is known) and joins the cluster. */
  static async start(o: ClusterNodeOptions): Promise<ClusterNode> {
    // The replication port is in the leader key, written before the replication listener starts: pick a fixed one now.
    const node = new ClusterNode(o.clusterPort > 0 ? o : { ...o, clusterPort: await freeLoopbackPort() });
    await node.startProxy();
    node.log('info', 'cluster node starting', { node: o.nodeName, cluster: o.clusterName, etcd: o.etcdEndpoints.join(','), ...node.ports });
    node.watch = node.etcd.watchPrefix(node.keys.root, () => node.schedule(), { onReset: () => node.schedule() });
    node.ticker = setInterval(() => node.schedule(), TICK_MS);
    node.schedule();
    return node;
  }

  get nodeName(): string {
    return this.o.nodeName;
  }

  get isLeader(): boolean {
    return this.role === 'leader';
  }

  /** The Broker while this node leads. */
  get currentBroker(): Broker | undefined {
    return this.broker;
  }

  /** Every member, the leader first: for /api/nodes, cluster_status and the metrics. */
  nodes(): ClusterNodeStatus[] {
    const followers = new Map((this.replicationLeader?.followers() ?? []).map((f) => [f.node, f]));
    const names = new Set([...this.view.members, ...this.view.registrations.keys()]);
    const out: ClusterNodeStatus[] = [];
    for (const name of names) {
      const reg = this.view.registrations.get(name);
      const f = followers.get(name);
      const isLeader = name === this.view.leader;
      out.push({
        name,
        role: !reg ? 'down' : isLeader ? 'leader' : 'follower',
        running: reg !== undefined,
        // As etcd holds the set (who may be elected), not the replication leader's view of the moment.
        inSync: isLeader || (this.role === 'leader' ? this.writtenInSync : this.view.inSync).includes(name),
        lagBytes: isLeader ? 0 : f ? f.lagBytes : null,
        connected: isLeader || (f?.connected ?? false),
        host: reg?.host ?? '',
        amqpPort: reg?.amqp ?? 0,
        managementPort: reg?.management ?? 0,
      });
    }
    const rank = (n: ClusterNodeStatus) => (n.role === 'leader' ? 0 : 1);
    return out.sort((a, b) => rank(a) - rank(b) || a.name.localeCompare(b.name));
  }

  /**
   * Whether a connection from `address` may name its client with a PROXY header: it comes from a
   * follower's address, as its replication connection shows it (the kernel's choice of source
   * address, whatever the follower advertises) or as the node registered it.
   */
  private isMemberAddress(address: string): boolean {
    const a = address.startsWith('::ffff:') ? address.slice(7) : address;
    const same = (b: string) => (b.startsWith('::ffff:') ? b.slice(7) : b) === a;
    if (this.replicationLeader?.followerAddresses().some(same)) return true;
    for (const reg of this.view.registrations.values()) if (reg.node !== this.o.nodeName && same(reg.host)) return true;
    return false;
  }

  /** forget_cluster_node (forget-member.ts); only the leader is asked (followers forward the API to it). */
  async forget(node: string): Promise<void> {
    if (this.role !== 'leader' || !this.leaderValue) throw new Error('this node is not the leader; run the command again');
    const { inSync } = await forgetMember(this.etcd, this.keys, { node: this.o.nodeName, value: this.leaderValue }, node);
    this.log('info', 'cluster: member forgotten', { node, inSync });
    this.view.members = this.view.members.filter((n) => n !== node);
    this.view.inSync = inSync;
    this.writtenInSync = this.writtenInSync.filter((n) => n !== node);
    // One member fewer: the majority (and the in-sync set confirms wait for) may be smaller now.
    this.replicationLeader?.majorityChanged();
    this.schedule();
  }

  /** Leaves the cluster: the Broker (as leader) or the mirror and proxies closed, the lease revoked. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.ticker);
    this.watch?.close();
    await this.chain;
    await this.broker?.close();
    this.broker = undefined;
    await this.replicationLeader?.close();
    await this.follower?.close();
    await this.closeFollowerListeners();
    // Revoking deletes our registration and, if we led, the leader key: the others elect at once.
    await this.lease?.revoke();
    this.etcd.close();
    this.log('info', 'cluster node stopped', { node: this.o.nodeName });
  }

  // ---- the role state machine ----

  /** Runs reconcile() after whatever is running; several requests meanwhile make one more run. */
  private schedule(): void {
    if (this.stopped || this.pending) return;
    this.pending = true;
    this.chain = this.chain.then(async () => {
      this.pending = false;
      if (this.stopped) return;
      try {
        await this.reconcile();
        this.lastError = '';
      } catch (e) {
        // Logged once per distinct error, not every second while etcd is away.
        const error = (e as Error).message;
        if (error !== this.lastError) this.log('warn', 'cluster: etcd step failed, retrying every second', { error });
        this.lastError = error;
      }
    });
  }

  private async reconcile(): Promise<void> {
    if (!this.lease?.alive) {
      if (this.role === 'leader') await this.stepDown('lease lost');
      await this.register();
    }
    const [leaderKv, inSyncKv, members, nodes] = await Promise.all([
      this.etcd.get(this.keys.leader),
      this.etcd.get(this.keys.inSync),
      this.etcd.getPrefix(this.keys.members),
      this.etcd.getPrefix(this.keys.nodes),
    ]);
    const registrations = new Map<string, NodeRegistration>();
    for (const kv of nodes.kvs) {
      const reg = parseRegistration(kv.value);
      if (reg) registrations.set(reg.node, reg);
    }
    const inSync = parseNodeList(inSyncKv?.value) ?? [];
    const leaderReg = leaderKv ? parseRegistration(leaderKv.value) : undefined;
    this.view = { members: members.kvs.map((kv) => kv.key.slice(this.keys.members.length)), registrations, leader: leaderReg?.node, inSync };

    if (this.role === 'leader') {
      if (leaderKv && leaderKv.value === this.leaderValue && leaderKv.lease === this.lease?.id) {
        // A write that failed (etcd briefly away) is retried here.
        void this.syncInSync();
        return;
      }
      await this.stepDown('the leader key is no longer ours');
    }
    if (leaderKv && leaderReg) {
      if (leaderReg.node === this.o.nodeName) {
        // Our own key from before a restart (kill -9): that process is gone, so is its right to lead.
        if (leaderKv.lease !== this.lease?.id) await this.etcd.revokeLease(leaderKv.lease);
        return;
      }
      await this.follow(leaderReg, leaderKv.createRevision);
      return;
    }
    // No leader. A new cluster (no in-sync set yet) lets anyone campaign; otherwise only an in-sync node.
    if (inSync.length > 0 && !inSync.includes(this.o.nodeName)) {
      this.unfollow('no leader; not in the in-sync set, waiting for one that is');
      return;
    }
    const value = JSON.stringify(this.registration('leader'));
    const won = await this.etcd.createIfAbsent(this.keys.leader, value, { lease: this.lease!.id });
    if (won.created) {
      this.leaderValue = value;
      await this.becomeLeader();
    }
    // Lost the race: the watch reports the winner and the next run follows it.
  }

  private async register(): Promise<void> {
    // A lease we gave up on may still be alive in etcd: revoke it, so its keys go now, not at its expiry.
    const old = this.lease;
    this.lease = undefined;
    if (old) await old.revoke();
    this.lease = await LeaseKeeper.grant(this.etcd, this.o.leaseTtl ?? 3, (why) => {
      this.log('warn', 'cluster: lease lost', { node: this.o.nodeName, reason: why, role: this.role });
      // A leader closes its broker at once, not after whatever etcd call is pending: an isolated
      // leader must stop accepting publishes before another node can be elected.
      if (this.role === 'leader' && this.broker) this.brokerClosing ??= this.broker.close({ reset: true });
      if (this.role === 'leader') this.chain = this.chain.then(() => this.stepDown(why));
      this.schedule();
    });
    await this.putRegistration();
    await this.etcd.createIfAbsent(this.keys.member(this.o.nodeName), JSON.stringify({ joined: new Date().toISOString() }));
  }

  private async putRegistration(): Promise<void> {
    if (!this.lease) return;
    await this.etcd.put(this.keys.node(this.o.nodeName), JSON.stringify(this.registration(this.role)), { lease: this.lease.id });
  }

  private registration(role: Role): NodeRegistration {
    const p = this.ports!;
    return {
      node: this.o.nodeName, host: this.o.advertisedHost, amqp: p.amqp, management: p.management, stream: p.stream,
      cluster: this.o.clusterPort, amqpExtra: p.amqpExtra, amqps: p.amqps, role, pid: process.pid,
    };
  }

  private async becomeLeader(): Promise<void> {
    const started = Date.now();
    this.log('info', 'cluster: elected leader, promoting', { node: this.o.nodeName });
    this.role = 'leader';
    this.following = undefined;
    await this.follower?.close();
    this.follower = undefined;
    await this.closeFollowerListeners();
    const b = this.o.broker;
    try {
      // Until our own set is written, the previous leader's counts (the stricter, if anything).
      this.writtenInSync = this.view.inSync;
      const leader = await ReplicationLeader.start({
        dataDir: b.dataDir ?? './data', host: b.host ?? '::', port: this.o.clusterPort, nodeName: this.o.nodeName,
        majority: () => this.acksNeeded(), log: this.log,
      });
      this.replicationLeader = leader;
      leader.on('in-sync', () => void this.syncInSync());
      // Nobody is in sync with this term yet: the set is this node alone until followers catch up.
      await this.syncInSync();
      const p = this.ports!;
      this.broker = await Broker.start({
        ...b,
        port: p.amqp,
        ...(b.extraListeners ? { extraListeners: b.extraListeners.map((l, i) => ({ host: l.host, port: p.amqpExtra[i] ?? l.port })) } : {}),
        ...(b.tlsListeners ? { tlsListeners: b.tlsListeners.map((l, i) => ({ host: l.host, port: p.amqps[i] ?? l.port })) } : {}),
        managementPort: p.management,
        streamPort: p.stream,
        prometheusPort: p.prometheus,
        replication: leader.changes,
        cluster: this,
        proxyHeaderFrom: (address) => this.isMemberAddress(address),
      });
    } catch (e) {
      this.log('error', 'cluster: could not start as leader; stepping down', { error: (e as Error).message });
      await this.stepDown('start failed');
      return;
    }
    await this.putRegistration().catch(() => undefined);
    this.log('info', 'cluster: leader serving', { node: this.o.nodeName, ms: Date.now() - started });
  }

  /**
   * Copies the confirm gate's durability requirement (ReplicationLeader's `majority`, the leader
   * included): a majority of members, and never fewer than the in-sync set as etcd holds it. So
   * every node etcd lists as in sync — every node that may be elected — has every confirmed change,
   * whichever of them wins. A follower leaving the set is waited for until etcd no longer lists it
   * (one write); one joining counts only once etcd lists it.
   */
  private acksNeeded(): number {
    const majority = Math.floor(Math.max(1, this.view.members.length) / 2) + 1;
    return Math.max(majority, this.writtenInSync.length);
  }

  /** Writes the replication leader's current in-sync set, one write at a time, in order. */
  private syncInSync(): Promise<void> {
    this.inSyncWrites = this.inSyncWrites.then(() => this.writeInSync());
    return this.inSyncWrites;
  }

  /** The in-sync set: this leader and the followers whose copy is complete; written only while we still lead. */
  private async writeInSync(): Promise<void> {
    const leader = this.replicationLeader;
    // Leaving (stop or step-down) closes the followers' sessions: that must not shrink the set the
    // next leader is chosen from.
    if (this.stopped || this.role !== 'leader' || !this.leaderValue || !leader) return;
    const names = [this.o.nodeName, ...leader.inSync().filter((n) => n !== this.o.nodeName)].sort();
    if (names.join('\0') === this.writtenInSync.join('\0')) return;
    try {
      if (await this.etcd.putIf({ key: this.keys.leader, value: this.leaderValue }, this.keys.inSync, JSON.stringify(names))) {
        this.writtenInSync = names;
        this.view.inSync = names;
        // A smaller set may let held confirms go now, not at the next ack.
        leader.majorityChanged();
        this.log('info', 'cluster: in-sync set', { inSync: names });
      }
    } catch (e) {
      this.log('warn', 'cluster: could not write the in-sync set, retrying', { error: (e as Error).message });
    }
  }

  private async stepDown(why: string): Promise<void> {
    if (this.role !== 'leader') return;
    this.log('warn', 'cluster: stepping down', { node: this.o.nodeName, reason: why });
    this.role = 'follower';
    const broker = this.broker;
    this.broker = undefined;
    await (this.brokerClosing ?? broker?.close({ reset: true }));
    this.brokerClosing = undefined;
    await this.replicationLeader?.close();
    this.replicationLeader = undefined;
    if (this.leaderValue) await this.etcd.deleteIfValue(this.keys.leader, this.leaderValue).catch(() => undefined);
    this.leaderValue = undefined;
    await this.startProxy();
    await this.putRegistration().catch(() => undefined);
  }

  /** Mirror this leader and forward clients to it (a new term of the same node counts as new). */
  private async follow(reg: NodeRegistration, term: number): Promise<void> {
    await this.startProxy();
    const same = this.following && this.following.term === term && this.following.reg.node === reg.node;
    if (same && this.follower) return;
    if (!same) {
      this.log('info', 'cluster: following', { node: this.o.nodeName, leader: reg.node, host: reg.host, port: reg.cluster });
      this.proxy!.retarget({ host: reg.host, ports: this.leaderPorts(reg) });
    }
    await this.follower?.close();
    this.follower = undefined;
    this.following = { reg, term };
    this.follower = await ReplicationFollower.start({ dataDir: this.o.broker.dataDir ?? './data', nodeName: this.o.nodeName, leader: { host: reg.host, port: reg.cluster }, log: this.log });
    this.follower.on('caught-up', () => this.log('info', 'cluster: caught up with the leader', { node: this.o.nodeName, leader: reg.node }));
  }

  private unfollow(why: string): void {
    if (this.following || !this.proxy) this.log('info', 'cluster: no leader to follow', { node: this.o.nodeName, reason: why });
    this.following = undefined;
    this.proxy?.retarget(undefined);
  }

  private leaderPorts(reg: NodeRegistration): Record<string, number> {
    const ports: Record<string, number> = { amqp: reg.amqp, management: reg.management, stream: reg.stream };
    reg.amqpExtra.forEach((p, i) => (ports[`amqp-${i + 1}`] = p));
    reg.amqps.forEach((p, i) => (ports[`amqps-${i}`] = p));
    return ports;
  }

  /**
   * A follower's listeners: the client ports, forwarded to the leader, and its own Prometheus
   * endpoint. Once bound, the same ports serve the leader's Broker if this node is promoted.
   */
  private async startProxy(): Promise<void> {
    if (this.proxy) return;
    const b = this.o.broker;
    const host = b.host ?? '::';
    const specs: ForwardedPort[] = [{ name: 'amqp', host, port: this.ports?.amqp ?? b.port ?? 5672, proxyHeader: true }];
    (b.extraListeners ?? []).forEach((l, i) => specs.push({ name: `amqp-${i + 1}`, host: l.host, port: this.ports?.amqpExtra[i] ?? l.port, proxyHeader: true }));
    (b.tlsListeners ?? []).forEach((l, i) => specs.push({ name: `amqps-${i}`, host: l.host, port: this.ports?.amqps[i] ?? l.port }));
    const management = this.ports?.management ?? b.managementPort ?? 15672;
    if (management > 0) specs.push({ name: 'management', host: b.managementHost ?? host, port: management });
    const stream = this.ports?.stream ?? b.streamPort ?? 5552;
    if (stream > 0) specs.push({ name: 'stream', host: b.streamHost ?? host, port: stream, optional: this.ports === undefined && b.streamPort === undefined });
    const proxy = await ForwardingProxy.start(specs, this.log);
    this.proxy = proxy;
    let prometheus = this.ports?.prometheus ?? b.prometheusPort ?? 15692;
    if (prometheus > 0) {
      try {
        this.followerMetrics = await FollowerMetrics.start({
          host: b.prometheusHost ?? host, port: prometheus, node: this.o.nodeName, cluster: b.clusterName ?? this.clusterName,
          dataDir: b.dataDir ?? './data', state: () => this.followerState(),
        });
        prometheus = this.followerMetrics.port;
      } catch (e) {
        await proxy.close();
        this.proxy = undefined;
        throw e;
      }
    }
    this.ports ??= {
      amqp: proxy.boundPort('amqp'),
      amqpExtra: (b.extraListeners ?? []).map((_l, i) => proxy.boundPort(`amqp-${i + 1}`)),
      amqps: (b.tlsListeners ?? []).map((_l, i) => proxy.boundPort(`amqps-${i}`)),
      management: management > 0 ? proxy.boundPort('management') : 0,
      stream: stream > 0 ? proxy.boundPort('stream') : 0,
      prometheus,
    };
    if (this.following) proxy.retarget({ host: this.following.reg.host, ports: this.leaderPorts(this.following.reg) });
  }

  private async closeFollowerListeners(): Promise<void> {
    await this.proxy?.close();
    this.proxy = undefined;
    await this.followerMetrics?.close();
    this.followerMetrics = undefined;
  }

  private followerState(): NodeClusterState {
    return { role: 'follower', inSync: this.view.inSync.includes(this.o.nodeName), lagBytes: this.following && this.follower ? this.follower.lagBytes : null };
  }
}
