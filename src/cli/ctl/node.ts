/**
 * Node-level commands: status, await_startup, export_definitions, import_definitions.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { CtlError, Exit, apiError, reasonOf } from './client.js';
import type { CommandTable } from './command.js';

type Item = Record<string, unknown>;

const gb = (bytes: unknown) => `${(Number(bytes) / 1e9).toFixed(4)} gb`;

export const nodeCommands: CommandTable = {
  status: {
    usage: 'status',
    description: 'Shows the node: versions, uptime, listeners, alarms, memory, disk and totals',
    minArgs: 0,
    maxArgs: 0,
    async run(ctx) {
      const overview = (await ctx.client.get('/api/overview')) as Item;
      const node = ((await ctx.client.get('/api/nodes')) as Item[])[0] ?? {};
      const vhosts = (await ctx.client.get('/api/vhosts')) as Item[];
      const totals = (overview['object_totals'] ?? {}) as Item;
      const listeners = (overview['listeners'] ?? []) as Item[];
      const alarms = [node['mem_alarm'] ? 'memory' : '', node['disk_free_alarm'] ? 'disk' : ''].filter(Boolean);
      if (ctx.out.json) {
        ctx.out.document({
          node: overview['node'],
          product_name: overview['product_name'],
          product_version: overview['product_version'],
          rabbitmq_version: overview['rabbitmq_version'],
          os_pid: node['os_pid'],
          uptime: Math.floor(Number(node['uptime'] ?? 0) / 1000),
          data_directory: node['db_dir'],
          listeners: listeners.map((l) => ({ interface: l['ip_address'], port: l['port'], protocol: l['protocol'] })),
          alarms,
          memory: { total: node['mem_used'], limit: node['mem_limit'], strategy: node['mem_calculation_strategy'] },
          disk_free: node['disk_free'],
          disk_free_limit: node['disk_free_limit'],
          totals: { connection_count: totals['connections'], queue_count: totals['queues'], virtual_host_count: vhosts.length },
        });
        return;
      }
      ctx.out.banner(`Status of node ${overview['node']} ...`);
      const lines = [
        'Runtime', '',
        `OS PID: ${node['os_pid']}`,
        `Uptime (seconds): ${Math.floor(Number(node['uptime'] ?? 0) / 1000)}`,
        `${overview['product_name']} version: ${overview['product_version']}`,
        `RabbitMQ API version: ${overview['rabbitmq_version']}`,
        `Node name: ${overview['node']}`,
        '', 'Data directory', '',
        `Node data directory: ${node['db_dir']}`,
        '', 'Listeners', '',
        ...listeners.map((l) => `Interface: ${l['ip_address']}, port: ${l['port']}, protocol: ${l['protocol']}, purpose: ${
          l['protocol'] === 'http' ? 'HTTP API' : 'AMQP 0-9-1'}`),
        '', 'Alarms', '',
        alarms.length ? alarms.map((a) => `resource alarm: ${a}`).join('\n') : '(none)',
        '', 'Memory', '',
        `Total memory used: ${gb(node['mem_used'])}`,
        `Calculation strategy: ${node['mem_calculation_strategy']}`,
        `Memory high watermark: ${gb(node['mem_limit'])}`,
        '', 'Free Bytes on Disk', '',
        `Free disk space: ${gb(node['disk_free'])}`,
        `Free disk space low watermark: ${gb(node['disk_free_limit'])}`,
        '', 'Totals', '',
        `Connection count: ${totals['connections']}`,
        `Queue count: ${totals['queues']}`,
        `Virtual host count: ${vhosts.length}`,
      ];
      ctx.out.line(lines.join('\n'));
    },
  },
  await_startup: {
    usage: 'await_startup [--timeout <seconds>]',
    description: 'Waits until the broker answers (default timeout 300 seconds)',
    minArgs: 0,
    maxArgs: 0,
    async run(ctx) {
      const timeoutSeconds = typeof ctx.options['timeout'] === 'string' ? ctx.timeoutSeconds : 300;
      const deadline = Date.now() + timeoutSeconds * 1000;
      let last = '';
      for (;;) {
        try {
          const res = await ctx.client.request('GET', '/api/overview');
          if (res.status === 200) return;
          if (res.status === 401) throw apiError(res);
          last = `HTTP ${res.status}: ${reasonOf(res)}`;
        } catch (e) {
          if (!(e instanceof CtlError) || e.exitCode === Exit.NOPERM) throw e;
          last = e.message;
        }
        if (Date.now() >= deadline) {
          throw new CtlError(`the broker did not start within ${timeoutSeconds} seconds (${last})`, Exit.TEMPFAIL);
        }
        await new Promise((r) => setTimeout(r, 250));
      }
    },
  },
  export_definitions: {
    usage: 'export_definitions <file | ->',
    description: 'Writes users, vhosts, permissions, queues, exchanges and bindings as RabbitMQ definitions JSON',
    minArgs: 1,
    maxArgs: 1,
    async run(ctx) {
      const [file] = ctx.args as [string];
      const defs = await ctx.client.get('/api/definitions');
      if (file === '-') {
        ctx.out.raw(`${JSON.stringify(defs)}\n`);
        return;
      }
      ctx.out.banner(`Exporting definitions in JSON to a file at "${file}" ...`);
      try {
        writeFileSync(file, JSON.stringify(defs, null, 2));
      } catch (e) {
        throw new CtlError(`cannot write ${file}: ${(e as Error).message}`, Exit.UNAVAILABLE);
      }
    },
  },
  import_definitions: {
    usage: 'import_definitions <file | ->',
    description: 'Imports a RabbitMQ definitions JSON file (e.g. from rabbitmqctl export_definitions)',
    minArgs: 1,
    maxArgs: 1,
    async run(ctx) {
      const [file] = ctx.args as [string];
      let text: string;
      try {
        text = readFileSync(file === '-' ? 0 : file, 'utf8');
      } catch (e) {
        throw new CtlError(`cannot read ${file}: ${(e as Error).message}`, Exit.DATAERR);
      }
      let defs: unknown;
      try {
        defs = JSON.parse(text);
      } catch (e) {
        throw new CtlError(`${file} is not valid JSON: ${(e as Error).message}`, Exit.DATAERR);
      }
      ctx.out.banner(`Importing definitions in JSON from a file at "${file}" ...`);
      const res = await ctx.client.request('POST', '/api/definitions', defs);
      if (res.status === 400) throw new CtlError(`definitions refused: ${reasonOf(res)}`, Exit.DATAERR);
      if (res.status >= 300) throw apiError(res);
      ctx.out.banner('Successfully imported definitions.');
    },
  },
};
