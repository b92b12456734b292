// The `cluster-confirm` scenario (issue 20): replicated, confirmed, persistent throughput of
//   - a three-node RabbitMQ cluster with a quorum queue (three members),
//   - a three-node Warren cluster (etcd + `warren --config node-N.conf ...`, test/support/cluster.ts),
//   - one Warren node alone,
// with the same client (warren-perf as its own process), the same shape as confirm-persistent
// (1 publisher, 1 KiB persistent, ≤ 256 unconfirmed, 1 consumer acking with prefetch 100, backlog
// bounded at 1000) and the same queue declaration (durable, x-queue-type quorum) on the node that
// leads the queue. Each setup runs alone (its rounds back to back), so idle nodes of another setup
// never share the two cores with a measurement.
import amqp from 'amqplib';
import { mkdirSync, rmSync } from 'node:fs';
import { WarrenCluster } from '../test/support/cluster.js';
import { etcdAvailable } from '../test/support/etcd.js';
import { freePort, log, sleep } from './proc.js';
import { quorumMembers, startRabbitCluster } from './rabbitmq-cluster.js';
import { median, type Sample } from './samples.js';
import { freshDir } from './startup.js';
import { startWarren } from './warren.js';
import { runWarrenPerf } from './warren-perf-run.js';

export interface ClusterBenchOptions {
  seconds: number;
  warmup: number;
  repeat: number;
  /** AMQP ports of the three RabbitMQ nodes (their distribution ports are +20000). */
  rabbitPorts: number[];
}

const QUEUE = 'bench-cluster-confirm';
const SHAPE = ['--persistent', '--size', '1024', '--confirm', '256', '--manual-ack', '--prefetch', '100'];

async function declareQuorumQueue(url: string): Promise<void> {
  const conn = await amqp.connect(url);
  try {
    const ch = await conn.createChannel();
    await ch.assertQueue(QUEUE, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
    await ch.purgeQueue(QUEUE);
  } finally {
    await conn.close().catch(() => undefined);
  }
}

async function deleteQueue(url: string): Promise<void> {
  const conn = await amqp.connect(url).catch(() => null);
  if (!conn) return;
  try {
    const ch = await conn.createChannel();
    await ch.deleteQueue(QUEUE);
  } catch {
    /* gone with its broker */
  } finally {
    await conn.close().catch(() => undefined);
  }
}

type Setup = 'rabbitmq-3' | 'warren-3' | 'warren-1';

async function measure(setup: Setup, url: string, o: ClusterBenchOptions, round: number): Promise<Sample> {
  const args = ['--uri', url, '--predeclared', '--queue', QUEUE, '--time', String(o.seconds), '--warmup', String(o.warmup), '--max-backlog', '1000', '--drain', '10', ...SHAPE];
  const s = await runWarrenPerf(args, (o.seconds + o.warmup) * 1000 + 180_000);
  const problems = 'error' in s ? [s.error] : [...s.errors, ...(s.drained ? [] : [`not drained: consumed ${s.totals.consumed} of ${s.expected_consumed}`]), ...(s.totals.nacked ? [`${s.totals.nacked} nacks`] : [])];
  const value = 'error' in s ? null : s.confirm_rate;
  log(`round ${round} cluster-confirm ${setup}: confirm_rate=${value === null ? '-' : Math.round(value)}${problems.length ? ` (! ${problems.join('; ').slice(0, 200)})` : ''}`);
  return {
    scenario: 'cluster-confirm',
    tool: 'warren-perf',
    metric: setup === 'warren-1' ? 'single_node_confirm_rate' : 'confirm_rate',
    broker: setup === 'rabbitmq-3' ? 'rabbitmq' : 'warren',
    value,
    round,
    ...(problems.length ? { error: problems.join('; ').slice(0, 300) } : {}),
    raw: s,
  };
}

async function rounds(setup: Setup, url: string, o: ClusterBenchOptions): Promise<Sample[]> {
  const out: Sample[] = [];
  await declareQuorumQueue(url);
  for (let round = 1; round <= o.repeat; round++) {
    out.push(await measure(setup, url, o, round));
    await sleep(1000); // let the queue settle (acks written, segments compacted) before the next run
  }
  await deleteQueue(url);
  return out;
}

async function rabbitSide(o: ClusterBenchOptions): Promise<Sample[]> {
  const dirs = o.rabbitPorts.map((_, i) => `/var/tmp/ref-ctests-${i + 1}`);
  for (const d of dirs) {
    rmSync(d, { recursive: true, force: true });
    mkdirSync(d, { recursive: true });
  }
  const cluster = await startRabbitCluster(dirs, o.rabbitPorts);
  try {
    const first = cluster.nodes[0]!;
    await declareQuorumQueue(first.url);
    const members = await quorumMembers(cluster.names[0]!, QUEUE);
    if (members.length !== cluster.nodes.length) throw new Error(`quorum queue has ${members.length} members (${members.join(', ')}), expected ${cluster.nodes.length}`);
    log(`RabbitMQ quorum queue ${QUEUE}: members ${members.join(', ')}`);
    return await rounds('rabbitmq-3', first.url, o);
  } finally {
    await cluster.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
}

async function warrenClusterSide(o: ClusterBenchOptions): Promise<Sample[]> {
  const cluster = await WarrenCluster.start({ size: 3 });
  try {
    const leader = await cluster.waitForLeader({ followers: 2, inSync: true, timeoutMs: 120_000 });
    log(`Warren cluster up: leader ${leader.name} on ${leader.host}:${leader.amqpPort}, followers in sync`);
    return await rounds('warren-3', leader.url, o);
  } finally {
    await cluster.stop();
  }
}

async function warrenSingleSide(o: ClusterBenchOptions): Promise<Sample[]> {
  const dir = freshDir('warren');
  const b = await startWarren(dir, await freePort());
  try {
    return await rounds('warren-1', b.url, o);
  } finally {
    await b.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** All three setups; a setup that cannot run (no etcd, a start-up failure) gives a sample with the error. */
export async function clusterConfirm(o: ClusterBenchOptions): Promise<Sample[]> {
  const samples: Sample[] = [];
  const guard = async (setup: Setup, f: () => Promise<Sample[]>): Promise<void> => {
    try {
      samples.push(...(await f()));
    } catch (e) {
      log(`cluster-confirm ${setup} failed: ${(e as Error).message.slice(0, 2000)}`);
      samples.push({
        scenario: 'cluster-confirm', tool: 'warren-perf', metric: setup === 'warren-1' ? 'single_node_confirm_rate' : 'confirm_rate',
        broker: setup === 'rabbitmq-3' ? 'rabbitmq' : 'warren', value: null, round: 1, error: (e as Error).message.split('\n').slice(0, 2).join(' ').slice(0, 300),
      });
    }
  };
  await guard('rabbitmq-3', () => rabbitSide(o));
  await guard('warren-3', () => (etcdAvailable() ? warrenClusterSide(o) : Promise.reject(new Error('etcd is not installed (Debian etcd-server)'))));
  await guard('warren-1', () => warrenSingleSide(o));
  const med = (metric: string): number | null => median(samples.filter((s) => s.metric === metric && s.value !== null).map((s) => s.value!));
  const cluster = median(samples.filter((s) => s.metric === 'confirm_rate' && s.broker === 'warren' && s.value !== null).map((s) => s.value!));
  const single = med('single_node_confirm_rate');
  samples.push({
    scenario: 'cluster-confirm', tool: 'warren-perf', metric: 'cluster_vs_single_pct', broker: 'warren',
    value: cluster !== null && single ? Math.round((cluster / single) * 1000) / 10 : null, round: 1,
  });
  return samples;
}
