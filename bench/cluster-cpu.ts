/**
 * CPU per confirmed message of each Warren process in the cluster-confirm shape (bench/cluster.ts):
 * a three-node cluster (leader, two followers) and one node alone, side by side, rounds
 * alternating. Each process's utime+stime (/proc/<pid>/stat) is read when warren-perf's measured
 * window starts and ends, and divided by the messages confirmed in it. On a shared machine
 * throughput swings with the load, CPU per message much less: the figure to compare builds by.
 * `--compare CLI` adds a second cluster running another build's dist/src/cli/warren.js (A/B).
 *
 *   npm run build && node dist/bench/cluster-cpu.js [--seconds 10] [--rounds 2] [--compare PATH] [--no-single]
 */
import { readFileSync, rmSync } from 'node:fs';
import { loadavg } from 'node:os';
import { warrenCli } from '../test/support/cli-process.js';
import { WarrenCluster, type ClusterNode } from '../test/support/cluster.js';
import { freePort, sleep } from './proc.js';
import { freshDir } from './startup.js';
import { startWarren } from './warren.js';
import { runWarrenPerf } from './warren-perf-run.js';

const SHAPE = ['--persistent', '--size', '1024', '--confirm', '256', '--manual-ack', '--prefetch', '100', '--max-backlog', '1000'];
const TICKS = 100; // USER_HZ on Linux

/** CPU seconds of a process and its threads so far. */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS;
}

interface Target {
  label: string;
  url: string;
  pids: { name: string; pid: number }[];
}

async function measure(t: Target, round: number, seconds: number, warmup: number): Promise<void> {
  const perf = runWarrenPerf(['--uri', t.url, '--time', String(seconds), '--warmup', String(warmup), ...SHAPE], (seconds + warmup) * 1000 + 120_000);
  await sleep(warmup * 1000 + 300);
  const before = t.pids.map((p) => cpuSeconds(p.pid));
  const t0 = performance.now();
  await sleep(seconds * 1000 - 600);
  const after = t.pids.map((p) => cpuSeconds(p.pid));
  const elapsed = (performance.now() - t0) / 1000;
  const s = await perf;
  if ('error' in s) return void console.log(`round ${round} ${t.label}: ${s.error}`);
  const msgs = s.confirm_rate * elapsed;
  const per = t.pids.map((p, i) => `${p.name} ${(((after[i]! - before[i]!) / msgs) * 1e6).toFixed(1)}`);
  const total = t.pids.reduce((sum, _, i) => sum + after[i]! - before[i]!, 0);
  console.log(
    `round ${round} ${t.label}: ${s.confirm_rate} confirmed/s, confirm p50 ${((s.confirm_latency?.p50_us ?? NaN) / 1000).toFixed(1)} ms, ` +
      `end-to-end p50 ${((s.latency?.p50_us ?? NaN) / 1000).toFixed(1)} ms; CPU µs/msg ${per.join(', ')}, total ${((total / msgs) * 1e6).toFixed(1)}; ` +
      `load ${loadavg().map((l) => l.toFixed(2)).join(' ')}`,
  );
}

/** A cluster whose nodes run `cli` instead of this build's CLI (test/support/cluster.ts starts them). */
async function startCluster(cli: string | undefined): Promise<WarrenCluster> {
  if (!cli) return WarrenCluster.start({ size: 3 });
  // sh -c SCRIPT node ARGS...: $0 is node; every argument is kept but this build's CLI, replaced.
  const script = `n=$0; for a do shift; if [ "$a" = '${warrenCli}' ]; then set -- "$@" '${cli}'; else set -- "$@" "$a"; fi; done; exec "$n" "$@"`;
  return WarrenCluster.start({ size: 3, wrap: () => ['sh', '-c', script] });
}

async function clusterTarget(label: string, cluster: WarrenCluster): Promise<Target> {
  const leader = await cluster.waitForLeader({ followers: 2, inSync: true, timeoutMs: 120_000 });
  const nodes: ClusterNode[] = [leader, ...cluster.nodes.filter((n) => n !== leader)];
  return { label, url: leader.url, pids: nodes.map((n, i) => ({ name: i === 0 ? 'leader' : `follower${i}`, pid: n.proc!.child.pid! })) };
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const opt = (name: string): string | undefined => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const seconds = Number(opt('seconds') ?? 10);
  const rounds = Number(opt('rounds') ?? 2);
  const compare = opt('compare');
  const dir = freshDir('warren');
  const clusters: WarrenCluster[] = [];
  const single = argv.includes('--no-single') ? undefined : await startWarren(dir, await freePort());
  try {
    const targets: Target[] = [];
    if (single) targets.push({ label: 'single  ', url: single.url, pids: [{ name: 'node', pid: single.pid }] });
    clusters.push(await startCluster(undefined));
    targets.push(await clusterTarget('cluster ', clusters[0]!));
    if (compare) {
      clusters.push(await startCluster(compare));
      targets.push(await clusterTarget('compared', clusters[1]!));
    }
    for (let round = 1; round <= rounds; round++) {
      for (const t of round % 2 === 1 ? targets : [...targets].reverse()) {
        await measure(t, round, seconds, 2);
        await sleep(1000);
      }
    }
  } finally {
    for (const c of clusters) await c.stop();
    await single?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
