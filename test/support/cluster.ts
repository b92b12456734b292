/**
 * A Warren cluster of real processes for tests and the bench: a real etcd (test/support/etcd.ts) and N
 * nodes started the way an operator does, `warren --config node-N.conf --data-dir DIR --node-name
 * warren-N`, each with its own rabbitmq.conf (listeners, management, cluster_formation.etcd.*,
 * cluster.listener.port) on free ports. Nodes can be killed with SIGKILL and restarted on the same
 * config and data dir; `stop()` kills everything and removes every file, and every child still alive
 * when the test process exits is killed (CliProcess does that), so nothing is left behind.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NODE_FLAGS, withNodeEnvironment } from '../../src/cli/node-flags.js';
import { CliProcess, checkoutRoot, warrenCli } from './cli-process.js';
import { startEtcd, type EtcdServer } from './etcd.js';
import { freePort } from './free-port.js';

export interface ClusterOptions {
  size?: number;
  /** An etcd the caller started (and stops); by default one is started on loopback and stopped with the cluster. */
  etcd?: EtcdServer;
  /** Address of node i (default 127.0.0.1 for all); the partition test gives each its namespace's address. */
  host?: (i: number) => string;
  /** Command prefix that runs node i, e.g. ['ip', 'netns', 'exec', 'ns1'] (default none). */
  wrap?: (i: number) => string[];
  /** Write `cluster.advertised_host = <host>` (nodes on distinct addresses tell peers where they are). */
  advertise?: boolean;
  /** Extra rabbitmq.conf lines for every node. */
  extraConf?: string[];
  clusterName?: string;
}

/** One node's role as the cluster reports it (GET /api/nodes on any node). */
export interface NodeView {
  name: string;
  /** 'leader' | 'follower' | … as cctl reports it; undefined when the API did not say. */
  role: string | undefined;
  running: boolean;
  inSync: boolean | undefined;
  raw: Record<string, unknown>;
}

export class ClusterNode {
  proc: CliProcess | null = null;
  /** pids of every process this node ever ran, newest last (for the report). */
  readonly pids: number[] = [];
  /** Log lines of earlier runs (kept for failure messages; the current run's are in proc.lines). */
  private history: string[] = [];

  constructor(
    readonly index: number,
    readonly name: string,
    readonly host: string,
    readonly amqpPort: number,
    readonly managementPort: number,
    readonly clusterPort: number,
    readonly confFile: string,
    readonly dataDir: string,
    private readonly wrap: string[],
  ) {}

  get url(): string {
    return `amqp://guest:guest@${this.host}:${this.amqpPort}/%2F`;
  }

  get managementUrl(): string {
    return `http://${this.host}:${this.managementPort}`;
  }

  get alive(): boolean {
    return this.proc !== null && this.proc.exitCode === null && this.proc.signal === null;
  }

  start(): void {
    if (this.alive) throw new Error(`${this.name} is already running`);
    if (this.proc) this.history.push(...this.runLog(), `--- ${this.name} restarted ---`);
    const [cmd, ...prefix] = [...this.wrap, process.execPath];
    // The node flags and environment the `warren` shebang gives (as CliProcess.start), so a cluster
    // node runs as an operator's does and as the bench's single node.
    const args = [...prefix, ...NODE_FLAGS, warrenCli, '--config', this.confFile, '--data-dir', this.dataDir, '--node-name', this.name];
    this.proc = new CliProcess(spawn(cmd!, args, { cwd: checkoutRoot, env: withNodeEnvironment(), stdio: ['ignore', 'pipe', 'pipe'], detached: true }));
    this.pids.push(this.proc.child.pid ?? 0);
  }

  /** SIGKILL, as a crash: no shutdown of any kind runs. Resolves once the process is gone. */
  async kill(): Promise<void> {
    const p = this.proc;
    if (!p || !this.alive) return;
    p.signalGroup('SIGKILL');
    await p.exited;
  }

  /** SIGTERM, then SIGKILL after 10 s. */
  async stop(): Promise<void> {
    const p = this.proc;
    if (!p || !this.alive) return;
    p.signalGroup('SIGTERM');
    await p.waitExit(10_000);
  }

  /** Resolves once the node accepts TCP connections on its AMQP port (leader or follower alike). */
  async waitListening(timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await tcpOpen(this.host, this.amqpPort))) {
      if (!this.alive) throw new Error(`${this.name} exited (${this.proc?.exitCode ?? this.proc?.signal}) before listening:\n${this.logs()}`);
      if (Date.now() > deadline) throw new Error(`${this.name} did not listen on ${this.host}:${this.amqpPort} within ${timeoutMs} ms:\n${this.logs()}`);
      await sleep(100);
    }
  }

  private runLog(): string[] {
    if (!this.proc) return [];
    return [...this.proc.lines.map((l) => JSON.stringify(l)), ...this.proc.stderr];
  }

  /** The last lines of every run of this node. */
  logs(lines = 60): string {
    return [...this.history, ...this.runLog()].slice(-lines).join('\n');
  }
}

export class WarrenCluster {
  private constructor(
    readonly etcd: EtcdServer,
    private readonly ownsEtcd: boolean,
    readonly nodes: ClusterNode[],
    readonly dir: string,
  ) {}

  /** Writes the config files and starts every node; resolves when all listen (not yet when a leader serves). */
  static async start(o: ClusterOptions = {}): Promise<WarrenCluster> {
    const size = o.size ?? 3;
    const etcd = o.etcd ?? (await startEtcd());
    const dir = mkdtempSync(join(tmpdir(), 'warren-cluster-'));
    const clusterName = o.clusterName ?? `ctests-${process.pid}`;
    const nodes: ClusterNode[] = [];
    for (let i = 1; i <= size; i++) {
      const host = o.host?.(i) ?? '127.0.0.1';
      const [amqp, mgmt, peer] = [await freePort(), await freePort(), await freePort()];
      const name = `warren-${i}`;
      const conf = join(dir, `node-${i}.conf`);
      writeFileSync(conf, [
        `# ${name} of ${clusterName} (written by test/support/cluster.ts)`,
        `listeners.tcp.default = ${host}:${amqp}`,
        `management.tcp.ip = ${host}`,
        `management.tcp.port = ${mgmt}`,
        'prometheus.tcp.port = 0',
        'stream.listeners.tcp = none',
        `cluster_name = ${clusterName}`,
        'cluster_formation.peer_discovery_backend = etcd',
        `cluster_formation.etcd.endpoints.1 = ${etcd.endpoint}`,
        `cluster_formation.etcd.cluster_name = ${clusterName}`,
        `cluster_formation.etcd.key_prefix = warren-tests`,
        `cluster.listener.port = ${peer}`,
        ...(o.advertise ? [`cluster.advertised_host = ${host}`] : []),
        ...(o.extraConf ?? []),
        '',
      ].join('\n'));
      nodes.push(new ClusterNode(i, name, host, amqp, mgmt, peer, conf, join(dir, `data-${i}`), o.wrap?.(i) ?? []));
    }
    const cluster = new WarrenCluster(etcd, o.etcd === undefined, nodes, dir);
    try {
      for (const n of nodes) n.start();
      await Promise.all(nodes.map((n) => n.waitListening()));
    } catch (e) {
      await cluster.stop();
      throw e;
    }
    return cluster;
  }

  /** amqp URLs of every node, in order: what a client configured with the node list gets. */
  urls(query = ''): string[] {
    return this.nodes.map((n) => `${n.url}${query}`);
  }

  /** GET /api/nodes from the first live node that answers (a follower forwards it to the leader). */
  async view(from: ClusterNode[] = this.nodes): Promise<NodeView[] | null> {
    for (const n of from) {
      if (!n.alive) continue;
      const r = await httpGet(n.host, n.managementPort, '/api/nodes').catch(() => null);
      if (r?.status !== 200) continue;
      try {
        return (JSON.parse(r.body) as Record<string, unknown>[]).map(nodeView);
      } catch {
        continue;
      }
    }
    return null;
  }

  /**
   * Polls until the cluster reports exactly one leader among the live nodes (and, with `followers`,
   * that many others as running followers, in sync with `inSync`), and returns it. `ask`: the nodes
   * to query (default all; a partitioned node would only make each poll wait for its timeout).
   */
  async waitForLeader(o: { timeoutMs?: number; not?: ClusterNode | undefined; followers?: number; inSync?: boolean; ask?: ClusterNode[] } = {}): Promise<ClusterNode> {
    const deadline = Date.now() + (o.timeoutMs ?? 60_000);
    let last: NodeView[] | null = null;
    for (;;) {
      last = await this.view(o.ask);
      const leaders = (last ?? []).filter((v) => v.role === 'leader' && v.running);
      const leader = leaders.length === 1 ? this.nodes.find((n) => n.name === leaders[0]!.name || leaders[0]!.name.startsWith(`${n.name}@`)) : undefined;
      const followers = (last ?? []).filter((v) => v.role === 'follower' && v.running && (!o.inSync || v.inSync === true));
      if (leader && leader.alive && leader !== o.not && (o.followers === undefined || followers.length >= o.followers)) return leader;
      if (Date.now() > deadline) {
        throw new Error(`no leader${o.not ? ` other than ${o.not.name}` : ''}${o.followers ? ` with ${o.followers} followers` : ''} within ${o.timeoutMs ?? 60_000} ms; ` +
          `last /api/nodes: ${JSON.stringify(last?.map((v) => v.raw) ?? null)}\n${this.logs()}`);
      }
      await sleep(200);
    }
  }

  /** The last log lines of every node and the cluster's keys in etcd, for failure messages. */
  logs(): string {
    return this.nodes.map((n) => `--- ${n.name} (${n.alive ? 'running' : 'stopped'}) ---\n${n.logs(30)}`).join('\n');
  }

  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.kill()));
    if (this.ownsEtcd) await this.etcd.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Reads a node entry of /api/nodes whatever names cctl gives its cluster fields. */
function nodeView(raw: Record<string, unknown>): NodeView {
  const str = (k: string): string | undefined => (typeof raw[k] === 'string' ? (raw[k] as string) : undefined);
  const bool = (k: string): boolean | undefined => (typeof raw[k] === 'boolean' ? (raw[k] as boolean) : undefined);
  return {
    name: str('name') ?? '',
    role: str('role') ?? str('cluster_role') ?? str('state'),
    running: bool('running') ?? true,
    inSync: bool('in_sync') ?? bool('inSync'),
    raw,
  };
}

export function httpGet(host: string, port: number, path: string, timeoutMs = 3000): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host, port, path, auth: 'guest:guest', timeout: timeoutMs }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error(`GET ${path}: no answer within ${timeoutMs} ms`)));
    req.end();
  });
}

function tcpOpen(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host, port });
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(1000, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
