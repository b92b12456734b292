/**
 * The reference for the failover test: a three-node RabbitMQ 3.10.8 cluster on loopback (Debian's
 * rabbitmq-server, started as the bench starts it, joined with rabbitmqctl; ports from 5650 up, data in
 * /var/tmp/ref-ctests-N) with a quorum queue, behind the same surface as WarrenCluster: nodes that can
 * be killed with SIGKILL and restarted, and a "leader" — here the quorum queue's leader, the node
 * whose loss stalls publishers — with the other online members as in-sync followers. Needs root.
 */
import { mkdirSync, rmSync } from 'node:fs';
import type { BrokerProcess } from '../../bench/broker-process.js';
import { portIsFree, run } from '../../bench/proc.js';
import { startRabbit } from '../../bench/rabbitmq.js';
import { startRabbitCluster } from '../../bench/rabbitmq-cluster.js';
import type { NodeView } from './cluster.js';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export class RabbitNode {
  private starting: Promise<BrokerProcess> | null = null;
  constructor(readonly name: string, readonly port: number, readonly dataDir: string, private proc: BrokerProcess | null) {}

  get url(): string {
    return `amqp://guest:guest@127.0.0.1:${this.port}/%2F`;
  }

  get alive(): boolean {
    return this.proc !== null;
  }

  async kill(): Promise<void> {
    const p = this.proc;
    this.proc = null;
    await p?.kill?.();
  }

  start(): void {
    // the node finds its cluster again from its own data dir
    this.starting = startRabbit(this.dataDir, this.port);
  }

  async waitListening(): Promise<void> {
    if (this.starting) this.proc = await this.starting;
    this.starting = null;
  }

  async stop(): Promise<void> {
    await this.waitListening().catch(() => undefined);
    await this.proc?.stop();
    this.proc = null;
  }

  logs(): string {
    return '';
  }
}

export class RabbitFailoverCluster {
  private constructor(readonly nodes: RabbitNode[], private readonly queue: string) {}

  /** Nodes on the first free ports from 5650 up (the reference's range; another helper's plugin may hold one). */
  static async start(queue: string): Promise<RabbitFailoverCluster> {
    const ports: number[] = [];
    for (let p = 5650; ports.length < 3 && p < 5670; p++) if ((await portIsFree(p)) && (await portIsFree(p + 20000))) ports.push(p);
    if (ports.length < 3) throw new Error('no three free ports in 5650-5669 (and +20000) for the RabbitMQ reference cluster');
    const dirs = ports.map((_, i) => `/var/tmp/ref-ctests-${i + 1}`);
    for (const d of dirs) {
      rmSync(d, { recursive: true, force: true });
      mkdirSync(d, { recursive: true });
    }
    const c = await startRabbitCluster(dirs, ports);
    return new RabbitFailoverCluster(c.nodes.map((b, i) => new RabbitNode(c.names[i]!, ports[i]!, dirs[i]!, b)), queue);
  }

  urls(query = ''): string[] {
    return this.nodes.map((n) => `${n.url}${query}`);
  }

  /** The queue the clients use: quorum, so RabbitMQ replicates it (a classic queue it would not). */
  queueArguments(): Record<string, unknown> {
    return { 'x-queue-type': 'quorum' };
  }

  /** Roles from `rabbitmqctl list_queues name leader members online` on a live node. */
  async view(): Promise<NodeView[] | null> {
    for (const n of this.nodes) {
      if (!n.alive) continue;
      const r = await run('rabbitmqctl', ['-n', n.name, 'list_queues', 'name', 'leader', 'members', 'online', '--formatter', 'json'], { timeoutMs: 20_000 });
      if (r.code !== 0) continue;
      const q = (JSON.parse(r.stdout) as { name: string; leader: string; members: string[]; online: string[] }[]).find((x) => x.name === this.queue);
      return this.nodes.map((node) => {
        const online = q ? q.online.includes(node.name) : node.alive;
        const role = !online ? 'down' : q ? (q.leader === node.name ? 'leader' : 'follower') : node === this.nodes[0] ? 'leader' : 'follower';
        return { name: node.name, role, running: online, inSync: online, raw: { name: node.name, role, online } };
      });
    }
    return null;
  }

  async waitForLeader(o: { timeoutMs?: number; not?: RabbitNode | undefined; followers?: number; inSync?: boolean } = {}): Promise<RabbitNode> {
    const deadline = Date.now() + (o.timeoutMs ?? 60_000);
    for (;;) {
      const v = (await this.view()) ?? [];
      const leader = this.nodes.find((n) => v.some((x) => x.name === n.name && x.role === 'leader'));
      const followers = v.filter((x) => x.role === 'follower').length;
      if (leader?.alive && leader !== o.not && (o.followers === undefined || followers >= o.followers)) return leader;
      if (Date.now() > deadline) throw new Error(`RabbitMQ: no queue leader within ${o.timeoutMs ?? 60_000} ms: ${JSON.stringify(v.map((x) => x.raw))}`);
      await sleep(200);
    }
  }

  logs(): string {
    return this.nodes.map((n) => `${n.name}: ${n.alive ? 'running' : 'stopped'} (logs in ${n.dataDir}/log)`).join('\n');
  }

  async stop(): Promise<void> {
    for (const n of [...this.nodes].reverse()) await n.stop().catch(() => undefined);
    for (const n of this.nodes) rmSync(n.dataDir, { recursive: true, force: true });
  }
}
