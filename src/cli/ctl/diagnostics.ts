/**
 * rabbitmq-diagnostics' commands, with its names, banners, output and exit codes (3.10.8, observed
 * on the reference node): status, environment, ping, check_running, check_local_alarms,
 * check_alarms, alarms, check_port_connectivity, check_virtual_hosts, listeners, memory_breakdown.
 * They read RabbitMQ's endpoints where it has them (/api/overview, /api/nodes, /api/health/checks/*,
 * /api/nodes/{node}/memory) and Warren's /api/warren/status and /environment for the rest
 * (src/management/routes/diagnostics.ts).
 */
import { connect } from 'node:net';
import { CtlError, Exit, apiError } from './client.js';
import { command, nodeName, type CommandContext, type CommandTable } from './command.js';

type Item = Record<string, unknown>;

interface Listener {
  protocol: string;
  host: string;
  port: number;
}

interface WarrenStatus {
  node: string;
  os: string;
  runtime_version: string;
  crypto_lib_version: string;
  listeners: Listener[];
  memory_high_watermark_setting: { relative: number } | { absolute: number };
  config_files: string[];
  log_files: string[];
  enabled_plugins: string[];
}

/** What each protocol's listener is for, in rabbitmq-diagnostics' words (others, such as stream, are named by their protocol). */
const PURPOSES: Record<string, string> = {
  amqp: 'AMQP 0-9-1 and AMQP 1.0',
  'amqp/ssl': 'AMQP 0-9-1 and AMQP 1.0 over TLS',
  http: 'HTTP API',
  https: 'HTTP API over TLS (HTTPS)',
  'http/prometheus': 'Prometheus exporter API over HTTP',
  'https/prometheus': 'Prometheus exporter API over TLS (HTTPS)',
};

/** rabbitmq-diagnostics prints IPv6 interfaces in brackets: "[::]". */
const iface = (host: string) => (host.includes(':') ? `[${host}]` : host);

function listenerMap(node: string, l: Listener): Item {
  return { interface: iface(l.host), node, port: l.port, protocol: l.protocol, purpose: PURPOSES[l.protocol] ?? l.protocol };
}

const listenerLine = (l: Item) => `Interface: ${l['interface']}, port: ${l['port']}, protocol: ${l['protocol']}, purpose: ${l['purpose']}`;

/** Erlang's float printing after rounding, as rabbitmq-diagnostics shows sizes: 0.1398, 10.1105, 0.0. */
export function rounded(value: number, digits: number): string {
  const r = Math.round(value * 10 ** digits) / 10 ** digits;
  return Number.isInteger(r) ? r.toFixed(1) : String(r);
}

const gb = (bytes: number) => `${rounded(bytes / 1e9, 4)} gb`;

async function warrenStatus(ctx: CommandContext): Promise<WarrenStatus> {
  return (await ctx.client.get('/api/warren/status')) as WarrenStatus;
}

/** The alarms in effect as rabbitmq-diagnostics words them ("Memory alarm on node x"). */
async function localAlarms(ctx: CommandContext): Promise<string[]> {
  const res = await ctx.client.request('GET', '/api/health/checks/local-alarms');
  if (res.status === 200) return [];
  if (res.status !== 503) throw apiError(res);
  const alarms = ((res.body as Item)['alarms'] ?? []) as { node: string; resource: string }[];
  return alarms.map((a) => `${a.resource === 'memory' ? 'Memory' : 'Free disk space'} alarm on node ${a.node}`);
}

/** Breakdown entries (not strategy / total), largest first, with their share of the total. */
function breakdown(memory: Item): { key: string; bytes: number; percentage: number }[] {
  const total = Number((memory['total'] as Item | undefined)?.['rss'] ?? 0);
  return Object.entries(memory)
    .filter(([k, v]) => k !== 'strategy' && k !== 'total' && typeof v === 'number')
    .map(([key, v]) => ({ key, bytes: v as number, percentage: total > 0 ? Math.round(((v as number) / total) * 10000) / 100 : 0 }))
    .sort((a, b) => b.bytes - a.bytes);
}

/** TCP connect to host:port within the timeout: the connection is closed at once. */
function canConnect(host: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** Where to reach a listener from here: its own address, or the management URL's host when it listens on every interface. */
function reachableHost(ctx: CommandContext, l: Listener): string {
  if (l.host !== '::' && l.host !== '0.0.0.0' && l.host !== '') return l.host;
  return new URL(ctx.client.url).hostname.replace(/^\[|\]$/g, '');
}

/** A JSON refusal goes to stderr as one object, as rabbitmq-diagnostics prints it; exit 69. */
function jsonError(value: unknown): CtlError {
  return new CtlError(JSON.stringify(value), Exit.UNAVAILABLE, true);
}

/**
 * check_local_alarms and check_alarms: the same check, told apart by their words (and check_alarms
 * prints its refusal without the "Error:" line, as rabbitmq-diagnostics 3.10.8 does).
 */
function alarmCheck(spec: {
  usage: string;
  description: string;
  refusal: (node: string, alarms: string[]) => { json: unknown; bare: boolean };
  fine: (node: string) => string;
}) {
  return command({
    usage: spec.usage,
    description: spec.description,
    arity: 0,
    async run(ctx) {
      const name = await nodeName(ctx);
      ctx.out.banner(`Asking node ${name} to report any local resource alarms ...`);
      const alarms = await localAlarms(ctx);
      if (alarms.length > 0) {
        const refusal = spec.refusal(name, alarms);
        if (ctx.out.json) throw jsonError(refusal.json);
        throw new CtlError(alarms.join('\n'), Exit.UNAVAILABLE, refusal.bare);
      }
      if (ctx.out.json) ctx.out.raw(`${JSON.stringify({ result: 'ok' })}\n`);
      else ctx.out.line(spec.fine(name));
    },
  });
}

export const diagnosticsCommands: CommandTable = {
  status: command({
    usage: 'status',
    description: 'Displays the status of the node: runtime, versions, listeners, alarms, memory breakdown, file descriptors, disk, totals',
    arity: 0,
    async run(ctx) {
      const [overview, node, vhosts, extra, memory] = await Promise.all([
        ctx.client.get('/api/overview') as Promise<Item>,
        ctx.client.get('/api/nodes').then((n) => ((n as Item[])[0] ?? {}) as Item),
        ctx.client.get('/api/vhosts') as Promise<Item[]>,
        warrenStatus(ctx),
        ctx.client.get(`/api/nodes/${encodeURIComponent(await nodeName(ctx))}/memory`).then((m) => (m as Item)['memory'] as Item),
      ]);
      const name = String(overview['node']);
      const totals = (overview['object_totals'] ?? {}) as Item;
      const alarms = await localAlarms(ctx);
      const listeners = extra.listeners.map((l) => listenerMap(name, l));
      const setting = extra.memory_high_watermark_setting;
      const uptime = Math.floor(Number(node['uptime'] ?? 0) / 1000);
      if (ctx.out.json) {
        ctx.out.raw(`${JSON.stringify({
          active_plugins: extra.enabled_plugins,
          alarms: alarms.map((a) => ({ node: name, resource: a.startsWith('Memory') ? 'memory' : 'disk', type: 'resource_limit' })),
          config_files: extra.config_files,
          crypto_lib_version: extra.crypto_lib_version,
          data_directory: node['db_dir'],
          disk_free: node['disk_free'],
          disk_free_limit: node['disk_free_limit'],
          erlang_version: extra.runtime_version,
          file_descriptors: { sockets_limit: node['sockets_total'], sockets_used: node['sockets_used'], total_limit: node['fd_total'], total_used: node['fd_used'] },
          is_under_maintenance: false,
          listeners,
          log_files: extra.log_files,
          memory,
          os: extra.os,
          pid: Number(node['os_pid']),
          processes: { limit: node['proc_total'], used: node['proc_used'] },
          product_name: overview['product_name'],
          product_version: overview['product_version'],
          rabbitmq_version: overview['rabbitmq_version'],
          totals: { virtual_host_count: vhosts.length, connection_count: totals['connections'], queue_count: totals['queues'] },
          uptime,
          vm_memory_calculation_strategy: node['mem_calculation_strategy'],
          vm_memory_high_watermark_limit: node['mem_limit'],
          vm_memory_high_watermark_setting: setting,
        })}\n`);
        return;
      }
      ctx.out.banner(`Status of node ${name} ...`);
      const limit = Number(node['mem_limit']);
      const settingText = 'relative' in setting ? `${setting.relative} of available memory` : gb(setting.absolute);
      const list = (items: string[]) => (items.length ? items.map((i) => ` * ${i}`) : ['(none)']);
      const lines = [
        'Runtime', '',
        `OS PID: ${node['os_pid']}`,
        `OS: ${extra.os}`,
        `Uptime (seconds): ${uptime}`,
        'Is under maintenance?: false',
        `RabbitMQ version: ${overview['rabbitmq_version']}`,
        `Product name: ${overview['product_name']}`,
        `Product version: ${overview['product_version']}`,
        `Node name: ${name}`,
        `Runtime: ${extra.runtime_version}`,
        `Crypto library: ${extra.crypto_lib_version}`,
        '', 'Plugins', '',
        'Enabled plugins:', '',
        ...list(extra.enabled_plugins),
        '', 'Data directory', '',
        `Node data directory: ${node['db_dir']}`,
        '', 'Config files', '',
        ...list(extra.config_files),
        '', 'Log file(s)', '',
        ...list(extra.log_files),
        '', 'Alarms', '',
        ...(alarms.length ? alarms : ['(none)']),
        '', 'Memory', '',
        `Total memory used: ${gb(Number(node['mem_used']))}`,
        `Calculation strategy: ${node['mem_calculation_strategy']}`,
        `Memory high watermark setting: ${settingText}, computed to: ${gb(limit)}`,
        '',
        ...breakdown(memory).map((e) => `${e.key}: ${gb(e.bytes)} (${rounded(e.percentage, 2)} %)`),
        '', 'File Descriptors', '',
        `Total: ${node['fd_used']}, limit: ${node['fd_total']}`,
        `Sockets: ${node['sockets_used']}, limit: ${node['sockets_total']}`,
        '', 'Free Disk Space', '',
        `Low free disk space watermark: ${gb(Number(node['disk_free_limit']))}`,
        `Free disk space: ${gb(Number(node['disk_free']))}`,
        '', 'Totals', '',
        `Connection count: ${totals['connections']}`,
        `Queue count: ${totals['queues']}`,
        `Virtual host count: ${vhosts.length}`,
        '', 'Listeners', '',
        ...listeners.map(listenerLine),
      ];
      ctx.out.line(lines.join('\n'));
    },
  }),
  memory_breakdown: command({
    usage: 'memory_breakdown',
    description: "Shows the node's memory use by category, largest first",
    arity: 0,
    async run(ctx) {
      const name = await nodeName(ctx);
      const memory = ((await ctx.client.get(`/api/nodes/${encodeURIComponent(name)}/memory`)) as Item)['memory'] as Item;
      const entries = breakdown(memory);
      if (ctx.out.json) {
        ctx.out.raw(`${JSON.stringify(Object.fromEntries(entries.map((e) => [e.key, { bytes: e.bytes, percentage: e.percentage }])))}\n`);
        return;
      }
      ctx.out.banner(`Reporting memory breakdown on node ${name}...`);
      // rabbitmq-diagnostics ends the list with an empty line.
      ctx.out.line(`${entries.map((e) => `${e.key}: ${gb(e.bytes)} (${rounded(e.percentage, 2)}%)`).join('\n')}\n`);
    },
  }),
  environment: command({
    usage: 'environment',
    description: "Displays the node's effective settings (passwords hidden)",
    arity: 0,
    async run(ctx) {
      const name = await nodeName(ctx);
      const env = (await ctx.client.get('/api/warren/environment')) as Item;
      if (ctx.out.json) {
        ctx.out.raw(`${JSON.stringify(env)}\n`);
        return;
      }
      ctx.out.banner(`Application environment of node ${name} ...`);
      ctx.out.line(`[${Object.entries(env).map(([app, settings]) => `{${app},\n     ${erlangTerm(settings, 5)}}`).join(',\n ')}]`);
    },
  }),
  ping: command({
    usage: 'ping',
    description: 'Checks that the node answers and accepts the credentials',
    arity: 0,
    banner: (ctx) => `Will ping ${ctx.client.url}. This only checks if the management API answers and accepts the credentials. Timeout: ${ctx.timeoutSeconds * 1000} ms.`,
    async run(ctx) {
      try {
        await ctx.client.get('/api/whoami');
      } catch (e) {
        if (!(e instanceof CtlError)) throw e;
        throw new CtlError(`Failed to connect and authenticate to ${ctx.client.url} in ${ctx.timeoutSeconds * 1000} ms`, Exit.UNAVAILABLE);
      }
      if (ctx.out.json) ctx.out.raw(`${JSON.stringify({ message: 'Ping succeeded' })}\n`);
      else ctx.out.line('Ping succeeded');
    },
  }),
  check_running: command({
    usage: 'check_running',
    description: 'Health check: exits non-zero unless the broker is fully booted and running',
    arity: 0,
    async run(ctx) {
      const name = await nodeName(ctx);
      ctx.out.banner(`Checking if RabbitMQ is running on node ${name} ...`);
      const node = ((await ctx.client.get('/api/nodes')) as Item[])[0] ?? {};
      if (node['running'] !== true) {
        throw new CtlError(`RabbitMQ on node ${name} is not running or has not fully booted yet (check with is_booting)`, Exit.UNAVAILABLE);
      }
      const message = `RabbitMQ on node ${name} is fully booted and running`;
      if (ctx.out.json) ctx.out.raw(`${JSON.stringify({ message })}\n`);
      else ctx.out.line(message);
    },
  }),
  check_local_alarms: alarmCheck({
    usage: 'check_local_alarms',
    description: 'Health check: exits 69 if the node reports any resource alarm (memory, disk)',
    refusal: (name, alarms) => ({ json: { local: alarms, message: `Node ${name} reported local alarms`, result: 'error' }, bare: false }),
    fine: (name) => `Node ${name} reported no local alarms`,
  }),
  check_alarms: alarmCheck({
    usage: 'check_alarms',
    description: 'Health check: exits 69 if any resource alarm is in effect (one node: the same as check_local_alarms)',
    refusal: (name, alarms) => ({ json: { alarms, message: `Node ${name} reported alarms`, result: 'error' }, bare: true }),
    fine: (name) => `Node ${name} reported no alarms, local or clusterwide`,
  }),
  alarms: command({
    usage: 'alarms',
    description: 'Lists the resource alarms in effect',
    arity: 0,
    async run(ctx) {
      const name = await nodeName(ctx);
      ctx.out.banner(`Asking node ${name} to report any known resource alarms ...`);
      const alarms = await localAlarms(ctx);
      if (ctx.out.json) {
        const value = alarms.length
          ? { global: [], local: alarms, message: `Node ${name} reported alarms`, result: 'ok' }
          : { alarms: [], node: name, result: 'ok' };
        ctx.out.raw(`${JSON.stringify(value)}\n`);
        return;
      }
      ctx.out.line(alarms.length ? alarms.join('\n') : `Node ${name} reported no alarms, local or clusterwide`);
    },
  }),
  listeners: command({
    usage: 'listeners',
    description: "Lists the node's listeners: interface, port, protocol, purpose",
    arity: 0,
    async run(ctx) {
      const status = await warrenStatus(ctx);
      const listeners = status.listeners.map((l) => listenerMap(status.node, l));
      if (ctx.out.json) {
        ctx.out.raw(`${JSON.stringify({ listeners, node: status.node, result: 'ok' })}\n`);
        return;
      }
      ctx.out.banner(`Asking node ${status.node} to report its protocol listeners ...`);
      ctx.out.line(listeners.map(listenerLine).join('\n'));
    },
  }),
  check_port_connectivity: command({
    usage: 'check_port_connectivity',
    description: "Health check: opens (and closes) a TCP connection to each of the node's listeners",
    arity: 0,
    async run(ctx) {
      const status = await warrenStatus(ctx);
      ctx.out.banner(`Testing TCP connections to all active listeners on node ${status.node} ...`);
      const perListenerMs = Math.max(1000, (ctx.timeoutSeconds * 1000) / Math.max(1, status.listeners.length));
      const reached = await Promise.all(status.listeners.map((l) => canConnect(reachableHost(ctx, l), l.port, perListenerMs)));
      const failures = status.listeners.filter((_, i) => !reached[i]).map((l) => listenerMap(status.node, l));
      if (failures.length > 0) {
        if (ctx.out.json) throw jsonError({ failures, node: status.node, result: 'error' });
        throw new CtlError([`Connection to ports of the following listeners on node ${status.node} failed: `, ...failures.map(listenerLine)].join('\n'), Exit.UNAVAILABLE);
      }
      const listeners = status.listeners.map((l) => listenerMap(status.node, l));
      if (ctx.out.json) {
        ctx.out.raw(`${JSON.stringify({ listeners, node: status.node, result: 'ok' })}\n`);
        return;
      }
      const ports = status.listeners.map((l) => l.port).sort((a, b) => a - b).join(', ');
      ctx.out.line(`Successfully connected to ports ${ports} on node ${status.node}.`);
    },
  }),
  check_virtual_hosts: command({
    usage: 'check_virtual_hosts',
    description: 'Health check: exits 69 unless every virtual host is running',
    arity: 0,
    async run(ctx) {
      const name = await nodeName(ctx);
      ctx.out.banner(`Checking if all vhosts are running on node ${name} ...`);
      const res = await ctx.client.request('GET', '/api/health/checks/virtual-hosts');
      if (res.status === 503) {
        const reason = String((res.body as Item)['reason'] ?? 'some virtual hosts are down');
        if (ctx.out.json) throw jsonError({ result: 'error', message: reason });
        throw new CtlError(reason, Exit.UNAVAILABLE);
      }
      if (res.status !== 200) throw apiError(res);
      if (ctx.out.json) ctx.out.raw(`${JSON.stringify({ result: 'ok' })}\n`);
      else ctx.out.line(`Node ${name} reported all vhosts as running`);
    },
  }),
};

/** A JSON value as an Erlang term, the way the environment command prints application settings. */
function erlangTerm(v: unknown, indent: number): string {
  if (v === null || v === undefined) return 'undefined';
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v !== 'object') return String(v);
  const pad = ' '.repeat(indent + 1);
  if (Array.isArray(v)) return `[${v.map((x) => erlangTerm(x, indent + 1)).join(`,\n${pad}`)}]`;
  const entries = Object.entries(v as Item).sort(([a], [b]) => a.localeCompare(b));
  return `[${entries.map(([k, x]) => `{${snake(k)},${erlangTerm(x, indent + 2 + snake(k).length)}}`).join(`,\n${pad}`)}]`;
}

/** camelCase option names as Erlang atoms: memory_high_watermark. */
const snake = (k: string) => k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
