// The `cluster-confirm` scenario (issue 20): replicated, confirmed, persistent throughput of
//   - a three-node RabbitMQ cluster with a quorum queue (three members): RabbitMQ's replicated queue,
//   - a three-node Warren cluster (etcd + `warren --config node-N.conf ...`, test/support/cluster.ts),
//     publisher and consumer connected to the leader itself (no forwarding proxy in the path),
//   - one Warren node alone,
// with the same client (warren-perf as its own process) and the shape of confirm-persistent (1
// publisher, 1 KiB persistent, ≤ 256 unconfirmed, 1 consumer acking with prefetch 100, backlog
// bounded at 1000). Warren's headline figures use confirm-persistent's queue, a durable classic one
// (Warren replicates durable classic queues, so it is the figure comparable with the single-node
// bench); Warren's quorum queues are measured too (Warren stores them as classic queues, but the
// x-delivery-count header each delivery carries costs the single node about half its rate).
// RabbitMQ runs alone (three idle Erlang VMs would take CPU from Warren's rounds). The Warren
// cluster and the single node run side by side, idle while the other is measured, and rounds
// alternate between them (first one, then the other first), so a machine getting busier during
// the run does not favour either: figures taken one setup after the other on a shared machine
// disagreed by 2× from run to run.
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

const SHAPE = ['--persistent', '--size', '1024', '--confirm', '256', '--manual-ack', '--prefetch', '100'];

type QueueKind = 'classic' | 'quorum';
const queueName = (kind: QueueKind): string => `bench-cluster-confirm-${kind}`;

/** A durable queue of that type (classic: what warren-perf declares for confirm-persistent), emptied. */
async function declareQueue(url: string, kind: QueueKind): Promise<void> {
  const conn = await amqp.connect(url);
  try {
    const ch = await conn.createChannel();
    await ch.assertQueue(queueName(kind), { durable: true, arguments: kind === 'quorum' ? { 'x-queue-type': 'quorum' } : {} });
    await ch.purgeQueue(queueName(kind));
  } finally {
    await conn.close().catch(() => undefined);
  }
}

async function deleteQueue(url: string, kind: QueueKind): Promise<void> {
  const conn = await amqp.connect(url).catch(() => null);
  if (!conn) return;
  try {
    const ch = await conn.createChannel();
    await ch.deleteQueue(queueName(kind));
  } catch {
    /* gone with its broker */
  } finally {
    await conn.close().catch(() => undefined);
  }
}

type Setup = 'rabbitmq-3' | 'warren-3' | 'warren-1';

/** The metric a setup and queue type report under (metrics.ts). */
function metricOf(setup: Setup, kind: QueueKind): string {
  if (setup === 'rabbitmq-3') return 'confirm_rate';
  const base = setup === 'warren-1' ? 'single_node_confirm_rate' : 'confirm_rate';
  return kind === 'quorum' ? `${base}_quorum` : base;
}

async function measure(setup: Setup, kind: QueueKind, url: string, o: ClusterBenchOptions, round: number): Promise<Sample> {
  const args = ['--uri', url, '--predeclared', '--queue', queueName(kind), '--time', String(o.seconds), '--warmup', String(o.warmup), '--max-backlog', '1000', '--drain', '10', ...SHAPE];
  const s = await runWarrenPerf(args, (o.seconds + o.warmup) * 1000 + 180_000);
  const problems = 'error' in s ? [s.error] : [...s.errors, ...(s.drained ? [] : [`not drained: consumed ${s.totals.consumed} of ${s.expected_consumed}`]), ...(s.totals.nacked ? [`${s.totals.nacked} nacks`] : [])];
  const value = 'error' in s ? null : s.confirm_rate;
  log(`round ${round} cluster-confirm ${setup} ${kind}: confirm_rate=${value === null ? '-' : Math.round(value)}${problems.length ? ` (! ${problems.join('; ').slice(0, 200)})` : ''}`);
  return {
    scenario: 'cluster-confirm',
    tool: 'warren-perf',
    metric: metricOf(setup, kind),
    broker: setup === 'rabbitmq-3' ? 'rabbitmq' : 'warren',
    value,
    round,
    ...(problems.length ? { error: problems.join('; ').slice(0, 300) } : {}),
    raw: s,
  };
}

async function oneRound(setup: Setup, kind: QueueKind, url: string, o: ClusterBenchOptions, round: number): Promise<Sample> {
  await declareQueue(url, kind);
  const sample = await measure(setup, kind, url, o, round);
  await deleteQueue(url, kind);
  await sleep(1000); // let the store settle (acks written, segments compacted) before the next run
  return sample;
}

async function rabbitSide(o: ClusterBenchOptions): Promise<Sample[]> {
  const dirs = o.rabbitPorts.map((port) => `/var/tmp/bench-rabbit-cluster-${port}`);
  for (const d of dirs) {
    rmSync(d, { recursive: true, force: true });
    mkdirSync(d, { recursive: true });
  }
  const cluster = await startRabbitCluster(dirs, o.rabbitPorts);
  try {
    const first = cluster.nodes[0]!;
    await declareQueue(first.url, 'quorum');
    const members = await quorumMembers(cluster.names[0]!, queueName('quorum'));
    if (members.length !== cluster.nodes.length) throw new Error(`quorum queue has ${members.length} members (${members.join(', ')}), expected ${cluster.nodes.length}`);
    log(`RabbitMQ quorum queue ${queueName('quorum')}: members ${members.join(', ')}`);
    const out: Sample[] = [];
    for (let round = 1; round <= o.repeat; round++) out.push(await oneRound('rabbitmq-3', 'quorum', first.url, o, round));
    return out;
  } finally {
    await cluster.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
}

/** The Warren cluster and the single node, rounds alternating between them; both queue types. */
async function warrenSide(o: ClusterBenchOptions, samples: Sample[]): Promise<void> {
  const dir = freshDir('warren');
  const single = await startWarren(dir, await freePort());
  let cluster: WarrenCluster | undefined;
  try {
    const setups: { setup: Setup; url: string }[] = [{ setup: 'warren-1', url: single.url }];
    if (etcdAvailable()) {
      cluster = await WarrenCluster.start({ size: 3 });
      const leader = await cluster.waitForLeader({ followers: 2, inSync: true, timeoutMs: 120_000 });
      log(`Warren cluster up: leader ${leader.name} on ${leader.host}:${leader.amqpPort} (the client's address), followers in sync`);
      setups.unshift({ setup: 'warren-3', url: leader.url });
    } else {
      samples.push(failed('warren-3', 'etcd is not installed (Debian etcd-server)'));
    }
    for (let round = 1; round <= o.repeat; round++) {
      const order = round % 2 === 1 ? setups : [...setups].reverse();
      for (const kind of ['classic', 'quorum'] as const) {
        for (const { setup, url } of order) samples.push(await oneRound(setup, kind, url, o, round));
      }
    }
  } finally {
    await cluster?.stop();
    await single.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

function failed(setup: Setup, error: string): Sample {
  return {
    scenario: 'cluster-confirm', tool: 'warren-perf', metric: metricOf(setup, 'classic'),
    broker: setup === 'rabbitmq-3' ? 'rabbitmq' : 'warren', value: null, round: 1, error: error.split('\n').slice(0, 2).join(' ').slice(0, 300),
  };
}

/** All three setups; a setup that cannot run (no etcd, a start-up failure) gives a sample with the error. */
export async function clusterConfirm(o: ClusterBenchOptions): Promise<Sample[]> {
  const samples: Sample[] = [];
  try {
    samples.push(...(await rabbitSide(o)));
  } catch (e) {
    log(`cluster-confirm rabbitmq-3 failed: ${(e as Error).message.slice(0, 2000)}`);
    samples.push(failed('rabbitmq-3', (e as Error).message));
  }
  try {
    await warrenSide(o, samples);
  } catch (e) {
    log(`cluster-confirm warren failed: ${(e as Error).message.slice(0, 2000)}`);
    samples.push(failed('warren-3', (e as Error).message));
  }
  const med = (metric: string): number | null => median(samples.filter((s) => s.broker === 'warren' && s.metric === metric && s.value !== null).map((s) => s.value!));
  const cluster = med('confirm_rate');
  const single = med('single_node_confirm_rate');
  samples.push({
    scenario: 'cluster-confirm', tool: 'warren-perf', metric: 'cluster_vs_single_pct', broker: 'warren',
    value: cluster !== null && single ? Math.round((cluster / single) * 1000) / 10 : null, round: 1,
  });
  return samples;
}
