/**
 * Broker-wide endpoints: /api/overview, /api/whoami, /api/nodes (DELETE /api/nodes/{node}: forget a
 * stopped cluster member), /api/cluster-name,
 * /api/extensions, health checks and /api/aliveness-test/{vhost}, plus the policy and parameter
 * lists (Warren has neither, so they are empty and writes are refused with a clear reason).
 */
import { readdirSync, readFileSync, statfsSync } from 'node:fs';
import { availableParallelism, hostname } from 'node:os';
import type { ManagedBroker } from '../managed-broker.js';
import { Message } from '../../broker/message.js';
import { AmqpError } from '../../protocol/errors.js';
import { writePropertyFields } from '../../protocol/properties.js';
import { VERSION } from '../../version.js';
import type { User } from '../../auth/users.js';
import { isMonitor, listableVhosts, requireVhost, visibleVhosts } from '../access.js';
import { ForgetRefused } from '../../cluster-status.js';
import { HttpError, Reply, badRequest, notAuthorised, objectNotFound } from '../http.js';
import type { Router } from '../router.js';
import { addSamples } from '../samples.js';
import { EXCHANGE_TYPES, NODE_NAME, overviewJson } from '../views.js';

const RABBIT_NODE_ALIAS = `rabbit@${hostname().split('.')[0]}`;

export function overviewRoutes(r: Router): void {
  r.get('/api/overview', 'management', (ctx) => {
    const json = overviewJson(ctx.broker, ctx.stats, isMonitor(ctx.user) ? listableVhosts(ctx.broker, ctx.user) : visibleVhosts(ctx.broker, ctx.user), ctx.managementPort);
    return addSamples(json, ctx.stats.overviewHistory, ctx.query, json['queue_totals'] as Record<string, unknown>);
  });
  r.get('/api/whoami', 'management', (ctx) => ({ name: ctx.user.name, tags: [...ctx.user.tags] }));
  r.get('/api/cluster-name', 'management', (ctx) => ({ name: ctx.broker.options.clusterName ?? NODE_NAME }));
  r.get('/api/extensions', 'management', () => []);
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
    const name = ctx.params['node'];
    // Tools written for RabbitMQ (the Nagios plugins) ask for rabbit@<host>: the node answers to both.
    if (name === NODE_NAME || name === RABBIT_NODE_ALIAS) return nodesJson(ctx.broker)[0];
    const other = nodesJson(ctx.broker).find((n) => n['name'] === name);
    if (!other) throw objectNotFound();
    return other;
  });

  r.get('/api/health/checks/alarms', 'management', (ctx) => alarmsCheck(ctx.broker));
  r.get('/api/health/checks/local-alarms', 'management', (ctx) => alarmsCheck(ctx.broker));
  r.get('/api/health/checks/virtual-hosts', 'management', () => ({ status: 'ok' }));
  r.get('/api/health/checks/node-is-quorum-critical', 'management', () => ({ status: 'ok' }));
  r.get('/api/health/checks/node-is-mirror-sync-critical', 'management', () => ({ status: 'ok' }));
  r.get('/api/health/checks/port-listener/:port', 'management', (ctx) => {
    const port = Number(ctx.params['port']);
    const ports = [ctx.broker.port, ctx.managementPort].filter((p) => p > 0);
    if (!Number.isInteger(port)) throw badRequest(`invalid port '${ctx.params['port']}'`);
    if (ports.includes(port)) return { status: 'ok', port };
    throw failed({ reason: 'No active listener', missing: port, ports });
  });
  r.get('/api/health/checks/protocol-listener/:protocol', 'management', (ctx) => {
    const protocol = ctx.params['protocol']!.toLowerCase();
    const protocols = ['amqp', 'amqp091', 'amqp0-9-1', 'http'];
    if (protocols.includes(protocol)) return { status: 'ok', protocol: ctx.params['protocol'] };
    throw failed({ reason: 'No active listener', missing: ctx.params['protocol'], protocols: ['amqp', 'http'] });
  });
  r.get('/api/aliveness-test/:vhost', 'management', (ctx) => aliveness(ctx.broker, ctx.user, ctx.params['vhost']!));

  // Runtime parameters of plugins Warren does not have (shovel, federation): they list empty, and setting one says so.
  for (const path of ['/api/parameters', '/api/parameters/:component', '/api/parameters/:component/:vhost', '/api/global-parameters']) {
    r.get(path, 'management', () => []);
  }
  for (const path of ['/api/parameters/:component/:vhost/:name', '/api/global-parameters/:name']) {
    r.get(path, 'management', () => { throw objectNotFound(); });
    r.put(path, 'administrator', () => { throw badRequest('runtime parameters are not supported by Warren'); });
    r.delete(path, 'administrator', () => { throw objectNotFound(); });
  }
}

/** A failed health check: 503 with `status: failed`, as RabbitMQ's checks answer. */
function failed(fields: Record<string, unknown>): HttpError {
  return new HttpError(503, 'failed', fields['reason'], {}, { status: 'failed', ...fields });
}

function alarmsCheck(broker: ManagedBroker): unknown {
  const alarms: { node: string; resource: string }[] = [];
  if (broker.alarms.memoryAlarm) alarms.push({ node: NODE_NAME, resource: 'memory' });
  if (broker.alarms.diskAlarm) alarms.push({ node: NODE_NAME, resource: 'disk' });
  if (alarms.length === 0) return { status: 'ok' };
  throw failed({ reason: 'There are alarms in effect in the cluster', alarms });
}

/**
 * RabbitMQ's aliveness test: declare the `aliveness-test` queue, publish a message to it through
 * the default exchange and get it back, with the user's permissions as an AMQP client would.
 */
function aliveness(broker: ManagedBroker, user: User, vhostName: string): unknown {
  const vhost = broker.vhosts.get(vhostName);
  if (!vhost) throw objectNotFound();
  requireVhost(broker, user, vhostName);
  const queueName = 'aliveness-test';
  try {
    broker.users.check(user.name, vhostName, 'configure', 'queue', queueName);
    broker.users.check(user.name, vhostName, 'write', 'exchange', '');
    broker.users.check(user.name, vhostName, 'read', 'queue', queueName);
  } catch (e) {
    if (e instanceof AmqpError) throw notAuthorised('Access refused.');
    throw e;
  }
  try {
    const queue = vhost.declareQueue({ name: queueName, passive: false, durable: false, exclusive: false, autoDelete: false, arguments: {} }, 0);
    const body = Buffer.from('test_message');
    const message = new Message('', queueName, writePropertyFields({}), body, false);
    queue.publish(message);
    const envelope = queue.get(true);
    if (!envelope || !envelope.message.body.equals(body)) throw failed({ reason: 'the test message did not come back' });
    return { status: 'ok' };
  } catch (e) {
    if (e instanceof AmqpError) throw failed({ reason: e.message });
    throw e;
  }
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

