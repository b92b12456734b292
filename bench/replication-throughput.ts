/**
 * Quick driver for replicated confirmed throughput (issue 20 item 2), without etcd: a Warren leader
 * (Broker + ReplicationLeader, majority 2 of 3) and two ReplicationFollowers, each its own process on
 * loopback, against a single-node Warren; warren-perf (its own process) publishes confirmed persistent
 * 1 KiB messages with a consumer acking, the cluster-confirm shape of bench/cluster.ts.
 *
 *   npm run build && node dist/bench/replication-throughput.js [--seconds 10] [--rounds 2]
 *
 * Child mode (used by the driver): `... node single|leader DIR` prints {"amqp":port,"repl":port};
 * `... node follower DIR NAME PORT` prints {"caughtUp":true} once caught up.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Broker } from '../src/index.js';
import { ReplicationFollower, ReplicationLeader } from '../src/cluster/replication/index.js';
import { runWarrenPerf } from './warren-perf-run.js';

const SHAPE = ['--persistent', '--size', '1024', '--confirm', '256', '--manual-ack', '--prefetch', '100', '--max-backlog', '1000'];
const quiet = (): void => {};

async function child(args: string[]): Promise<void> {
  const [role, dataDir, name, port] = args;
  if (role === 'follower') {
    const f = await ReplicationFollower.start({ dataDir: dataDir!, nodeName: name!, leader: { host: '127.0.0.1', port: Number(port) }, log: quiet });
    f.once('caught-up', () => console.log(JSON.stringify({ caughtUp: true })));
    process.on('SIGTERM', () => void f.close().then(() => process.exit(0)));
    return;
  }
  const leader = role === 'leader'
    ? await ReplicationLeader.start({ dataDir: dataDir!, host: '127.0.0.1', port: 0, nodeName: 'leader', majority: () => 2, log: quiet })
    : undefined;
  const broker = await Broker.start({
    port: 0, host: '127.0.0.1', managementPort: 0, prometheusPort: 0, streamPort: 0, dataDir: dataDir!, logLevel: 'silent',
    ...(leader ? { replication: leader.changes } : {}),
  });
  console.log(JSON.stringify({ amqp: broker.port, repl: leader?.port ?? 0 }));
  process.on('SIGTERM', () => void broker.close().then(() => leader?.close()).then(() => process.exit(0)));
}

function start(args: string[]): Promise<{ proc: ChildProcess; info: Record<string, unknown> }> {
  const proc = spawn(process.execPath, [fileURLToPath(import.meta.url), 'node', ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: proc.stdout! });
    lines.once('line', (line) => resolve({ proc, info: JSON.parse(line) as Record<string, unknown> }));
    proc.once('exit', (code) => reject(new Error(`${args[0]} exited ${code}`)));
  });
}

async function stop(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null) return;
  const exited = new Promise((r) => proc.once('exit', r));
  proc.kill('SIGTERM');
  await exited;
}

async function measure(replicated: boolean, seconds: number): Promise<number | string> {
  const dirs = [0, 1, 2].map((i) => mkdtempSync(join(tmpdir(), `warren-repl-bench-${i}-`)));
  const procs: ChildProcess[] = [];
  try {
    const leader = await start([replicated ? 'leader' : 'single', dirs[0]!]);
    procs.push(leader.proc);
    if (replicated) {
      for (const i of [1, 2]) {
        const f = await start(['follower', dirs[i]!, `f${i}`, String(leader.info['repl'])]);
        procs.push(f.proc);
      }
    }
    const s = await runWarrenPerf(['--uri', `amqp://guest:guest@127.0.0.1:${leader.info['amqp']}/`, '--time', String(seconds), '--warmup', '2', ...SHAPE], (seconds + 60) * 1000);
    if ('error' in s) return s.error;
    return Math.round(s.confirm_rate);
  } finally {
    for (const p of procs.reverse()) await stop(p);
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv[0] === 'node') return child(argv.slice(1));
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
