/**
 * The list_* commands share one shape: fetch a list from the API, pick the requested columns
 * (rabbitmqctl's info keys) and print them. Also the queue and connection actions: purge_queue,
 * delete_queue, close_connection.
 */
import { ArgumentError, CtlError, Exit, apiError, reasonOf, seg } from './client.js';
import { typedTable } from './output.js';
import { command, nodeName, type Command, type CommandContext, type CommandTable } from './command.js';

type Item = Record<string, unknown>;
type Key = (item: Item) => unknown;

export interface ListSpec {
  usage: string;
  description: string;
  banner: (ctx: CommandContext) => string;
  path: (ctx: CommandContext) => string;
  keys: Record<string, Key>;
  /** Columns whose JSON value differs from the table cell (typed AMQP tables). */
  jsonKeys?: Record<string, Key>;
  defaults: string[];
  /** The command takes no column arguments (list_users, list_permissions…): a 'table' listing, see output.ts. */
  fixedColumns?: boolean;
  /** Positional arguments before the columns (list_user_permissions <user>). */
  args?: number;
  /** rabbitmqctl's "Timeout: 60.0 seconds ..." line before the banner (list_queues prints it). */
  timeoutBanner?: boolean;
  /** What a 404 means: an error, or (null) nothing to list, as rabbitmqctl lists a missing vhost's queues. */
  notFound?: (ctx: CommandContext) => CtlError | null;
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
      if (unknown.length) throw new ArgumentError(`Info key(s) ${unknown.join(',')} are not supported`, Exit.USAGE);
      if (spec.timeoutBanner) ctx.out.banner(`Timeout: ${seconds(ctx.timeoutSeconds)} seconds ...`);
      ctx.out.banner(spec.banner(ctx));
      const res = await ctx.client.request('GET', spec.path(ctx));
      let items: Item[];
      if (res.status === 404 && spec.notFound) {
        const error = spec.notFound(ctx);
        if (error) throw error;
        items = [];
      } else if (res.status === 200) {
        items = res.body as Item[];
      } else {
        throw apiError(res);
      }
      const jsonKey = (c: string) => spec.jsonKeys?.[c] ?? spec.keys[c]!;
      ctx.out.table(
        chosen,
        items.map((item) => chosen.map((c) => spec.keys[c]!(item))),
        spec.fixedColumns ? 'table' : 'stream',
        ctx.out.json ? items.map((item) => chosen.map((c) => jsonKey(c)(item))) : [],
      );
    },
  };
}

/** Seconds as rabbitmqctl prints a timeout: 60.0, 2.5. */
const seconds = (s: number) => (Number.isInteger(s) ? s.toFixed(1) : String(s));

const field = (name: string): Key => (item) => item[name];
const fields = (...names: string[]): Record<string, Key> => Object.fromEntries(names.map((n) => [n, field(n)]));
const nested = (a: string, b: string): Key => (item) => (item[a] as Item | undefined)?.[b];

/** rabbitmqctl lists nothing, and succeeds, for a vhost that does not exist. */
const nothingListed = () => null;
/** An AMQP table column: `[{"x-max-length",5}]` in a table, `[["x-max-length","long",5]]` in JSON. */
const typedArguments: Record<string, Key> = { arguments: (item) => typedTable(item['arguments']) };

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
        'message_bytes_ram', 'messages_persistent', 'message_bytes_persistent', 'consumers', 'consumer_utilisation', 'consumer_capacity', 'memory', 'state', 'type',
        'head_message_timestamp', 'node',
      ),
      pid: field('node'),
      owner_pid: nested('owner_pid_details', 'name'),
    },
    jsonKeys: typedArguments,
    defaults: ['name', 'messages'],
    timeoutBanner: true,
    notFound: nothingListed,
  }),
  list_exchanges: listCommand({
    usage: 'list_exchanges [-p <vhost>] [<column> ...]',
    description: 'Lists exchanges (default columns: name type)',
    banner: (ctx) => `Listing exchanges for vhost ${ctx.vhost} ...`,
    path: (ctx) => `/api/exchanges/${seg(ctx.vhost)}`,
    keys: { ...fields('name', 'type', 'durable', 'auto_delete', 'internal', 'arguments', 'vhost'), policy: () => '' },
    jsonKeys: typedArguments,
    defaults: ['name', 'type'],
    notFound: nothingListed,
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
    jsonKeys: typedArguments,
    defaults: ['source_name', 'source_kind', 'destination_name', 'destination_kind', 'routing_key', 'arguments'],
    notFound: nothingListed,
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
    jsonKeys: typedArguments,
    defaults: ['queue_name', 'channel_pid', 'consumer_tag', 'ack_required', 'prefetch_count', 'active', 'arguments'],
    notFound: nothingListed,
  }),

  purge_queue: command<[string]>({
    usage: 'purge_queue [-p <vhost>] <queue>',
    description: 'Removes all ready messages from a queue',
    arity: 1,
    banner: (ctx, [name]) => `Purging queue '${name}' in vhost '${ctx.vhost}' ...`,
    async run(ctx, [name]) {
      const res = await ctx.client.request('DELETE', `/api/queues/${seg(ctx.vhost)}/${seg(name)}/contents`);
      if (res.status === 404) throw new CtlError('not_found', Exit.UNAVAILABLE);
      if (res.status >= 300) throw apiError(res);
    },
  }),
  delete_queue: command<[string]>({
    usage: 'delete_queue [-p <vhost>] <queue> [--if-empty|-e] [--if-unused|-u]',
    description: 'Deletes a queue (only if empty / unused, when asked)',
    arity: 1,
    async run(ctx, [name]) {
      const path = `/api/queues/${seg(ctx.vhost)}/${seg(name)}`;
      const ifEmpty = ctx.options['if-empty'] === true;
      const ifUnused = ctx.options['if-unused'] === true;
      const conditions = [ifEmpty ? ' if queue is empty' : '', ifUnused ? ' if queue is unused' : ''].filter(Boolean).join(' and');
      ctx.out.banner(`Deleting queue '${name}' on vhost '${ctx.vhost}'${conditions} ...`);
      // rabbitmqctl 3.10.8 exits 64 (sic) for every refusal of delete_queue.
      const found = await ctx.client.request('GET', `${path}?columns=messages_ready,consumers`);
      if (found.status === 404) throw new CtlError('Queue not found', Exit.USAGE);
      if (found.status !== 200) throw apiError(found);
      const queue = found.body as Item;
      if (ifEmpty && Number(queue['messages_ready'] ?? 0) > 0) throw new CtlError('Queue is not empty', Exit.USAGE);
      if (ifUnused && Number(queue['consumers'] ?? 0) > 0) throw new CtlError('Queue is in use', Exit.USAGE);
      const query = [ifEmpty ? 'if-empty=true' : '', ifUnused ? 'if-unused=true' : ''].filter(Boolean).join('&');
      const res = await ctx.client.request('DELETE', query ? `${path}?${query}` : path);
      if (res.status === 404) throw new CtlError('Queue not found', Exit.USAGE);
      if (res.status === 400) throw new CtlError(ifEmpty && /empty/.test(reasonOf(res)) ? 'Queue is not empty' : 'Queue is in use', Exit.USAGE);
      if (res.status >= 300) throw apiError(res);
      ctx.out.line(`Queue was successfully deleted with ${queue['messages_ready'] ?? 0} ready messages`);
    },
  }),
  close_connection: command<[string, string]>({
    usage: 'close_connection <connection name> <explanation>',
    description: 'Closes a client connection (its name as list_connections name shows it)',
    arity: 2,
    banner: (_ctx, [name, reason]) => `Closing connection ${name}, reason: ${reason}...`,
    async run(ctx, [name, reason]) {
      const res = await ctx.client.request('DELETE', `/api/connections/${seg(name)}`, undefined, { 'x-reason': reason });
      if (res.status === 404) throw new CtlError(`Connection '${name}' not found`, Exit.UNAVAILABLE);
      if (res.status >= 300) throw apiError(res);
    },
  }),
  close_all_connections: command<[string]>({
    usage: 'close_all_connections [-p <vhost>] [--global] <explanation>',
    description: "Closes every client connection to a vhost (--global: to the node)",
    arity: 1,
    async run(ctx, [reason]) {
      let conns: Item[];
      if (ctx.options['global'] === true) {
        ctx.out.banner(`Closing all connections to node ${await nodeName(ctx)} (across all vhosts), reason: ${reason}...`);
        conns = (await ctx.client.get('/api/connections')) as Item[];
      } else {
        ctx.out.banner(`Closing all connections in vhost ${ctx.vhost}, reason: ${reason}...`);
        const res = await ctx.client.request('GET', `/api/vhosts/${seg(ctx.vhost)}/connections`);
        // A vhost that does not exist has no connections to close, as rabbitmqctl sees it.
        if (res.status !== 200 && res.status !== 404) throw apiError(res);
        conns = res.status === 200 ? (res.body as Item[]) : [];
      }
      let closed = 0;
      for (const c of conns) {
        const res = await ctx.client.request('DELETE', `/api/connections/${seg(String(c['name']))}`, undefined, { 'x-reason': reason });
        if (res.status < 300) closed++;
        else if (res.status !== 404) throw apiError(res);
      }
      ctx.out.line(`Closed ${closed} connections`);
    },
  }),
};
