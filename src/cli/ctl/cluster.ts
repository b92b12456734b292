/**
 * cluster_status: rabbitmqctl's sections (Basics, Disk Nodes, Running Nodes, Versions, Alarms,
 * Network Partitions, Listeners) from the management API, plus Warren's own: the leader, the in-sync
 * set and each follower's replication lag. Any node answers (a follower forwards the API to the
 * leader, which knows every member); a single node reports itself as leader of a cluster of one.
 *
 * set_cluster_name: PUT /api/cluster-name, kept with the definitions as RabbitMQ keeps it.
 *
 * forget_cluster_node: removes a stopped member from etcd's member list and in-sync set (DELETE
 * /api/nodes/{node}, answered by the leader); a running node, the leader included, is refused as
 * rabbitmqctl refuses it.
 */
import { CtlError, Exit, apiError, seg } from './client.js';
import { command, type CommandTable } from './command.js';

type Item = Record<string, unknown>;

interface NodeLine {
  name: string;
  role: string;
  running: boolean;
  inSync: boolean;
  lagBytes: number | null;
}

function nodeLine(n: Item): NodeLine {
  return {
    name: String(n['name']),
    // A single node's /api/nodes entry has no cluster fields: it is its own leader.
    role: typeof n['role'] === 'string' ? n['role'] : 'leader',
    running: n['running'] !== false,
    inSync: n['in_sync'] !== false,
    lagBytes: typeof n['lag_bytes'] === 'number' ? n['lag_bytes'] : n['role'] === undefined ? 0 : null,
  };
}

export const clusterCommands: CommandTable = {
  cluster_status: {
    usage: 'cluster_status',
    description: 'Shows the cluster: nodes, the leader, the in-sync set, replication lag, alarms and listeners',
    minArgs: 0,
    maxArgs: 0,
    async run(ctx) {
      const overview = (await ctx.client.get('/api/overview')) as Item;
      const items = (await ctx.client.get('/api/nodes')) as Item[];
      const nodes = items.map(nodeLine);
      const alarms = items.flatMap((n) => [
        ...(n['mem_alarm'] === true ? [{ node: String(n['name']), resource: 'memory' }] : []),
        ...(n['disk_free_alarm'] === true ? [{ node: String(n['name']), resource: 'disk' }] : []),
      ]);
      const clusterName = String(((await ctx.client.get('/api/cluster-name')) as Item)['name']);
      const listeners = (overview['listeners'] ?? []) as Item[];
      const leader = nodes.find((n) => n.role === 'leader' && n.running)?.name ?? null;
      const running = nodes.filter((n) => n.running).map((n) => n.name).sort();
      const inSync = nodes.filter((n) => n.inSync && n.running).map((n) => n.name).sort();
      const all = nodes.map((n) => n.name).sort();
      const version = `${overview['product_name']} ${overview['product_version']}`;
      if (ctx.out.json) {
        ctx.out.document({
          cluster_name: clusterName,
          disk_nodes: all,
          ram_nodes: [],
          running_nodes: running,
          leader,
          in_sync: inSync,
          nodes: nodes.map((n) => ({ name: n.name, role: n.role, running: n.running, in_sync: n.inSync, lag_bytes: n.lagBytes })),
          versions: Object.fromEntries(running.map((n) => [n, { warren_version: overview['product_version'], rabbitmq_version: overview['rabbitmq_version'] }])),
          alarms,
          partitions: {},
          listeners: { [String(overview['node'])]: listeners.map((l) => ({ interface: l['ip_address'], port: l['port'], protocol: l['protocol'] })) },
        });
        return;
      }
      const lag = (n: NodeLine) => (n.role === 'leader' ? 'leader' : `${n.role}, ${n.inSync ? 'in sync' : 'not in sync'}, lag ${n.lagBytes === null ? 'unknown' : `${n.lagBytes} bytes`}`);
      ctx.out.banner(`Cluster status of node ${overview['node']} ...`);
      ctx.out.line([
        'Basics', '', `Cluster name: ${clusterName}`,
        '', 'Disk Nodes', '', ...all,
        '', 'Running Nodes', '', ...(running.length ? running : ['(none)']),
        '', 'Leader', '', leader ?? '(none)',
        '', 'In-sync Nodes', '', ...(inSync.length ? inSync : ['(none)']),
        '', 'Replication', '', ...nodes.map((n) => `${n.name}: ${n.running ? lag(n) : 'down'}`),
        '', 'Versions', '', ...running.map((n) => `${n}: ${version} (RabbitMQ API ${overview['rabbitmq_version']})`),
        '', 'Alarms', '', ...(alarms.length ? alarms.map((a) => `${a.resource === 'memory' ? 'Memory' : 'Free disk space'} alarm on node ${a.node}`) : ['(none)']),
        '', 'Network Partitions', '', '(none)',
        '', 'Listeners', '',
        ...listeners.map((l) => `Node: ${overview['node']}, interface: ${l['ip_address']}, port: ${l['port']}, protocol: ${l['protocol']}, purpose: ${
          String(l['protocol']).startsWith('http') ? 'HTTP API' : 'AMQP 0-9-1'}`),
      ].join('\n'));
    },
  },
  set_cluster_name: command<[string]>({
    usage: 'set_cluster_name <name>',
    description: "Sets the cluster's name (shown by the management UI, cluster_status and connection.start)",
    arity: 1,
    banner: (_ctx, [name]) => `Setting cluster name to ${name} ...`,
    async run(ctx, [name]) {
      const res = await ctx.client.request('PUT', '/api/cluster-name', { name });
      if (res.status >= 300) throw apiError(res);
    },
  }),
  forget_cluster_node: command<[string]>({
    usage: 'forget_cluster_node <existing_cluster_member_node>',
    description: 'Removes a stopped node from the cluster (member list and in-sync set)',
    arity: 1,
    banner: (_ctx, [node]) => `Removing node ${node} from the cluster`,
    async run(ctx, [node]) {
      const res = await ctx.client.request('DELETE', `/api/nodes/${seg(node)}`);
      if (res.status === 400) {
        const reason = (res.body as Record<string, unknown> | null)?.['reason'];
        throw new CtlError(typeof reason === 'string' ? reason : 'refused', Exit.UNAVAILABLE);
      }
      if (res.status < 200 || res.status >= 300) throw apiError(res);
    },
  }),
};
