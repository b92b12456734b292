/**
 * /api/nodes and /api/nodes/{node}: this node (and, on a cluster leader, the other members) with
 * RabbitMQ's fields; DELETE /api/nodes/{node} forgets a stopped cluster member (Warren's own, for
 * warrenctl forget_cluster_node).
 */
import { readdirSync, readFileSync, statfsSync } from 'node:fs';
import { availableParallelism, hostname } from 'node:os';
import type { ManagedBroker } from '../managed-broker.js';
import { VERSION } from '../../version.js';
import { ForgetRefused } from '../../cluster-status.js';
import { Reply, badRequest, objectNotFound } from '../http.js';
import type { Router } from '../router.js';
import { EXCHANGE_TYPES, NODE_NAME } from '../views.js';

const RABBIT_NODE_ALIAS = `rabbit@${hostname().split('.')[0]}`;

/** Tools written for RabbitMQ (the Nagios plugins) ask for rabbit@<host>: the node answers to both. */
export function isThisNode(name: string): boolean {
  return name === NODE_NAME || name === RABBIT_NODE_ALIAS;
}

export function nodeRoutes(r: Router): void {
  r.get('/api/nodes', 'monitoring', (ctx) => nodesJson(ctx.broker));
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
    if (isThisNode(name)) return nodesJson(ctx.broker)[0];
    const other = nodesJson(ctx.broker).find((n) => n['name'] === name);
    if (!other) throw objectNotFound();
    return other;
  });

}

/**
 * This node with RabbitMQ's fields; in a cluster (this node leads: followers forward the API to it)
 * every other member too, with what Warren knows of it. Every entry carries Warren's cluster
 * fields: role (leader, follower, down), in_sync, lag_bytes (null when unknown), replication_connected.
 */
function nodesJson(broker: ManagedBroker): Record<string, unknown>[] {
  const cluster = broker.options.cluster;
  if (!cluster) return [nodeJson(broker)];
  return cluster.nodes().map((n) => {
    const own = n.name === NODE_NAME ? nodeJson(broker) : { name: n.name, type: 'disc', running: n.running };
    return { ...own, running: n.running, role: n.role, in_sync: n.inSync, lag_bytes: n.lagBytes, replication_connected: n.connected };
  });
}

function nodeJson(broker: ManagedBroker): Record<string, unknown> {
  const mem = process.memoryUsage.rss();
  let diskFree = 0;
  try {
    const s = statfsSync(broker.options.dataDir);
    diskFree = s.bavail * s.bsize;
  } catch {
    // No data dir: report 0 rather than fail the whole answer.
  }
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
    mem_used: mem,
    mem_limit: broker.options.memoryHighWatermark,
    mem_alarm: broker.alarms.memoryAlarm,
    mem_calculation_strategy: 'rss',
    disk_free: diskFree,
    disk_free_limit: broker.options.diskFreeLimit,
    disk_free_alarm: broker.alarms.diskAlarm,
    ...fileDescriptors(),
    ...processCounts(broker),
    // The AMQP listener's socket counts too, as in RabbitMQ.
    sockets_used: broker.connections.size + 1,
    sockets_total: broker.options.maxConnections,
    db_dir: broker.options.dataDir,
    exchange_types: EXCHANGE_TYPES,
    auth_mechanisms: [
      { name: 'PLAIN', description: 'SASL PLAIN authentication mechanism', enabled: true },
      { name: 'AMQPLAIN', description: 'QPid AMQPLAIN mechanism', enabled: true },
    ],
    applications: [{ name: 'warren', description: 'Warren AMQP 0-9-1 broker', version: VERSION }],
    enabled_plugins: ['rabbitmq_management'],
    config_files: [],
    log_files: [],
  };
}

/**
 * RabbitMQ runs a process per connection, channel and queue and reports their number against the
 * Erlang limit; Warren reports the count of those objects against RabbitMQ's default limit, so
 * monitoring that watches the ratio keeps a meaning.
 */
function processCounts(broker: ManagedBroker): { proc_used: number; proc_total: number } {
  let used = 1 + broker.connections.size;
  for (const c of broker.connections) used += c.channels.size;
  for (const v of broker.vhosts.values()) used += v.queues.size;
  return { proc_used: used, proc_total: 1_048_576 };
}

/** Open and allowed file descriptors from /proc (Linux); omitted elsewhere. */
function fileDescriptors(): { fd_used?: number; fd_total?: number } {
  try {
    const used = readdirSync('/proc/self/fd').length;
    const limits = readFileSync('/proc/self/limits', 'utf8');
    const m = /^Max open files\s+(\d+)/m.exec(limits);
    return m ? { fd_used: used, fd_total: Number(m[1]) } : { fd_used: used };
  } catch {
    return {};
  }
}

