/**
 * What rabbitmq-diagnostics asks a node, for warrenctl's diagnostics commands
 * (src/cli/ctl/diagnostics.ts): RabbitMQ's own GET /api/nodes/{node}/memory (the memory breakdown),
 * and, where RabbitMQ's API has nothing, Warren's GET /api/warren/status (every listener with its
 * protocol, the memory threshold as it was set, config and log files, the runtime) and
 * GET /api/warren/environment (the effective settings, secrets hidden).
 */
import { platform } from 'node:os';
import { objectNotFound } from '../http.js';
import type { Router } from '../router.js';
import { NODE_NAME } from '../views.js';
import { isThisNode } from './nodes.js';
import { memoryBreakdown } from '../node-figures.js';

export function diagnosticsRoutes(r: Router): void {
  r.get('/api/nodes/:node/memory', 'monitoring', (ctx) => {
    if (!isThisNode(ctx.params['node']!)) throw objectNotFound();
    return { memory: memoryBreakdown(ctx.broker) };
  });
  // Each part as a whole percentage of the resident set (at least 1 when not zero), total 100, as RabbitMQ.
  r.get('/api/nodes/:node/memory/relative', 'monitoring', (ctx) => {
    if (!isThisNode(ctx.params['node']!)) throw objectNotFound();
    const { strategy: _strategy, total, ...parts } = memoryBreakdown(ctx.broker);
    const rss = (total as { rss: number }).rss;
    const percent = (v: number) => (v !== 0 && Math.round((v / rss) * 100) === 0 ? 1 : Math.round((v / rss) * 100));
    return { memory: { total: 100, ...Object.fromEntries(Object.entries(parts).map(([k, v]) => [k, percent(v as number)])) } };
  });
  r.get('/api/warren/status', 'monitoring', (ctx) => {
    const d = ctx.broker.diagnostics();
    return {
      node: NODE_NAME,
      os: OS_NAMES[platform()] ?? platform(),
      runtime_version: `Node.js ${process.version}`,
      crypto_lib_version: `OpenSSL ${process.versions.openssl}`,
      listeners: d.listeners,
      memory_high_watermark_setting: d.memoryHighWatermark,
      config_files: d.configFiles,
      log_files: d.logFiles,
      enabled_plugins: enabledPlugins(d.listeners.map((l) => l.protocol)),
    };
  });
  r.get('/api/warren/environment', 'administrator', (ctx) => ({ warren: redact(ctx.broker.diagnostics().settings) }));
}

/** As Erlang's os:type() names them. */
const OS_NAMES: Record<string, string> = { linux: 'Linux', darwin: 'Darwin', freebsd: 'FreeBSD', win32: 'Windows' };

/** The RabbitMQ plugins whose function Warren serves, as RabbitMQ would list them enabled. */
function enabledPlugins(protocols: string[]): string[] {
  const plugins = ['rabbitmq_management'];
  if (protocols.some((p) => p.endsWith('/prometheus'))) plugins.push('rabbitmq_prometheus');
  if (protocols.includes('stream')) plugins.push('rabbitmq_stream');
  return plugins;
}

/**
 * Settings as plain data with passwords and keys hidden (the environment is readable by
 * administrators, and may be pasted). Live objects among the options (the cluster's change feed,
 * a logger) are left out: they are wiring, not settings.
 */
function redact(value: unknown, key = ''): unknown {
  if (/pass(word)?$|^key$|secret/i.test(key) && value !== undefined) return '********';
  if (Array.isArray(value)) return value.filter(isData).map((v) => redact(v));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value as Record<string, unknown>).filter(([, v]) => isData(v)).map(([k, v]) => [k, redact(v, k)]));
  }
  return value;
}

const isData = (v: unknown): boolean =>
  typeof v !== 'function' && (v === null || typeof v !== 'object' || Array.isArray(v) || Object.getPrototypeOf(v) === Object.prototype);
