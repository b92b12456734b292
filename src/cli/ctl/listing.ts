/**
 * The list_* commands share one shape: fetch a list from the API, pick the requested columns
 * (rabbitmqctl's info keys) and print them. Also the queue and connection actions: purge_queue,
 * delete_queue, close_connection.
 */
import { CtlError, Exit, apiError, seg } from './client.js';
import type { Command, CommandContext, CommandTable } from './command.js';

type Item = Record<string, unknown>;
type Key = (item: Item) => unknown;

export interface ListSpec {
  usage: string;
  description: string;
  banner: (ctx: CommandContext) => string;
  path: (ctx: CommandContext) => string;
  keys: Record<string, Key>;
  defaults: string[];
  /** The command takes no column arguments (list_users, list_permissions…). */
  fixedColumns?: boolean;
  /** Positional arguments before the columns (list_user_permissions <user>). */
  args?: number;
  notFound?: (ctx: CommandContext) => CtlError;
}

export function listCommand(spec: ListSpec): Command {
  const fixedArgs = spec.args ?? 0;
  return {
    usage: spec.usage,
    description: spec.description,
    minArgs: fixedArgs,
    maxArgs: spec.fixedColumns ? fixedArgs : Infinity,
    async run(ctx) {
      const columns = ctx.args.slice(fixedArgs).flatMap((c) => c.split(',')).filter(Boolean);
      const chosen = columns.length ? columns : spec.defaults;
      const unknown = chosen.filter((c) => !(c in spec.keys));
      if (unknown.length) {
        throw new CtlError(`Info key(s) ${unknown.join(',')} are not supported. Valid keys: ${Object.keys(spec.keys).join(', ')}`, Exit.USAGE);
      }
      ctx.out.banner(spec.banner(ctx));
      const res = await ctx.client.request('GET', spec.path(ctx));
      if (res.status === 404 && spec.notFound) throw spec.notFound(ctx);
      if (res.status !== 200) throw apiError(res);
      const items = res.body as Item[];
      ctx.out.table(chosen, items.map((item) => chosen.map((c) => spec.keys[c]!(item))));
    },
  };
}

const field = (name: string): Key => (item) => item[name];
const fields = (...names: string[]): Record<string, Key> => Object.fromEntries(names.map((n) => [n, field(n)]));
const nested = (a: string, b: string): Key => (item) => (item[a] as Item | undefined)?.[b];

const vhostNotFound = (ctx: CommandContext) => new CtlError(`Virtual host '${ctx.vhost}' does not exist`, Exit.UNAVAILABLE);

export const listingCommands: CommandTable = {
  list_queues: listCommand({
    usage: 'list_queues [-p <vhost>] [<column> ...]',
    description: 'Lists queues and their properties (default columns: name messages)',
    banner: (ctx) => `Listing queues for vhost ${ctx.vhost} ...`,
    path: (ctx) => `/api/queues/${seg(ctx.vhost)}`,
    keys: {
      ...fields(
        'name', 'vhost', 'durable', 'auto_delete', 'exclusive', 'arguments', 'policy', 'exclusive_consumer_tag',
        'messages', 'messages_ready', 'messages_unacknowledged', 'messages_ram', 'messages_ready_ram',
        'messages_unacknowledged_ram', 'message_bytes', 'message_bytes_ready', 'message_bytes_unacknowledged',
        'message_bytes_ram', 'consumers', 'consumer_utilisation', 'consumer_capacity', 'memory', 'state', 'type',
        'head_message_timestamp', 'node',
      ),
      pid: field('node'),
      owner_pid: nested('owner_pid_details', 'name'),
    },
    defaults: ['name', 'messages'],
    notFound: vhostNotFound,
  }),
  list_exchanges: listCommand({
    usage: 'list_exchanges [-p <vhost>] [<column> ...]',
    description: 'Lists exchanges (default columns: name type)',
    banner: (ctx) => `Listing exchanges for vhost ${ctx.vhost} ...`,
    path: (ctx) => `/api/exchanges/${seg(ctx.vhost)}`,
    keys: { ...fields('name', 'type', 'durable', 'auto_delete', 'internal', 'arguments', 'vhost'), policy: () => '' },
    defaults: ['name', 'type'],
    notFound: vhostNotFound,
  }),
  list_bindings: listCommand({
    usage: 'list_bindings [-p <vhost>] [<column> ...]',
    description: 'Lists bindings (default columns: source_name source_kind destination_name destination_kind routing_key arguments)',
    banner: (ctx) => `Listing bindings for vhost ${ctx.vhost}...`,
    path: (ctx) => `/api/bindings/${seg(ctx.vhost)}`,
    keys: {
      source_name: field('source'),
      source_kind: () => 'exchange',
      destination_name: field('destination'),
      destination_kind: field('destination_type'),
      routing_key: field('routing_key'),
      arguments: field('arguments'),
      vhost: field('vhost'),
    },
    defaults: ['source_name', 'source_kind', 'destination_name', 'destination_kind', 'routing_key', 'arguments'],
    notFound: vhostNotFound,
  }),
  list_connections: listCommand({
    usage: 'list_connections [<column> ...]',
    description: 'Lists client connections (default columns: user peer_host peer_port state)',
    banner: () => 'Listing connections ...',
    path: () => '/api/connections',
    keys: {
      ...fields(
        'name', 'user', 'vhost', 'host', 'port', 'peer_host', 'peer_port', 'state', 'channels', 'protocol',
        'auth_mechanism', 'ssl', 'timeout', 'frame_max', 'channel_max', 'client_properties', 'connected_at',
        'recv_oct', 'recv_cnt', 'send_oct', 'send_cnt', 'send_pend', 'type', 'node',
      ),
      pid: field('name'),
    },
    defaults: ['user', 'peer_host', 'peer_port', 'state'],
  }),
  list_channels: listCommand({
    usage: 'list_channels [<column> ...]',
    description: 'Lists channels (default columns: pid user consumer_count messages_unacknowledged)',
    banner: () => 'Listing channels ...',
    path: () => '/api/channels',
    keys: {
      ...fields(
        'name', 'number', 'user', 'vhost', 'transactional', 'confirm', 'consumer_count', 'messages_unacknowledged',
        'messages_uncommitted', 'acks_uncommitted', 'messages_unconfirmed', 'prefetch_count', 'global_prefetch_count', 'state', 'node',
      ),
      pid: field('name'),
      connection: nested('connection_details', 'name'),
    },
    defaults: ['pid', 'user', 'consumer_count', 'messages_unacknowledged'],
  }),
  list_consumers: listCommand({
    usage: 'list_consumers [-p <vhost>] [<column> ...]',
    description: 'Lists consumers (default columns: queue_name channel_pid consumer_tag ack_required prefetch_count active arguments)',
    banner: (ctx) => `Listing consumers in vhost ${ctx.vhost} ...`,
    path: (ctx) => `/api/consumers/${seg(ctx.vhost)}`,
    keys: {
      ...fields('consumer_tag', 'ack_required', 'exclusive', 'prefetch_count', 'active', 'activity_status', 'arguments'),
      queue_name: nested('queue', 'name'),
      channel_pid: nested('channel_details', 'name'),
      connection: nested('channel_details', 'connection_name'),
      user: nested('channel_details', 'user'),
    },
    defaults: ['queue_name', 'channel_pid', 'consumer_tag', 'ack_required', 'prefetch_count', 'active', 'arguments'],
    notFound: vhostNotFound,
  }),

  purge_queue: {
    usage: 'purge_queue [-p <vhost>] <queue>',
    description: 'Removes all ready messages from a queue',
    minArgs: 1,
    maxArgs: 1,
    async run(ctx) {
      const [name] = ctx.args as [string];
      ctx.out.banner(`Purging queue '${name}' in vhost '${ctx.vhost}' ...`);
      const res = await ctx.client.request('DELETE', `/api/queues/${seg(ctx.vhost)}/${seg(name)}/contents`);
      if (res.status === 404) throw new CtlError(`Queue '${name}' in vhost '${ctx.vhost}' not found`, Exit.UNAVAILABLE);
      if (res.status >= 300) throw apiError(res);
    },
  },
  delete_queue: {
    usage: 'delete_queue [-p <vhost>] <queue> [--if-empty|-e] [--if-unused|-u]',
    description: 'Deletes a queue (only if empty / unused, when asked)',
    minArgs: 1,
    maxArgs: 1,
    async run(ctx) {
      const [name] = ctx.args as [string];
      const path = `/api/queues/${seg(ctx.vhost)}/${seg(name)}`;
      ctx.out.banner(`Deleting queue '${name}' on vhost '${ctx.vhost}' ...`);
      const found = await ctx.client.request('GET', `${path}?columns=messages_ready`);
      if (found.status === 404) throw new CtlError(`Queue '${name}' in vhost '${ctx.vhost}' not found`, Exit.UNAVAILABLE);
      if (found.status !== 200) throw apiError(found);
      const query = [ctx.options['if-empty'] ? 'if-empty=true' : '', ctx.options['if-unused'] ? 'if-unused=true' : ''].filter(Boolean).join('&');
      const res = await ctx.client.request('DELETE', query ? `${path}?${query}` : path);
      if (res.status >= 300) throw apiError(res);
      ctx.out.line(`Queue was successfully deleted with ${(found.body as Item)['messages_ready'] ?? 0} ready messages`);
    },
  },
  close_connection: {
    usage: 'close_connection <connection name> <explanation>',
    description: 'Closes a client connection (its name as list_connections name shows it)',
    minArgs: 2,
    maxArgs: 2,
    async run(ctx) {
      const [name, reason] = ctx.args as [string, string];
      ctx.out.banner(`Closing connection ${name}, reason: ${reason}...`);
      const res = await ctx.client.request('DELETE', `/api/connections/${seg(name)}`, undefined, { 'x-reason': reason });
      if (res.status === 404) throw new CtlError(`Connection '${name}' not found`, Exit.UNAVAILABLE);
      if (res.status >= 300) throw apiError(res);
    },
  },
  close_all_connections: {
    usage: 'close_all_connections [-p <vhost>] <explanation>',
    description: 'Closes every client connection to a vhost',
    minArgs: 1,
    maxArgs: 1,
    async run(ctx) {
      const [reason] = ctx.args as [string];
      ctx.out.banner(`Closing all connections in vhost ${ctx.vhost} ...`);
      const conns = (await ctx.client.get(`/api/vhosts/${seg(ctx.vhost)}/connections`)) as Item[];
      for (const c of conns) {
        await ctx.client.request('DELETE', `/api/connections/${seg(String(c['name']))}`, undefined, { 'x-reason': reason });
      }
    },
  },
};
