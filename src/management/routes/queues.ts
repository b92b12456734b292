/**
 * Queues: /api/queues[/{vhost}[/{name}]] (list, show, declare, delete), their bindings, purge
 * (DELETE …/contents) and get (POST …/get). Writes go through the vhost's declare/delete rules and
 * the user's AMQP permissions, exactly as for a client on a channel.
 */
import { deliveredMessage, type Envelope } from '../../broker/message.js';
import type { Queue } from '../../broker/queue.js';
import { LazyList } from '../query.js';
import { fieldTableFromJson } from '../../protocol/field-table.js';
import { quorumDeleteFlagRefused } from '../../protocol/errors.js';
import { visibleVhosts } from '../access.js';
import { Reply, badRequest } from '../http.js';
import { payloadToJson, propertiesToJson } from '../message-json.js';
import type { Ctx, Router } from '../router.js';
import { addSamples, wantsSamples } from '../samples.js';
import { optionalBool, optionalObject, queryFlag, requireKeys } from '../validate.js';
import { NODE_NAME, bindingJson, defaultBinding, queueBasicJson, queueJson } from '../views.js';
import { amqp, checkPermission, listedVhostParam, queueParam, refusedPlainly, vhostParam } from './common.js';

const ACK_MODES = ['ack_requeue_true', 'ack_requeue_false', 'reject_requeue_true', 'reject_requeue_false'];

export function queueRoutes(r: Router): void {
  r.get('/api/queues', 'management', (ctx) => {
    const visible = visibleVhosts(ctx.broker, ctx.user);
    const out: Queue[] = [];
    for (const v of ctx.broker.vhosts.values()) {
      if (visible.has(v.name)) out.push(...v.queues.values());
    }
    return queueList(ctx, out);
  });
  r.get('/api/queues/:vhost', 'management', (ctx) => queueList(ctx, [...vhostParam(ctx).queues.values()]));
  r.get('/api/queues/:vhost/:name', 'management', (ctx) => {
    const q = queueParam(ctx, vhostParam(ctx));
    const json = queueJson(ctx.broker, ctx.stats, q, true);
    if (!wantsSamples(ctx.query)) return json;
    return addSamples(json, ctx.stats.queueHistory(q.vhost, q.name), ctx.query, json);
  });
  r.put('/api/queues/:vhost/:name', 'management', putQueue);
  r.delete('/api/queues/:vhost/:name', 'management', (ctx) => {
    const vhost = vhostParam(ctx);
    const q = queueParam(ctx, vhost);
    checkPermission(ctx, vhost.name, 'configure', 'queue', q.name);
    const what = `queue '${q.name}' in vhost '${vhost.name}'`;
    const ifUnused = queryFlag(ctx.query, 'if-unused');
    const ifEmpty = queryFlag(ctx.query, 'if-empty');
    if (q.type === 'quorum' && (ifUnused || ifEmpty)) throw badRequest(quorumDeleteFlagRefused(ifUnused ? 'if-unused' : 'if-empty', what).detail);
    if (ifUnused && q.consumerCount > 0) throw badRequest(`${what} in use`);
    if (ifEmpty && q.messageCount > 0) throw badRequest(`${what} not empty`);
    // The API may delete any queue, exclusive ones included (RabbitMQ's UI does).
    vhost.removeQueue(q);
    return new Reply(204);
  });
  r.delete('/api/queues/:vhost/:name/contents', 'management', (ctx) => {
    const vhost = vhostParam(ctx);
    const q = queueParam(ctx, vhost);
    checkPermission(ctx, vhost.name, 'read', 'queue', q.name);
    amqp(() => vhost.getQueueFor(q.name, 0)).purge();
    return new Reply(204);
  });
  r.post('/api/queues/:vhost/:name/get', 'management', getMessages);
  // RabbitMQ lists the default exchange's binding even for a queue that does not exist, and
  // nothing for a missing vhost.
  r.get('/api/queues/:vhost/:name/bindings', 'management', (ctx) => {
    const vhost = listedVhostParam(ctx);
    if (!vhost) return [];
    const name = ctx.params['name']!;
    return [
      defaultBinding(vhost.name, name),
      ...vhost.allBindings().filter((b) => b.destination.kind === 'queue' && b.destination.name === name).map((b) => bindingJson(vhost.name, b)),
    ];
  });
}

function runningNodes(ctx: Ctx): string[] {
  const cluster = ctx.broker.options.cluster;
  return cluster ? cluster.nodes().filter((n) => n.running).map((n) => n.name) : [NODE_NAME];
}

/** PUT /api/queues/{vhost}/{name}: 201 when created, 204 when an equivalent one exists. */
async function putQueue(ctx: Ctx): Promise<Reply> {
  const vhost = vhostParam(ctx);
  const name = ctx.params['name']!;
  if (name === '') throw badRequest('queue name must not be empty');
  const body = await ctx.body();
  const durable = optionalBool(body, 'durable', false);
  const autoDelete = optionalBool(body, 'auto_delete', false);
  const args = fieldTableFromJson(optionalObject(body, 'arguments'));
  // RabbitMQ places the queue on the node asked for, which must be running; here every running node serves it.
  const node = body['node'];
  if (typeof node === 'string' && !runningNodes(ctx).includes(node)) throw badRequest(`Node ${node} could not be contacted`);
  checkPermission(ctx, vhost.name, 'configure', 'queue', name);
  const dlx = args['x-dead-letter-exchange'];
  if (typeof dlx === 'string') {
    checkPermission(ctx, vhost.name, 'write', 'exchange', dlx);
    checkPermission(ctx, vhost.name, 'read', 'queue', name);
  }
  const existed = vhost.queues.has(name);
  refusedPlainly(() => vhost.declareQueue({ name, passive: false, durable, exclusive: false, autoDelete, arguments: args }, 0));
  // Counted as RabbitMQ counts declarations from any source (churn_rates, queues_declared_total).
  ctx.broker.counters.queuesDeclared++;
  if (!existed) ctx.broker.counters.queuesCreated++;
  return new Reply(existed ? 204 : 201);
}

/**
 * POST /api/queues/{vhost}/{name}/get: take up to `count` messages, then ack, reject or requeue
 * them all according to `ackmode` (requeueing at the end, so the same message is not got twice).
 */
async function getMessages(ctx: Ctx): Promise<unknown> {
  const vhost = vhostParam(ctx);
  const q = queueParam(ctx, vhost);
  const body = await ctx.body();
  requireKeys(body, ['ackmode', 'count', 'encoding']);
  // rabbitmqadmin sends numbers as strings ("count": "1").
  const count = integer(body['count']);
  const ackmode = body['ackmode'];
  const encoding = body['encoding'];
  const truncate = body['truncate'] === undefined || body['truncate'] === null ? undefined : integer(body['truncate']);
  if (count === undefined || count < 0) throw badRequest('count must be a non-negative integer');
  if (typeof ackmode !== 'string' || !ACK_MODES.includes(ackmode)) throw badRequest(`ackmode must be one of ${ACK_MODES.join(', ')}`);
  if (encoding !== 'auto' && encoding !== 'base64') throw badRequest(`encoding must be 'auto' or 'base64'`);
  if (truncate !== undefined && truncate < 0) throw badRequest('truncate must be a non-negative integer');
  checkPermission(ctx, vhost.name, 'read', 'queue', q.name, 'amqp');
  amqp(() => vhost.getQueueFor(q.name, 0));
  const taken: Envelope[] = [];
  const out = [];
  for (let i = 0; i < count; i++) {
    const envelope = q.get(false);
    if (!envelope) break;
    taken.push(envelope);
    // As a basic.get on a channel receives it (a quorum queue's x-delivery-count header).
    const m = deliveredMessage(envelope, true);
    out.push({
      payload_bytes: m.body.length,
      redelivered: envelope.redelivered,
      exchange: m.exchange,
      routing_key: m.routingKey,
      message_count: q.messageCount,
      properties: propertiesToJson(m.properties),
      ...payloadToJson(m.body, encoding, truncate),
    });
  }
  for (const envelope of taken) {
    if (ackmode === 'ack_requeue_false') q.ack(envelope);
    else if (ackmode === 'reject_requeue_false') q.discard(envelope);
    else q.requeue(envelope);
  }
  q.dispatch();
  return out;
}

/** Queues render lazily: a page of 10,000 filtered and sorted by name builds 100 JSON objects. */
function queueList(ctx: Ctx, queues: Queue[]): LazyList<Queue> {
  const basic = queryFlag(ctx.query, 'disable_stats');
  const totals = queryFlag(ctx.query, 'enable_queue_totals');
  return new LazyList(queues, (q) => (basic ? queueBasicJson(q, totals) : queueJson(ctx.broker, ctx.stats, q)), {
    name: (q) => q.name,
    vhost: (q) => q.vhost,
    messages: (q) => q.messageCount + q.unacked,
    messages_ready: (q) => q.messageCount,
    messages_unacknowledged: (q) => q.unacked,
    consumers: (q) => q.consumerCount,
  });
}

function integer(v: unknown): number | undefined {
  const n = typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v;
  return typeof n === 'number' && Number.isSafeInteger(n) ? n : undefined;
}
