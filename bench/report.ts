// Turns the samples into the table (medians per broker, Warren's advantage, target met or not) and
// writes it as Markdown and JSON.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { METRICS, type MetricSpec } from './metrics.js';
import { median, type Sample } from './samples.js';

export interface Row {
  scenario: string;
  tool: string;
  metric: string;
  label: string;
  unit: string;
  better: 'higher' | 'lower';
  rabbitmq: number | null;
  warren: number | null;
  /** higher-better: Warren / RabbitMQ; lower-better: RabbitMQ / Warren. > 1 = Warren is better */
  advantage: number | null;
  target: string | null;
  met: boolean | null;
  runs: number;
  errors: string[];
}

export interface BenchReport {
  date: string;
  command: string;
  machine: Record<string, unknown>;
  versions: Record<string, string>;
  options: Record<string, unknown>;
  rows: Row[];
  cpu: {
    scenario: string;
    rabbitmq_cpu_pct: number | null;
    warren_cpu_pct: number | null;
    tool_cpu_pct_rabbitmq: number | null;
    tool_cpu_pct_warren: number | null;
    /** CPU used by anything but the broker and amqp-load: other work on the machine skews a run */
    other_cpu_pct_rabbitmq: number | null;
    other_cpu_pct_warren: number | null;
  }[];
  samples: Sample[];
}

function medianOf(samples: Sample[]): number | null {
  return median(samples.map((s) => s.value).filter((v): v is number => v !== null));
}

export function buildRows(samples: Sample[], labels: Record<string, string>): Row[] {
  const rows: Row[] = [];
  for (const m of METRICS) {
    const mine = samples.filter((s) => s.scenario === m.scenario && s.tool === m.tool && s.metric === m.metric);
    if (mine.length === 0) continue;
    const r = m.single ? null : medianOf(mine.filter((s) => s.broker === 'rabbitmq'));
    const w = medianOf(m.single ? mine : mine.filter((s) => s.broker === 'warren'));
    const advantage = r !== null && w !== null && r > 0 && w > 0 ? (m.better === 'higher' ? w / r : r / w) : null;
    rows.push({
      scenario: m.scenario,
      tool: m.tool,
      metric: m.metric,
      label: m.label.replace(/\bN\b/, labels[m.scenario] ?? 'N'),
      unit: m.unit,
      better: m.better,
      rabbitmq: r,
      warren: w,
      advantage: advantage === null ? null : Math.round(advantage * 100) / 100,
      target: targetText(m),
      met: met(m, advantage, w),
      runs: mine.length,
      errors: [...new Set(mine.filter((s) => s.error).map((s) => `${s.broker ?? ''} run ${s.round}: ${s.error}`))],
    });
  }
  return rows;
}

function targetText(m: MetricSpec): string | null {
  const parts: string[] = [];
  if (m.target !== undefined) parts.push(m.target === 1 ? (m.better === 'higher' ? '≥ RabbitMQ' : '≤ RabbitMQ') : `≥ ${m.target}×`);
  if (m.warrenAtLeast !== undefined) parts.push(`Warren ≥ ${m.warrenAtLeast.toLocaleString('en-US')}`);
  return parts.length ? parts.join(', ') : null;
}

function met(m: MetricSpec, advantage: number | null, w: number | null): boolean | null {
  if (m.target === undefined && m.warrenAtLeast === undefined) return null;
  if (m.target !== undefined && (advantage === null || advantage < m.target)) return false;
  if (m.warrenAtLeast !== undefined && (w === null || w < m.warrenAtLeast)) return false;
  return true;
}

const fmt = (v: number | null, unit: string): string => {
  if (v === null) return '—';
  const digits = unit === '×' ? 2 : unit === 'KiB' || unit === 'MiB' || unit === 'µs/msg' ? 1 : 0;
  return v.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
};

export function markdown(rep: BenchReport): string {
  const out: string[] = [];
  const mach = rep.machine;
  out.push(`# Warren vs RabbitMQ — \`npm run bench\``, '');
  out.push(`- date: ${rep.date}`);
  out.push(`- command: \`${rep.command}\``);
  out.push(`- machine: ${mach['cpus']} × ${mach['cpu_model']}, ${mach['memory_gib']} GiB, ${mach['kernel']}; load generators on the same machine`);
  out.push(`- versions: ${Object.entries(rep.versions).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  out.push(`- ${rep.options['seconds']} s windows after ${rep.options['warmup']} s warm-up, ${rep.options['repeat']} round(s), brokers alternating; medians. "Warren vs RabbitMQ" is Warren's advantage (higher-better: W/R, lower-better: R/W), > 1 = Warren better.`);
  out.push('');
  out.push('| scenario | tool | measure | RabbitMQ | Warren | Warren vs RabbitMQ | target | met |');
  out.push('| --- | --- | --- | ---: | ---: | ---: | --- | --- |');
  for (const r of rep.rows) {
    const single = r.rabbitmq === null && r.advantage === null && METRICS.find((m) => m.scenario === r.scenario && m.metric === r.metric)?.single;
    const flag = r.errors.length ? ' ⚠' : '';
    out.push(
      `| ${r.scenario} | ${r.tool} | ${r.label} (${r.unit}) | ${single ? '(no broker)' : fmt(r.rabbitmq, r.unit)} | ${fmt(r.warren, r.unit)}${flag} | ${r.advantage === null ? '—' : `${r.advantage.toFixed(2)}×`} | ${r.target ?? ''} | ${r.met === null ? '' : r.met ? 'yes' : '**NO**'} |`,
    );
  }
  if (rep.cpu.length) {
    out.push('', 'CPU during the amqp-load windows, % of one core (200 = both cores): the broker, amqp-load, and everything else on the machine (noise):', '');
    out.push('| scenario | RabbitMQ | Warren | amqp-load (R / W run) | other (R / W run) |');
    out.push('| --- | ---: | ---: | ---: | ---: |');
    for (const c of rep.cpu) {
      out.push(
        `| ${c.scenario} | ${fmt(c.rabbitmq_cpu_pct, '')} | ${fmt(c.warren_cpu_pct, '')} | ${fmt(c.tool_cpu_pct_rabbitmq, '')} / ${fmt(c.tool_cpu_pct_warren, '')} | ${fmt(c.other_cpu_pct_rabbitmq, '')} / ${fmt(c.other_cpu_pct_warren, '')} |`,
      );
    }
  }
  const problems = rep.rows.filter((r) => r.errors.length);
  if (problems.length) {
    out.push('', '⚠ runs that reported errors:', '');
    for (const r of problems) for (const e of r.errors) out.push(`- ${r.scenario} / ${r.tool} / ${r.metric}: ${e}`);
  }
  out.push('');
  return out.join('\n');
}

export function cpuTable(samples: Sample[]): BenchReport['cpu'] {
  const scenarios = [...new Set(samples.filter((s) => s.tool === 'amqp-load' && s.broker).map((s) => s.scenario))];
  const pick = (scenario: string, broker: string, key: string): number | null => {
    const seen = new Set<unknown>();
    const vals: number[] = [];
    for (const s of samples) {
      if (s.scenario !== scenario || s.tool !== 'amqp-load' || s.broker !== broker || seen.has(s.raw)) continue;
      seen.add(s.raw);
      const v = (s.raw as Record<string, unknown> | undefined)?.[key];
      if (typeof v === 'number') vals.push(v);
    }
    return median(vals);
  };
  return scenarios.map((scenario) => ({
    scenario,
    rabbitmq_cpu_pct: pick(scenario, 'rabbitmq', 'broker_cpu_pct'),
    warren_cpu_pct: pick(scenario, 'warren', 'broker_cpu_pct'),
    tool_cpu_pct_rabbitmq: pick(scenario, 'rabbitmq', 'tool_cpu_pct'),
    tool_cpu_pct_warren: pick(scenario, 'warren', 'tool_cpu_pct'),
    other_cpu_pct_rabbitmq: pick(scenario, 'rabbitmq', 'other_cpu_pct'),
    other_cpu_pct_warren: pick(scenario, 'warren', 'other_cpu_pct'),
  }));
}

export function writeReport(dir: string, rep: BenchReport): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'latest.json'), `${JSON.stringify(rep, null, 1)}\n`);
  writeFileSync(join(dir, 'latest.md'), markdown(rep));
}

/** The table alone, for the terminal. */
export function terminalTable(rows: Row[]): string {
  const head = ['scenario', 'tool', 'measure', 'RabbitMQ', 'Warren', 'W vs R', 'target', 'met'];
  const body = rows.map((r) => [
    r.scenario,
    r.tool,
    `${r.label} (${r.unit})`,
    r.rabbitmq === null ? '-' : fmt(r.rabbitmq, r.unit),
    fmt(r.warren, r.unit) + (r.errors.length ? ' !' : ''),
    r.advantage === null ? '-' : `${r.advantage.toFixed(2)}x`,
    r.target ?? '',
    r.met === null ? '' : r.met ? 'yes' : 'NO',
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i >= 3 && i <= 5 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ');
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}
