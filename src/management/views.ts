/**
 * The JSON shapes of RabbitMQ 3.10's management API, built from Warren's objects. Field names are
 * RabbitMQ's so that tools written against it (rabbitmqadmin, Nagios checks, dashboards) read them;
 * Erlang-only fields (reductions, garbage_collection, …) are left out.
 */
import { tlsConnectionInfo } from '../tls/peer-certificate.js';
import { activityStatus } from '../broker/consumer-order.js';
import { DelayedMessageExchange } from '../broker/exchange/index.js';
import { createHash } from 'node:crypto';
import type { Socket } from 'node:net';
import type { Permission, TopicPermission, User } from '../auth/users.js';
import type { ManagedBroker } from './managed-broker.js';
import { Consumer } from '../broker/consumer.js';
import type { Binding, Exchange } from '../broker/exchange/index.js';
import type { Queue } from '../broker/queue.js';
import { StreamQueue } from '../broker/stream-queue.js';
import type { StreamConnection } from '../stream/stream-connection.js';
import type { Subscription } from '../stream/subscription.js';
import type { VirtualHost } from '../broker/vhost.js';
import type { Channel } from '../connection/channel.js';
import type { Connection } from '../connection/connection.js';
import { fieldTableToJson, type FieldTable } from '../protocol/field-table.js';
import { limitsJson } from '../broker/limits.js';
import { churn } from './node-figures.js';
import { RABBITMQ_VERSION, VERSION } from '../version.js';
import { getVhostMetadata } from './vhost-metadata.js';
import { NODE_KEY, OVERVIEW_KEY, channelKey, channelRedeliveries, channelTotals, connectionKey, deliveryKinds, exchangeKey, queueKey, vhostKey, type ExchangeTotals, type StatsCollector, type Totals } from './stats.js';

import { NODE_NAME } from '../node-name.js';
import { queueMemoryBytes } from '../metrics/queue-memory.js';

export { NODE_NAME };

type Json = Record<string, unknown>;

export const EXCHANGE_TYPES = [
  { name: 'direct', description: 'AMQP direct exchange, as per the AMQP specification', enabled: true },
  { name: 'fanout', description: 'AMQP fanout exchange, as per the AMQP specification', enabled: true },
  { name: 'headers', description: 'AMQP headers exchange, as per the AMQP specification', enabled: true },
  { name: 'topic', description: 'AMQP topic exchange, as per the AMQP specification', enabled: true },
  // Plugin types in RabbitMQ (rabbitmq_consistent_hash_exchange, rabbitmq_delayed_message_exchange), built in here.
  { name: 'x-consistent-hash', description: 'Consistent Hashing Exchange', enabled: true },
  { name: 'x-delayed-message', description: 'Delayed Message Exchange.', enabled: true },
];

const args = (t: FieldTable): Json => fieldTableToJson(t);

/** `x` and `x_details: {rate}` for each counter under one stats key prefix. */
export function withDetails(stats: StatsCollector, prefix: string, values: Record<string, number>): Json {
  const out: Json = {};
  for (const [k, v] of Object.entries(values)) {
    out[k] = v;
    out[`${k}_details`] = stats.details(`${prefix}${k}`);
  }
  return out;
}

/** RabbitMQ's message_stats of a vhost or the overview (recv_oct/send_oct are top-level fields). */
function totalsStats(stats: StatsCollector, prefix: string, t: Totals): Json {
  return withDetails(stats, prefix, {
    publish: t.publish, confirm: t.confirm, return_unroutable: t.return_unroutable, drop_unroutable: t.drop_unroutable,
    deliver_get: t.deliver_get, deliver: t.deliver, deliver_no_ack: t.deliver_no_ack,
    get: t.get, get_no_ack: t.get_no_ack, get_empty: t.get_empty, ack: t.ack, redeliver: t.redeliver,
  });
}

/** `limits`: the user's max-connections / max-channels (UserStore.limits), {} when none are set. */
export function userJson(u: User, limits: Map<string, number> | undefined): Json {
  return { name: u.name, password_hash: u.passwordHash, hashing_algorithm: u.hashingAlgorithm, tags: [...u.tags], limits: limits ? limitsJson(limits) : {} };
}

export function permissionJson(vhost: string, user: string, p: Permission): Json {
  return { user, vhost, configure: p.configure, write: p.write, read: p.read };
}

export function topicPermissionJson(vhost: string, user: string, p: TopicPermission): Json {
  return { user, vhost, exchange: p.exchange, write: p.write, read: p.read };
}

export function vhostJson(stats: StatsCollector, v: VirtualHost): Json {
  const meta = getVhostMetadata(v);
  let ready = 0;
  let unacked = 0;
  for (const q of v.queues.values()) {
    ready += q.messageCount;
    unacked += q.unacked;
  }
  const t = stats.vhostTotals(v.name);
  const k = vhostKey(v.name);
  return {
    name: v.name,
    description: meta.description,
    tags: [...meta.tags],
    default_queue_type: 'undefined',
    metadata: { description: meta.description, tags: [...meta.tags] },
    tracing: v.firehose !== undefined,
    cluster_state: { [NODE_NAME]: 'running' },
    ...withDetails(stats, k, { messages: ready + unacked, messages_ready: ready, messages_unacknowledged: unacked }),
    message_stats: totalsStats(stats, k, t),
    ...withDetails(stats, k, { recv_oct: t.recv_oct, send_oct: t.send_oct }),
  };
}

export function queueJson(broker: ManagedBroker, stats: StatsCollector, q: Queue, withConsumers = false): Json {
  const k = queueKey(q.vhost, q.name);
  const readyBytes = q.messages.bytes;
  const pagedOut = q.messages.pagedOut;
  const out: Json = {
    name: q.name,
    vhost: q.vhost,
    durable: q.durable,
    auto_delete: q.autoDelete,
    exclusive: q.exclusive,
    arguments: args(q.options.arguments),
    node: NODE_NAME,
    type: q.type,
    state: 'running',
    policy: q.appliedPolicy.policy?.name ?? null,
    operator_policy: q.appliedPolicy.operatorPolicy?.name ?? null,
    effective_policy_definition: q.appliedPolicy.definition,
    consumers: q.consumerCount,
    consumer_capacity: q.consumerCount > 0 ? 1 : 0,
    consumer_utilisation: q.consumerCount > 0 ? 1 : 0,
    exclusive_consumer_tag: q.allConsumers().find((c) => c.exclusive)?.tag ?? null,
    single_active_consumer_tag: q.activeConsumer?.tag ?? null,
    // RabbitMQ 3.10 has it for classic queues only (the head's timestamp property, seconds, or null).
    ...(q.type === 'classic' ? { head_message_timestamp: q.headMessageTimestamp ?? null } : {}),
    recoverable_slaves: null,
    ...withDetails(stats, k, {
      messages: q.messageCount + q.unacked,
      messages_ready: q.messageCount,
      messages_unacknowledged: q.unacked,
    }),
    // A paged queue's middle is only on disk; unacked messages are held in memory by their channels.
    messages_ram: q.messageCount - pagedOut + q.unacked,
    messages_ready_ram: q.messageCount - pagedOut,
    messages_unacknowledged_ram: q.unacked,
    messages_paged_out: pagedOut,
    message_bytes: readyBytes + q.unackedBytes,
    message_bytes_ready: readyBytes,
    message_bytes_unacknowledged: q.unackedBytes,
    message_bytes_ram: readyBytes - q.messages.pagedOutBytes + q.unackedBytes,
    message_bytes_paged_out: q.messages.pagedOutBytes,
    // What a restart keeps: persistent messages of a durable queue, every message of a quorum queue.
    ...(q.type === 'stream' ? {} : { messages_persistent: q.persistentCount, message_bytes_persistent: q.persistentBytes }),
    // Warren has no per-queue heap to report: an estimate of what the queue holds in memory.
    memory: queueMemoryBytes(q),
    ...queueMessageStats(stats, k, q),
    ...typeFields(stats, q, k),
    ...queueAges(q),
  };
  if (q instanceof StreamQueue) {
    // RabbitMQ 3.10's stream fields (members, online, readers), plus Warren's view of the log.
    const log = q.stream.log;
    Object.assign(out, {
      members: [NODE_NAME], online: [NODE_NAME], readers: { [NODE_NAME]: q.stream.consumers },
      segments: log.segmentCount, first_offset: log.firstOffset, last_offset: log.lastOffset, stream_bytes: log.bytes,
      // AMQP consumers and stream-protocol subscriptions, as RabbitMQ counts them
      consumers: q.stream.consumers,
    });
  }
  if (q.exclusive) {
    const owner = [...broker.connections].find((c) => c.id === q.options.exclusiveOwner);
    if (owner) out['owner_pid_details'] = { name: owner.name, peer_host: peerHost(owner), peer_port: owner.socket.remotePort ?? 0 };
  }
  if (withConsumers) {
    out['consumer_details'] = q.allConsumers()
      .filter((c): c is Consumer => c instanceof Consumer)
      .map((c) => consumerJson(c)).filter((c): c is Json => c !== undefined);
    if (q instanceof StreamQueue) (out['consumer_details'] as Json[]).push(...streamSubscriptionsJson(broker, q));
    out['deliveries'] = [];
    out['incoming'] = [];
  }
  return out;
}

/**
 * A queue as RabbitMQ 3.10 lists it with `disable_stats=true` (what its UI asks for, so that long
 * lists stay cheap): identity, settings and state, the policy only when one applies, counts only
 * with `enable_queue_totals=true`. Quorum queues show their members instead of a node, streams
 * `totals` and `type_specific` as null; `exclusive` is null for both.
 */
export function queueBasicJson(q: Queue, withTotals: boolean): Json {
  const classic = q.type === 'classic';
  return {
    name: q.name, vhost: q.vhost, durable: q.durable, auto_delete: q.autoDelete,
    exclusive: classic ? q.exclusive : null,
    arguments: args(q.options.arguments),
    ...(q.type === 'quorum' ? { leader: NODE_NAME, members: [NODE_NAME], online: [NODE_NAME] } : classic ? { node: NODE_NAME } : {}),
    state: 'running',
    type: q.type,
    ...(q.appliedPolicy.policy ? { policy: q.appliedPolicy.policy.name } : {}),
    ...(!withTotals ? {} : q instanceof StreamQueue
      ? { totals: null, type_specific: null }
      : { messages: q.messageCount + q.unacked, messages_ready: q.messageCount, messages_unacknowledged: q.unacked }),
  };
}

/**
 * A queue's message_stats as RabbitMQ keeps them: its publish count and its delivery counts are two
 * records, each shown once it has moved (a queue only published to has `publish` alone), and a queue
 * where nothing happened yet has no message_stats at all.
 */
function queueMessageStats(stats: StatsCollector, k: string, q: Queue): Json {
  const s = q.stats;
  const delivering = s.delivered > 0 || s.getEmpty > 0;
  if (s.published === 0 && !delivering) return {};
  return {
    message_stats: withDetails(stats, k, {
      ...(s.published > 0 ? { publish: s.published } : {}),
      ...(delivering ? { deliver_get: s.delivered, ...deliveryKinds(q), ack: s.acked, redeliver: s.redelivered } : {}),
    }),
  };
}

/**
 * What RabbitMQ 3.10 shows only for one queue type. Classic: idle_since and the backing queue's
 * status (its mode, length and rates; Warren's paged-out middle as the on-disk `delta`). Quorum:
 * the Raft view of a single-member queue (leader, members, online, open files) and the
 * at-least-once dead-letter counters, which stay 0 (Warren dead-letters at most once).
 */
function typeFields(stats: StatsCollector, q: Queue, k: string): Json {
  if (q.type === 'quorum') {
    return {
      leader: NODE_NAME, members: [NODE_NAME], online: [NODE_NAME], open_files: { [NODE_NAME]: 0 },
      messages_dlx: 0, message_bytes_dlx: 0, single_active_consumer_ctag: q.activeConsumer?.tag ?? null,
    };
  }
  if (q.type !== 'classic') return {};
  const mode = q.appliedPolicy.definition['queue-mode'] ?? q.options.arguments['x-queue-mode'] ?? 'default';
  const pagedOut = q.messages.pagedOut;
  return {
    ...idleSince(stats, k),
    backing_queue_status: {
      avg_ack_egress_rate: stats.rate(`${k}ack`),
      avg_ack_ingress_rate: stats.rate(`${k}deliver_get`),
      avg_egress_rate: stats.rate(`${k}deliver_get`),
      avg_ingress_rate: stats.rate(`${k}publish`),
      delta: pagedOut > 0 ? ['delta', 0, pagedOut, 0, pagedOut] : ['delta', 'undefined', 0, 0, 'undefined'],
      len: q.messageCount,
      mode: mode === 'lazy' ? 'lazy' : 'default',
      next_deliver_seq_id: q.stats.delivered,
      next_seq_id: q.stats.published,
      q1: 0, q2: 0, q3: q.messageCount - pagedOut, q4: 0,
      target_ram_count: 'infinity',
      version: 1,
    },
  };
}

/** A stream's stream-protocol subscriptions as RabbitMQ lists them among the queue's consumers. */
function streamSubscriptionsJson(broker: ManagedBroker, q: StreamQueue): Json[] {
  const out: Json[] = [];
  for (const c of broker.streamConnections) {
    for (const s of c.subscriptions.values()) if (s.stream === q.stream) out.push(streamSubscriptionJson(c, s));
  }
  return out;
}

/** A stream-protocol subscription as RabbitMQ shows it among consumers (/api/consumers, consumer_details). */
export function streamSubscriptionJson(c: StreamConnection, s: Subscription): Json {
  return {
    arguments: {},
    channel_details: { connection_name: c.name, name: '', node: NODE_NAME, number: 0, peer_host: stripV4Mapped(c.socket.remoteAddress ?? ''), peer_port: c.socket.remotePort ?? 0, user: c.user },
    ack_required: false,
    active: s.active,
    // A single-active-consumer group's members, as RabbitMQ shows them: the active one and the waiting.
    activity_status: s.properties['single-active-consumer'] === 'true' ? (s.active ? 'single_active' : 'waiting') : 'up',
    consumer_tag: `stream.subid-${s.id}`, exclusive: false, prefetch_count: 0,
    queue: { name: s.stream.name, vhost: s.stream.vhost },
  };
}

/**
 * Warren's own fields: how long the oldest ready message has waited since it was published, how long
 * the oldest delivery awaiting its ack has been out (null when there is none, and for streams), and
 * how often deliveries came back (requeued) and went out again (redelivered).
 */
function queueAges(q: Queue): Json {
  const now = Date.now();
  const stream = q instanceof StreamQueue;
  return {
    oldest_ready_message_age_ms: stream ? null : q.oldestReadyAge(now) ?? null,
    oldest_unacked_delivery_age_ms: stream ? null : q.oldestUnackedAge(now) ?? null,
    redelivered_total: q.stats.redelivered,
    requeued_total: q.stats.requeued,
  };
}

/**
 * `totals` is StatsCollector.exchangeTotals of the exchange's vhost (computed once per listing);
 * an exchange nobody has published to has no message_stats, as in RabbitMQ.
 */
export function exchangeJson(stats: StatsCollector, totals: Map<string, ExchangeTotals>, ex: Exchange): Json {
  const t = totals.get(ex.name);
  return {
    name: ex.name,
    vhost: ex.vhost,
    type: ex.type,
    durable: ex.durable,
    auto_delete: ex.autoDelete,
    internal: ex.internal,
    arguments: args(ex.options.arguments),
    // RabbitMQ adds the key only while a policy applies.
    ...(ex.appliedPolicy.policy ? { policy: ex.appliedPolicy.policy.name } : {}),
    // The delayed-message plugin's count of messages waiting for their x-delay.
    ...(ex instanceof DelayedMessageExchange ? { messages_delayed: ex.delayedCount } : {}),
    user_who_performed_action: ex.name === '' || ex.name.startsWith('amq.') ? 'rmq-internal' : '',
    ...(t ? { message_stats: withDetails(stats, exchangeKey(ex.vhost, ex.name), { publish_in: t.publish_in, publish_out: t.publish_out }) } : {}),
  };
}

/** RabbitMQ's implicit bindings of the default exchange to every queue. */
export function defaultBinding(vhost: string, queue: string): Json {
  return {
    source: '', vhost, destination: queue, destination_type: 'queue', routing_key: queue, arguments: {},
    properties_key: quoteKey(queue),
  };
}

export function bindingJson(vhost: string, b: Binding): Json {
  return {
    source: b.source,
    vhost,
    destination: b.destination.name,
    destination_type: b.destination.kind,
    routing_key: b.routingKey,
    arguments: args(b.arguments),
    properties_key: propertiesKey(b.routingKey, b.arguments),
  };
}

/**
 * A binding's id in URLs: the routing key, URL-quoted, plus `~hash` of the arguments when there are
 * any; `~` alone for an empty key without arguments (as RabbitMQ).
 */
export function propertiesKey(routingKey: string, a: FieldTable): string {
  const json = JSON.stringify(args(a));
  if (json === '{}') return routingKey === '' ? '~' : quoteKey(routingKey);
  const hash = createHash('sha1').update(json).digest('base64url').slice(0, 6);
  return `${quoteKey(routingKey)}~${hash}`;
}

/** RabbitMQ's quote_plus with `~` quoted too: letters, digits and `-._` kept, a space as `+`, the rest %XX. */
function quoteKey(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*~]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`).replace(/%20/g, '+');
}

export function peerHost(c: { readonly socket: Socket }): string {
  return stripV4Mapped(c.socket.remoteAddress ?? '');
}

/** Both ends of a client socket and its TLS details, as RabbitMQ names them for AMQP and stream connections. */
export function socketJson(socket: Socket): Json {
  return {
    host: stripV4Mapped(socket.localAddress ?? ''),
    port: socket.localPort ?? 0,
    peer_host: stripV4Mapped(socket.remoteAddress ?? ''),
    peer_port: socket.remotePort ?? 0,
    ...tlsConnectionInfo(socket),
  };
}

export function stripV4Mapped(addr: string): string {
  return addr.startsWith('::ffff:') ? addr.slice(7) : addr;
}

export function connectionJson(stats: StatsCollector, c: Connection): Json {
  const k = connectionKey(c);
  return {
    name: c.name,
    node: NODE_NAME,
    type: 'network',
    state: c.isOpen ? 'running' : 'closing',
    user: c.username,
    user_who_performed_action: c.username,
    vhost: c.vhost?.name ?? '',
    protocol: 'AMQP 0-9-1',
    auth_mechanism: c.authMechanism,
    ...socketJson(c.socket),
    channels: c.channels.size,
    channel_max: c.channelMax,
    frame_max: c.frameMax,
    timeout: c.heartbeat,
    client_properties: args(c.clientProperties),
    // The name the client gave its connection (connection_name), only when it gave one.
    ...(typeof c.clientProperties['connection_name'] === 'string' ? { user_provided_name: c.clientProperties['connection_name'] } : {}),
    connected_at: c.connectedAt,
    ...withDetails(stats, k, { recv_oct: c.stats.recvOct, send_oct: c.stats.sendOct }),
    recv_cnt: c.stats.recvCnt,
    send_cnt: c.stats.sendCnt,
    send_pend: c.socket.writableLength,
  };
}

export function channelName(ch: Channel): string {
  return `${ch.connection.name} (${ch.id})`;
}

export function channelJson(stats: StatsCollector, ch: Channel): Json {
  const c = ch.connection;
  const k = channelKey(c, ch.id);
  return {
    name: channelName(ch),
    number: ch.id,
    node: NODE_NAME,
    state: 'running',
    user: c.username,
    user_who_performed_action: c.username,
    vhost: c.vhost?.name ?? '',
    connection_details: { name: c.name, peer_host: peerHost(c), peer_port: c.socket.remotePort ?? 0 },
    consumer_count: ch.consumers.size,
    messages_unacknowledged: ch.unackedCount,
    messages_unconfirmed: ch.unconfirmedCount,
    messages_uncommitted: 0,
    acks_uncommitted: 0,
    pending_raft_commands: 0,
    prefetch_count: ch.prefetchCount,
    global_prefetch_count: ch.globalPrefetchCount,
    confirm: ch.confirmMode,
    transactional: ch.transactional,
    ...idleSince(stats, k),
    message_stats: withDetails(stats, k, {
      publish: ch.stats.published,
      deliver_get: ch.stats.delivered,
      ack: ch.stats.acked,
      redeliver: channelRedeliveries(ch),
      ...channelTotals(ch),
    }),
  };
}

/** `idle_since` as RabbitMQ 3.10 formats it (ISO 8601, milliseconds, `+00:00`), while the object is idle. */
function idleSince(stats: StatsCollector, key: string): Json {
  const at = stats.idleSince(key);
  return at === undefined ? {} : { idle_since: new Date(at).toISOString().replace('Z', '+00:00') };
}

/** Consumers of channels (not the broker's internal ones, which have no connection). */
export function consumerJson(consumer: Consumer): Json | undefined {
  const ch = consumer.channel as Partial<Channel>;
  const c = ch.connection;
  if (!c || ch.id === undefined) return undefined;
  return {
    consumer_tag: consumer.tag,
    queue: { name: consumer.queue.name, vhost: consumer.queue.vhost },
    channel_details: {
      name: `${c.name} (${ch.id})`,
      number: ch.id,
      connection_name: c.name,
      node: NODE_NAME,
      peer_host: peerHost(c),
      peer_port: c.socket.remotePort ?? 0,
      user: c.username,
    },
    ack_required: !consumer.noAck,
    exclusive: consumer.exclusive,
    prefetch_count: consumer.prefetch,
    active: activityStatus(consumer.queue.singleActive, consumer.queue.allConsumers(), consumer) !== 'waiting',
    activity_status: activityStatus(consumer.queue.singleActive, consumer.queue.allConsumers(), consumer),
    arguments: args(consumer.args),
  };
}

export function overviewJson(broker: ManagedBroker, stats: StatsCollector, visible: Set<string>, managementPort: number): Json {
  let ready = 0;
  let unacked = 0;
  let queues = 0;
  let exchanges = 0;
  let consumers = 0;
  for (const name of visible) {
    const v = broker.vhosts.get(name);
    if (!v) continue;
    exchanges += v.exchanges.size;
    for (const q of v.queues.values()) {
      queues++;
      ready += q.messageCount;
      unacked += q.unacked;
      consumers += q.consumerCount;
    }
  }
  let channels = 0;
  let connections = 0;
  for (const c of broker.connections) {
    if (!visible.has(c.vhost?.name ?? '')) continue;
    connections++;
    channels += c.channels.size;
  }
  const t = stats.overviewTotals();
  return {
    management_version: RABBITMQ_VERSION,
    rates_mode: 'basic',
    sample_retention_policies: { global: [600, 3600, 28800, 86400], basic: [600, 3600], detailed: [600] },
    exchange_types: EXCHANGE_TYPES,
    product_version: VERSION,
    product_name: 'Warren',
    rabbitmq_version: RABBITMQ_VERSION,
    // The runtime in RabbitMQ's fields: Node.js here, where RabbitMQ names its Erlang/OTP release.
    erlang_version: process.versions.node,
    erlang_full_version: `Node.js ${process.version} [v8-${process.versions.v8}]`,
    release_series_support_status: 'supported',
    cluster_name: broker.options.clusterName ?? NODE_NAME,
    node: NODE_NAME,
    disable_stats: false,
    enable_queue_totals: false,
    message_stats: { ...totalsStats(stats, OVERVIEW_KEY, t), ...withDetails(stats, OVERVIEW_KEY, { disk_reads: t.disk_reads, disk_writes: t.disk_writes }) },
    churn_rates: withDetails(stats, NODE_KEY, churn(broker)),
    queue_totals: withDetails(stats, OVERVIEW_KEY, { messages: ready + unacked, messages_ready: ready, messages_unacknowledged: unacked }),
    object_totals: { channels, connections, consumers, exchanges, queues },
    statistics_db_event_queue: 0,
    listeners: [
      { node: NODE_NAME, protocol: 'amqp', ip_address: broker.options.host, port: broker.port, socket_opts: {} },
      ...broker.tlsListeners.map((a) => ({ node: NODE_NAME, protocol: 'amqp/ssl', ip_address: a.host, port: a.port, socket_opts: {} })),
      ...(managementPort > 0
        ? [{ node: NODE_NAME, protocol: broker.options.managementTls ? 'https' : 'http', ip_address: broker.options.managementHost, port: managementPort, socket_opts: {} }]
        : []),
    ],
    contexts: managementContexts(broker, managementPort),
  };
}

/** The management listener as RabbitMQ describes its web contexts (overview and nodes). */
export function managementContexts(broker: ManagedBroker, managementPort: number): Record<string, unknown>[] {
  if (managementPort <= 0) return [];
  return [{
    node: NODE_NAME, description: 'RabbitMQ Management', path: '/', ip: broker.options.managementHost, port: String(managementPort),
    ...(broker.options.managementTls ? { ssl: 'true', ssl_opts: [] } : { ssl_opts: [] }),
  }];
}
