// Human-readable lines for warren-perf's live ticks and final summary.
import type { LatencySummary } from './histogram.js';
import type { PerfSummary, Tick } from './runner.js';

const n = (x: number): string => Math.round(x).toLocaleString('en-US');

function latency(l: LatencySummary | null): string {
  if (l === null) return '-';
  return `p50 ${n(l.p50_us)} p95 ${n(l.p95_us)} p99 ${n(l.p99_us)} max ${n(l.max_us)} µs`;
}

export function tickLine(t: Tick, confirms: boolean): string {
  const parts = [`${t.t.toFixed(1).padStart(6)}s${t.phase === 'warmup' ? '*' : ' '}`, `sent ${n(t.publish_rate).padStart(9)} msg/s`];
  if (confirms) parts.push(`confirmed ${n(t.confirm_rate).padStart(9)} msg/s`);
  parts.push(`received ${n(t.consume_rate).padStart(9)} msg/s`);
  parts.push(`latency ${latency(t.latency)}`);
  if (confirms) parts.push(`confirm ${latency(t.confirm_latency)}`);
  return parts.join('  ');
}

export function summaryText(s: PerfSummary): string {
  const c = s.config;
  const lines = [
    `summary: ${s.uri}  ${s.seconds} s measured` +
      `  ${c['publishers']} publisher(s), ${c['consumers']} consumer(s), ${c['queues']} queue(s), ${c['size']} B` +
      `, ${c['exchange_type']} exchange "${c['exchange']}", ack ${c['ack']}` +
      (s.config['confirm'] ? `, confirm window ${c['confirm']}` : '') +
      (s.config['persistent'] ? ', persistent' : ''),
    `  sent       ${n(s.publish_rate).padStart(10)} msg/s`,
  ];
  if (s.config['confirm']) lines.push(`  confirmed  ${n(s.confirm_rate).padStart(10)} msg/s   latency ${latency(s.confirm_latency)}`);
  if (s.nack_rate > 0) lines.push(`  nacked     ${n(s.nack_rate).padStart(10)} msg/s`);
  lines.push(`  received   ${n(s.consume_rate).padStart(10)} msg/s`);
  if (s.latency) {
    const l = s.latency;
    lines.push(
      `  latency    p50 ${n(l.p50_us)}  p75 ${n(l.p75_us)}  p95 ${n(l.p95_us)}  p99 ${n(l.p99_us)}  p99.9 ${n(l.p999_us)}  max ${n(l.max_us)}  mean ${n(l.mean_us)} µs`,
    );
  }
  const t = s.totals;
  lines.push(
    `  totals     published ${n(t.published)}, consumed ${n(t.consumed)}` +
      (s.expected_consumed ? ` of ${n(s.expected_consumed)} expected${s.drained ? '' : ' (NOT drained)'}` : '') +
      (t.confirmed || t.nacked ? `, confirmed ${n(t.confirmed)}, nacked ${n(t.nacked)}` : '') +
      (t.returned ? `, returned ${n(t.returned)}` : '') +
      `, errors ${n(t.errors)}` +
      (s.blocked_ms ? `, blocked ${n(s.blocked_ms)} ms` : ''),
  );
  lines.push(`  tool cpu   ${s.tool_cpu_pct} % of one core`);
  for (const e of s.errors) lines.push(`  error: ${e}`);
  return lines.join('\n');
}
