/**
 * /api/nodes and /api/nodes/{node}: this node (and, on a cluster leader, the other members) with
 * RabbitMQ's fields; DELETE /api/nodes/{node} forgets a stopped cluster member (Warren's own, for
 * warrenctl forget_cluster_node).
 */
import { availableParallelism, hostname } from 'node:os';
import type { ManagedBroker } from '../managed-broker.js';
import { VERSION } from '../../version.js';
import { ForgetRefused } from '../../cluster-status.js';
import { Reply, badRequest, objectNotFound } from '../http.js';
import type { Router } from '../router.js';
import { EXCHANGE_TYPES, NODE_NAME, managementContexts, withDetails } from '../views.js';
import { fileDescriptors, memoryBreakdown, nodeFigures, processCounts } from '../node-figures.js';
import { NODE_KEY, type StatsCollector } from '../stats.js';
import { queryFlag } from '../validate.js';

const RABBIT_NODE_ALIAS = `rabbit@${hostname().split('.')[0]}`;

/** Tools written for RabbitMQ (the Nagios plugins) ask for rabbit@<host>: the node answers to both. */
export function isThisNode(name: string): boolean {
  return name === NODE_NAME || name === RABBIT_NODE_ALIAS;
}

export function nodeRoutes(r: Router): void {
  r.get('/api/nodes', 'monitoring', (ctx) => nodesJson(ctx.broker, ctx.stats, ctx.managementPort, ctx.query));
  // Warren's own (RabbitMQ has no HTTP for it): warrenctl forget_cluster_node.
  r.delete('/api/nodes/:node', 'administrator', async (ctx) => {
    const node = ctx.params['node']!;
    try {
      const cluster = ctx.broker.options.cluster;
      if (cluster) await cluster.forget(node);
      else throw new ForgetRefused(node === NODE_NAME ? 'running' : 'not_a_cluster_node', node);
    } catch (e) {
      if (e instanceof ForgetRefused) throw badRequest(e.message);
      throw e;
    }
    return new Reply(204);
  });
  r.get('/api/nodes/:node', 'monitoring', (ctx) => {
    const name = ctx.params['node']!;
    const nodes = nodesJson(ctx.broker, ctx.stats, ctx.managementPort, ctx.query);
    if (isThisNode(name)) return nodes.find((n) => n['name'] === NODE_NAME) ?? nodes[0];
    const other = nodes.find((n) => n['name'] === name);
    if (!other) throw objectNotFound();
    return other;
  });

}

/**
 * This node with RabbitMQ's fields; in a cluster (this node leads: followers forward the API to it)
 * every other member too, with what Warren knows of it. Every entry carries Warren's cluster
 * fields: role (leader, follower, down), in_sync, lag_bytes (null when unknown), replication_connected.
 */
function nodesJson(broker: ManagedBroker, stats: StatsCollector, managementPort: number, query?: URLSearchParams): Record<string, unknown>[] {
  const cluster = broker.options.cluster;
  const self = () => nodeJson(broker, stats, managementPort, query);
  if (!cluster) return [self()];
  return cluster.nodes().map((n) => {
    const own = n.name === NODE_NAME ? self() : { name: n.name, type: 'disc', running: n.running };
    return { ...own, running: n.running, role: n.role, in_sync: n.inSync, lag_bytes: n.lagBytes, replication_connected: n.connected };
  });
}

/**
 * RabbitMQ's node fields; the figures it samples carry `*_details` rates. With `?memory=true` the
 * memory breakdown, with `?binary=true` the buffer bytes split into queued messages and the rest.
 * Erlang-only ones (gc_num, reductions, mnesia and msg_store counts, net_ticktime) are left out.
 */
function nodeJson(broker: ManagedBroker, stats: StatsCollector, managementPort: number, query?: URLSearchParams): Record<string, unknown> {
  const diagnostics = broker.diagnostics();
  const memory = query && (queryFlag(query, 'memory') || queryFlag(query, 'binary')) ? memoryBreakdown(broker) : undefined;
  return {
    name: NODE_NAME,
    type: 'disc',
    running: true,
    os_pid: String(process.pid),
    uptime: Date.now() - broker.startedAt,
    processors: availableParallelism(),
    run_queue: 0,
    rates_mode: 'basic',
    partitions: [],
    ...withDetails(stats, NODE_KEY, nodeFigures(broker)),
    mem_limit: broker.options.memoryHighWatermark,
    mem_alarm: broker.alarms.memoryAlarm,
    mem_calculation_strategy: 'rss',
    disk_free_limit: broker.options.diskFreeLimit,
    disk_free_alarm: broker.alarms.diskAlarm,
    ...(fileDescriptors().fd_total === undefined ? {} : { fd_total: fileDescriptors().fd_total }),
    proc_total: processCounts(broker).proc_total,
    sockets_total: broker.options.maxConnections,
    db_dir: broker.options.dataDir,
    exchange_types: EXCHANGE_TYPES,
    auth_mechanisms: [
      { name: 'PLAIN', description: 'SASL PLAIN authentication mechanism', enabled: true },
      { name: 'AMQPLAIN', description: 'QPid AMQPLAIN mechanism', enabled: true },
    ],
    applications: [{ name: 'warren', description: 'Warren AMQP 0-9-1 broker', version: VERSION }],
    enabled_plugins: ['rabbitmq_management'],
    contexts: managementContexts(broker, managementPort),
    config_files: diagnostics.configFiles,
    log_files: diagnostics.logFiles,
    cluster_links: [],
    ...(memory && queryFlag(query!, 'memory') ? { memory } : {}),
    ...(memory && queryFlag(query!, 'binary') ? { binary: { queue_procs: memory['queue_procs'], other: memory['binary'] } } : {}),
  };
}
