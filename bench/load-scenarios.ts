// The throughput/latency scenarios, run with amqp-load (all of them) and warren-perf (the pub/sub
// ones, with the same shapes: 16 B or 1 KiB bodies, backlog bounded at 1000 per queue copy).
import { runAmqpLoad } from './amqp-load.js';
import type { BrokerProcess } from './broker-process.js';
import { METRICS, type ScenarioName } from './metrics.js';
import type { Sample } from './samples.js';
import { runWarrenPerf, topicKeys } from './warren-perf-run.js';

export interface LoadContext {
  amqpLoadBin: string | null;
  seconds: number;
  warmup: number;
  round: number;
}

const WARREN_PERF_SHAPES: Partial<Record<ScenarioName, string[]>> = {
  'transient-1x1': ['--autoack'],
  'ack-1x1': ['--manual-ack', '--prefetch', '100'],
  'confirm-persistent': ['--persistent', '--size', '1024', '--confirm', '256', '--manual-ack', '--prefetch', '100'],
  'fanout-10': ['--exchange-type', 'fanout', '--queues', '10', '--consumers', '10', '--autoack'],
  'topic-routing': (() => {
    const k = topicKeys();
    return ['--exchange-type', 'topic', '--queues', '10', '--consumers', '10', '--autoack', '--binding-keys', k.bindings.join(','), '--routing-keys', k.routing.join(',')];
  })(),
  'many-queues': ['--queues', '1000', '--consumers', '1000', '--consumer-connections', '10', '--autoack'],
};

export const warrenPerfRuns = (s: ScenarioName): boolean => WARREN_PERF_SHAPES[s] !== undefined;

export async function runAmqpLoadScenario(scenario: ScenarioName, b: BrokerProcess, ctx: LoadContext): Promise<Sample[]> {
  const r = await runAmqpLoad(ctx.amqpLoadBin!, scenario, { url: b.url, brokerPid: b.pid }, ctx.seconds, ctx.warmup);
  const errors = Number(r['errors'] ?? 0);
  const error = errors > 0 ? `${errors} error(s): ${String(r['error_first'] ?? '').slice(0, 300)}` : undefined;
  return METRICS.filter((m) => m.scenario === scenario && m.tool === 'amqp-load').map((m) => ({
    scenario,
    tool: 'amqp-load',
    metric: m.metric,
    broker: b.kind,
    value: typeof r[m.metric] === 'number' ? (r[m.metric] as number) : null,
    round: ctx.round,
    ...(error ? { error } : {}),
    raw: r,
  }));
}

export async function runWarrenPerfScenario(scenario: ScenarioName, b: BrokerProcess, ctx: LoadContext): Promise<Sample[]> {
  const shape = WARREN_PERF_SHAPES[scenario];
  if (!shape) return [];
  const args = ['--uri', b.url, '--time', String(ctx.seconds), '--warmup', String(ctx.warmup), '--max-backlog', '1000', '--drain', '10', ...shape];
  const s = await runWarrenPerf(args, (ctx.seconds + ctx.warmup) * 1000 + 180_000);
  const specs = METRICS.filter((m) => m.scenario === scenario && m.tool === 'warren-perf');
  if ('error' in s) {
    return specs.map((m) => ({ scenario, tool: 'warren-perf', metric: m.metric, broker: b.kind, value: null, round: ctx.round, error: s.error }));
  }
  const problems = [...s.errors];
  if (!s.drained) problems.push(`not drained: consumed ${s.totals.consumed} of ${s.expected_consumed}`);
  if (s.totals.nacked > 0) problems.push(`${s.totals.nacked} nacks`);
  // the raw summary is big for topic-routing only because of its config; keep it, it is the record
  return specs.map((m) => ({
    scenario,
    tool: 'warren-perf',
    metric: m.metric,
    broker: b.kind,
    value: (s as unknown as Record<string, number>)[m.metric] ?? null,
    round: ctx.round,
    ...(problems.length ? { error: problems.join('; ').slice(0, 300) } : {}),
    raw: s,
  }));
}
