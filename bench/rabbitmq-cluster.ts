// A private three-node RabbitMQ cluster on loopback for the cluster bench (issue 20): three nodes
// started as bench/rabbitmq.ts starts one (own node name, data dir, port; distribution port +20000;
// all as the rabbitmq user, so they share its Erlang cookie), then nodes 2.. joined to node 1 with
// `rabbitmqctl stop_app`, `join_cluster`, `start_app`, as an operator clusters them.
import { waitForAmqp } from './amqp-probe.js';
import type { BrokerProcess } from './broker-process.js';
import { log, run } from './proc.js';
import { nodeName, startRabbit } from './rabbitmq.js';

export interface RabbitCluster {
  nodes: BrokerProcess[];
  /** Node names as rabbitmqctl -n takes them, in the order of `nodes`. */
  names: string[];
  stop(): Promise<void>;
}

async function ctl(node: string, args: string[]): Promise<string> {
  const r = await run('rabbitmqctl', ['-n', node, ...args], { timeoutMs: 180_000 });
  if (r.code !== 0) throw new Error(`rabbitmqctl -n ${node} ${args.join(' ')} failed: ${(r.stderr || r.stdout).trim().slice(0, 500)}`);
  return r.stdout;
}

/** `dirs[i]` and `ports[i]` for node i; the data dirs must be reachable by the rabbitmq user. */
export async function startRabbitCluster(dirs: string[], ports: number[]): Promise<RabbitCluster> {
  const nodes: BrokerProcess[] = [];
  const stop = async (): Promise<void> => {
    // stop the joined nodes first, so the first one does not wait for them as a cluster peer
    for (const n of [...nodes].reverse()) await n.stop().catch((e: unknown) => log(`stopping RabbitMQ on ${n.port}: ${String(e)}`));
  };
  try {
    for (let i = 0; i < dirs.length; i++) nodes.push(await startRabbit(dirs[i]!, ports[i]!));
    const names = ports.map(nodeName);
    const seed = names[0]!;
    for (const name of names.slice(1)) {
      await ctl(name, ['stop_app']);
      await ctl(name, ['join_cluster', seed]);
      await ctl(name, ['start_app']);
    }
    const status = await ctl(seed, ['cluster_status', '--formatter', 'json']);
    const running = (JSON.parse(status) as { running_nodes?: string[] }).running_nodes ?? [];
    if (running.length !== names.length) throw new Error(`RabbitMQ cluster has ${running.length} running nodes, expected ${names.length}: ${status}`);
    for (const n of nodes) await waitForAmqp(n.url, 120_000);
    log(`RabbitMQ cluster up: ${running.join(', ')} (data ${dirs.join(', ')})`);
    return { nodes, names, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}

/** Members of a quorum queue as node 1 reports them (to show the queue really spans the cluster). */
export async function quorumMembers(node: string, queue: string): Promise<string[]> {
  const out = await ctl(node, ['list_queues', 'name', 'type', 'members', '--formatter', 'json']);
  const q = (JSON.parse(out) as { name: string; type: string; members?: string[] }[]).find((x) => x.name === queue);
  if (!q) throw new Error(`queue ${queue} is not listed on ${node}`);
  if (q.type !== 'quorum') throw new Error(`queue ${queue} is ${q.type}, not quorum`);
  return q.members ?? [];
}
