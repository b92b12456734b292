// `npm run bench`: Warren vs a private RabbitMQ on this machine, side by side, alternating; prints the
// table and writes bench/results/latest.{json,md}. See bench/options.ts for flags.
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureAmqpLoad, runAmqpLoad } from './amqp-load.js';
import { clusterConfirm } from './cluster.js';
import type { BrokerKind, BrokerProcess, BrokerStarter } from './broker-process.js';
import { idleConnections, idleQueues } from './idle.js';
import { runAmqpLoadScenario, runWarrenPerfScenario, warrenPerfRuns, type LoadContext } from './load-scenarios.js';
import { CLUSTER_SCENARIOS, LOAD_SCENARIOS, RESOURCE_SCENARIOS, STREAM_SCENARIOS, type ScenarioName } from './metrics.js';
import { streamLoad } from './stream-load.js';
import { BENCH_USAGE, parseBenchArgs, type BenchOptions } from './options.js';
import { freePort, log, machine, portIsFree, run, sleep } from './proc.js';
import { ensureRabbitInstalled, rabbitVersion, startRabbit } from './rabbitmq.js';
import { connectionsHeartbeat, flood, manyDurableQueues, writeAmplification } from './resource-scenarios.js';
import { buildRows, cpuTable, markdown, terminalTable, writeReport, type BenchReport } from './report.js';
import type { Sample } from './samples.js';
import { freshDir, startupEmpty, startupStored } from './startup.js';
import { startWarren } from './warren.js';
import { runWarrenPerf } from './warren-perf-run.js';

const repoRoot = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const STARTERS: Record<BrokerKind, BrokerStarter> = { rabbitmq: startRabbit, warren: startWarren };

/** 10,000 idle connections need ~10k descriptors here and in the broker: raise the soft limit by re-exec. */
function ensureFdLimit(o: BenchOptions): void {
  const need = Math.max(o.idleConnections, 0) + 1000;
  const soft = Number(spawnSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).stdout.trim());
  if (!(soft < need)) return;
  const hard = Number(spawnSync('sh', ['-c', 'ulimit -Hn'], { encoding: 'utf8' }).stdout.trim());
  if (process.env['WARREN_BENCH_REEXEC'] !== '1' && (hard > soft || Number.isNaN(hard))) {
    const r = spawnSync('sh', ['-c', 'ulimit -n "$(ulimit -Hn)"; exec "$@"', 'sh', process.execPath, ...process.argv.slice(1)], {
      stdio: 'inherit',
      env: { ...process.env, WARREN_BENCH_REEXEC: '1' },
    });
    process.exit(r.status ?? 1);
  }
  const fit = Math.max(100, soft - 1000);
  log(`open-file limit is ${soft}: idle connections reduced from ${o.idleConnections} to ${fit}`);
  o.idleConnections = fit;
}

const running = new Set<BrokerProcess>();
const dirs = new Set<string>();

async function cleanup(): Promise<void> {
  await Promise.all([...running].map((b) => b.stop().catch(() => undefined)));
  running.clear();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  dirs.clear();
}

async function start(kind: BrokerKind, port: number, streamPort?: number): Promise<BrokerProcess> {
  const dir = freshDir(kind);
  dirs.add(dir);
  const b = await STARTERS[kind](dir, port, streamPort);
  running.add(b);
  log(`${kind} up on ${b.url} (pid ${b.pid}, data ${dir}, start-up ${b.startupMs.toFixed(0)} ms)`);
  return b;
}

async function stop(b: BrokerProcess): Promise<void> {
  await b.stop();
  running.delete(b);
  rmSync(b.dataDir, { recursive: true, force: true });
  dirs.delete(b.dataDir);
}

function describe(s: Sample[]): string {
  return s.map((x) => `${x.metric}=${x.value === null ? '-' : Math.round(x.value).toLocaleString('en-US')}${x.error ? ` (! ${x.error.slice(0, 120)})` : ''}`).join(' ');
}

async function main(): Promise<number> {
  let o: BenchOptions | null;
  try {
    o = parseBenchArgs(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`bench: ${(e as Error).message}\n`);
    return 2;
  }
  if (o === null) {
    process.stdout.write(BENCH_USAGE);
    return 0;
  }
  const opts = o;
  if (opts.scenarios.includes('idle-connections') || opts.scenarios.includes('connections-heartbeat')) ensureFdLimit(opts);
  const wants = (s: ScenarioName): boolean => opts.scenarios.includes(s);
  const useAmqpLoad = opts.tools.includes('amqp-load');
  const useWarrenPerf = opts.tools.includes('warren-perf');
  const samples: Sample[] = [];
  const add = (s: Sample[]): void => void samples.push(...s);

  process.on('SIGINT', () => {
    log('interrupted: stopping brokers');
    void cleanup().then(() => process.exit(130));
  });

  const warrenOnly = opts.scenarios.every((s) => (RESOURCE_SCENARIOS as readonly string[]).includes(s));
  const needsAmqpLoad = opts.scenarios.some((s) => (LOAD_SCENARIOS as readonly string[]).includes(s) || s === 'raw-limit');
  const amqpLoadBin = useAmqpLoad && needsAmqpLoad ? await ensureAmqpLoad() : null;
  if (!warrenOnly) await ensureRabbitInstalled();
  if (!warrenOnly && (!(await portIsFree(opts.rabbitPort)) || !(await portIsFree(opts.rabbitPort + 20000)))) {
    throw new Error(`port ${opts.rabbitPort} or ${opts.rabbitPort + 20000} is in use; pick another with --rabbit-port`);
  }
  const warrenPort = await freePort();
  const ports: Record<BrokerKind, number> = { rabbitmq: opts.rabbitPort, warren: warrenPort };
  const order = (round: number): BrokerKind[] => (round % 2 === 1 ? ['rabbitmq', 'warren'] : ['warren', 'rabbitmq']);

  // --- load scenarios, against both brokers running side by side -----------------------------------
  const load = LOAD_SCENARIOS.filter(wants);
  if (load.length) {
    const brokers: Record<BrokerKind, BrokerProcess> = {
      rabbitmq: await start('rabbitmq', ports.rabbitmq),
      warren: await start('warren', ports.warren),
    };
    for (let round = 1; round <= opts.repeat; round++) {
      const ctx: LoadContext = { amqpLoadBin, seconds: opts.seconds, warmup: opts.warmup, round };
      for (const sc of load) {
        const tools = [...(useAmqpLoad ? ['amqp-load'] : []), ...(useWarrenPerf && warrenPerfRuns(sc) ? ['warren-perf'] : [])];
        for (const tool of tools) {
          for (const kind of order(round)) {
            const b = brokers[kind];
            const s = tool === 'amqp-load' ? await runAmqpLoadScenario(sc, b, ctx) : await runWarrenPerfScenario(sc, b, ctx);
            log(`round ${round} ${sc} ${tool} ${kind}: ${describe(s)}`);
            add(s);
            await sleep(1000); // let the broker settle (queue deletion, GC) before the next run
          }
        }
      }
    }
    for (const b of Object.values(brokers)) await stop(b);
  }

  // --- idle memory: on freshly started brokers, so earlier load (heap growth, GC) does not blur it ---
  for (const sc of ['idle-connections', 'idle-queues'] as const) {
    if (!wants(sc)) continue;
    for (const kind of order(1)) {
      const b = await start(kind, ports[kind]);
      add(sc === 'idle-connections' ? await idleConnections(b, opts.idleConnections) : await idleQueues(b, opts.idleQueues));
      await stop(b);
    }
  }

  // --- streams (issue 19): the stream protocol, each broker freshly started with its listener ------
  for (const sc of STREAM_SCENARIOS) {
    if (!wants(sc)) continue;
    for (const kind of order(1)) {
      const streamPort = await freePort();
      const b = await start(kind, ports[kind], streamPort);
      const s = await streamLoad(b, streamPort, sc, sc === 'stream-1k' ? 1024 : 16, opts.seconds);
      log(`${sc} ${kind}: ${describe(s)}`);
      add(s);
      await stop(b);
    }
  }

  // --- resources (issue 15): Warren only, each on a freshly started broker -------------------------
  for (const sc of RESOURCE_SCENARIOS) {
    if (!wants(sc)) continue;
    const b = await start('warren', ports.warren);
    if (sc === 'flood') add(await flood(b, opts.seconds * 3));
    else if (sc === 'many-durable-queues') add(await manyDurableQueues(b, opts.seconds));
    else if (sc === 'write-amplification') add(await writeAmplification(b, opts.seconds));
    else add(await connectionsHeartbeat(b, opts.idleConnections, opts.seconds));
    await stop(b);
  }

  // --- clustering (issue 20): 3-node RabbitMQ quorum queue, 3-node Warren, 1 Warren node, each alone --
  if (CLUSTER_SCENARIOS.some(wants)) {
    // the first three free ports from --rabbit-cluster-port up (another broker's plugin may hold one)
    const rabbitPorts: number[] = opts.rabbitClusterPorts ? [...opts.rabbitClusterPorts] : [];
    for (let p = opts.rabbitClusterPort; rabbitPorts.length < 3 && p < opts.rabbitClusterPort + 20; p++) {
      if ((await portIsFree(p)) && (await portIsFree(p + 20000))) rabbitPorts.push(p);
    }
    if (rabbitPorts.length < 3) throw new Error(`no three free ports from ${opts.rabbitClusterPort} (and +20000); pick others with --rabbit-cluster-port`);
    add(await clusterConfirm({ seconds: opts.seconds, warmup: opts.warmup, repeat: opts.repeat, rabbitPorts }));
  }

  // --- ceilings, with no broker running ------------------------------------------------------------
  if (wants('raw-limit')) {
    if (amqpLoadBin) {
      const r = await runAmqpLoad(amqpLoadBin, 'raw-limit', null, opts.seconds, opts.warmup);
      for (const metric of ['triples_per_s', 'rtt_p50_us']) {
        add([{ scenario: 'raw-limit', tool: 'amqp-load', metric, broker: null, value: typeof r[metric] === 'number' ? (r[metric] as number) : null, round: 1, raw: r }]);
      }
      log(`raw-limit: ${r['triples_per_s']} frame triples/s, rtt p50 ${r['rtt_p50_us']} µs`);
    }
    if (useWarrenPerf) {
      const common = ['--null-broker', '--time', String(opts.seconds), '--warmup', String(opts.warmup)];
      const relay = await runWarrenPerf([...common, '--autoack'], (opts.seconds + opts.warmup) * 1000 + 60_000);
      const pub = await runWarrenPerf([...common, '--consumers', '0'], (opts.seconds + opts.warmup) * 1000 + 60_000);
      const value = (s: typeof relay, k: 'consume_rate' | 'publish_rate'): number | null => ('error' in s ? null : s[k]);
      add([
        { scenario: 'tool-ceiling', tool: 'warren-perf', metric: 'relay_rate', broker: null, value: value(relay, 'consume_rate'), round: 1, raw: relay },
        { scenario: 'tool-ceiling', tool: 'warren-perf', metric: 'publish_rate', broker: null, value: value(pub, 'publish_rate'), round: 1, raw: pub },
      ]);
      log(`warren-perf ceiling: relay ${value(relay, 'consume_rate')} msg/s, publish-only ${value(pub, 'publish_rate')} msg/s`);
    }
  }

  // --- start-up: each broker alone, fresh data dirs ------------------------------------------------
  if (wants('startup-empty')) {
    for (let round = 1; round <= opts.repeat; round++) {
      for (const kind of order(round)) samples.push(await startupEmpty(kind, STARTERS[kind], ports[kind], round));
    }
  }
  if (wants('startup-stored')) {
    for (const kind of order(1)) add(await startupStored(kind, STARTERS[kind], ports[kind], opts.storedMessages));
  }

  // --- report ---------------------------------------------------------------------------------------
  const labels: Record<string, string> = {
    'startup-stored': opts.storedMessages.toLocaleString('en-US'),
    'idle-connections': opts.idleConnections.toLocaleString('en-US'),
    'idle-queues': opts.idleQueues.toLocaleString('en-US'),
  };
  const gitRev = (await run('git', ['rev-parse', '--short', 'HEAD'], { cwd: repoRoot })).stdout.trim();
  const report: BenchReport = {
    date: new Date().toISOString(),
    command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
    machine: machine(),
    versions: { rabbitmq: await rabbitVersion(), warren: gitRev || 'unknown', node: process.version },
    options: { ...opts },
    rows: buildRows(samples, labels),
    cpu: cpuTable(samples),
    samples,
  };
  process.stdout.write(`\n${terminalTable(report.rows)}\n`);
  if (opts.outDir !== '-') {
    const dir = resolve(opts.outDir ?? resolve(repoRoot, 'bench/results'));
    writeReport(dir, report);
    log(`wrote ${dir}/latest.json and latest.md`);
  } else process.stdout.write(`\n${markdown(report)}`);
  return 0;
}

main().then(
  async (code) => {
    await cleanup();
    process.exit(code);
  },
  async (e: unknown) => {
    process.stderr.write(`bench: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    await cleanup();
    process.exit(1);
  },
);
