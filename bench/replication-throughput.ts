/**
 * Quick driver for replicated confirmed throughput (issue 20 item 2), without etcd: a Warren leader
 * (Broker + ReplicationLeader) and two ReplicationFollowers, each its own process on
 * loopback, against a single-node Warren; warren-perf (its own process) publishes confirmed persistent
 * 1 KiB messages with a consumer acking, the cluster-confirm shape of bench/cluster.ts.
 *
 *   npm run build && node dist/bench/replication-throughput.js [--seconds 10] [--rounds 2]
 *
 * The nodes are test/support/replication-child.ts processes.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startNodeProcess, type NodeProcess } from '../test/support/replication-child.js';
import { runWarrenPerf } from './warren-perf-run.js';

const SHAPE = ['--persistent', '--size', '1024', '--confirm', '256', '--manual-ack', '--prefetch', '100', '--max-backlog', '1000'];

async function measure(replicated: boolean, seconds: number): Promise<number | string> {
  const dirs = [0, 1, 2].map((i) => mkdtempSync(join(tmpdir(), `warren-repl-bench-${i}-`)));
  const procs: NodeProcess[] = [];
  try {
    // Majority 3: a confirm waits for both followers, as the cluster node's gate does while both are in sync.
    const leader = await startNodeProcess([replicated ? 'leader' : 'single', dirs[0]!, '3']);
    procs.push(leader);
    if (replicated) {
      for (const i of [1, 2]) procs.push(await startNodeProcess(['follower', dirs[i]!, `f${i}`, String(leader.info.repl)]));
    }
    const s = await runWarrenPerf(['--uri', `amqp://guest:guest@127.0.0.1:${leader.info.amqp}/`, '--time', String(seconds), '--warmup', '2', ...SHAPE], (seconds + 60) * 1000);
    if ('error' in s) return s.error;
    return Math.round(s.confirm_rate);
  } finally {
    for (const p of procs.reverse()) await p.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const opt = (name: string, dflt: number): number => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? Number(argv[i + 1]) : dflt;
  };
  const seconds = opt('seconds', 10);
  const rounds = opt('rounds', 2);
  for (let round = 1; round <= rounds; round++) {
    // Alternate the order so a machine getting busier does not favour one setup.
    const order = round % 2 === 1 ? [false, true] : [true, false];
    for (const replicated of order) {
      const rate = await measure(replicated, seconds);
      console.log(`round ${round} ${replicated ? 'leader+2 followers' : 'single node     '}: confirmed ${rate} msg/s`);
    }
  }
}

await main();
