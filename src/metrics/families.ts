/**
 * The metric families Warren exports, with rabbitmq_prometheus 3.10's names, types and help texts,
 * grouped as its /metrics/detailed `family=` parameter names them. Each entry says how to read the
 * value from one object of its group. Families RabbitMQ has but Warren cannot fill truthfully
 * (Erlang VM, Raft, Mnesia, the classic queue index) are not listed; the README names them.
 */
import type { ChannelExchangeCounters, ChannelQueueCounters, DeadLetterStrategy, NodeCounters } from './counters.js';
import type { Family, MetricType } from './exposition.js';
import type { AuthTotals, IoStats, MetricsChannel, MetricsConnection, MetricsQueue } from './source.js';
import { queueBytesInMemory, queueMemoryBytes, queueMessagesInMemory } from './queue-memory.js';

export interface Metric<T> extends Family {
  readonly value: (o: T) => number;
  /** How `/metrics` folds the objects' values: summed (the default), the largest, or not at all (header only). */
  readonly aggregate?: 'sum' | 'max' | 'none';
  /** Only objects this accepts have a sample (default: all). */
  readonly sampled?: (o: T) => boolean;
  /**
   * Per object only in /metrics/detailed (and summed on /metrics): /metrics/per-object leaves it out
   * so that a scrape of 100,000 queues stays under a second — its size grows with every family.
   */
  readonly detailedOnly?: boolean;
}

export const m = <T>(name: string, type: MetricType, help: string, value: (o: T) => number, more: Pick<Metric<T>, 'aggregate' | 'sampled' | 'detailedOnly'> = {}): Metric<T> =>
  ({ name, type, help, value, ...more });

export const CONNECTION_CHURN: Metric<NodeCounters>[] = [
  m('connections_opened_total', 'counter', 'Total number of connections opened', (c) => c.connectionsOpened),
  m('connections_closed_total', 'counter', 'Total number of connections closed or terminated', (c) => c.connectionsClosed),
  m('channels_opened_total', 'counter', 'Total number of channels opened', (c) => c.channelsOpened),
  m('channels_closed_total', 'counter', 'Total number of channels closed', (c) => c.channelsClosed),
  m('queues_declared_total', 'counter', 'Total number of queues declared', (c) => c.queuesDeclared),
  m('queues_created_total', 'counter', 'Total number of queues created', (c) => c.queuesCreated),
  m('queues_deleted_total', 'counter', 'Total number of queues deleted', (c) => c.queuesDeleted),
];

/** Read once per scrape from /proc, statfs and the options. */
export interface NodeFigures {
  openFds: number;
  openTcpSockets: number;
  residentMemory: number;
  diskFree: number;
  maxFds: number;
  maxTcpSockets: number;
  memoryLimit: number;
  diskFreeLimit: number;
  uptimeSeconds: number;
}

export const NODE_COARSE: Metric<NodeFigures>[] = [
  m('process_open_fds', 'gauge', 'Open file descriptors', (n) => n.openFds),
  m('process_open_tcp_sockets', 'gauge', 'Open TCP sockets', (n) => n.openTcpSockets),
  m('process_resident_memory_bytes', 'gauge', 'Memory used in bytes', (n) => n.residentMemory),
  m('disk_space_available_bytes', 'gauge', 'Disk space available in bytes', (n) => n.diskFree),
];

export const NODE: Metric<NodeFigures>[] = [
  m('process_max_fds', 'gauge', 'Open file descriptors limit', (n) => n.maxFds),
  m('process_max_tcp_sockets', 'gauge', 'Open TCP sockets limit', (n) => n.maxTcpSockets),
  m('resident_memory_limit_bytes', 'gauge', 'Memory high watermark in bytes', (n) => n.memoryLimit),
  m('disk_space_available_limit_bytes', 'gauge', 'Free disk space low watermark in bytes', (n) => n.diskFreeLimit),
  m('erlang_uptime_seconds', 'gauge', 'Node uptime', (n) => n.uptimeSeconds),
];

/**
 * node_persister_metrics: the message store's file I/O. Warren reads and writes at explicit
 * offsets (no seeks) and never closes a file to reopen it later, so those stay 0.
 */
const IO_OPS: Metric<IoStats>[] = [
  m('io_read_ops_total', 'counter', 'Total number of I/O read operations', (s) => s.readOps),
  m('io_read_bytes_total', 'counter', 'Total number of I/O bytes read', (s) => s.readBytes),
  m('io_write_ops_total', 'counter', 'Total number of I/O write operations', (s) => s.writeOps),
  m('io_write_bytes_total', 'counter', 'Total number of I/O bytes written', (s) => s.bytesWritten),
  m('io_sync_ops_total', 'counter', 'Total number of I/O sync operations', (s) => s.fdatasyncs),
  m('io_seek_ops_total', 'counter', 'Total number of I/O seek operations', () => 0),
  m('io_reopen_ops_total', 'counter', 'Total number of times files have been reopened', () => 0),
];
const IO_TIMES: Metric<IoStats>[] = [
  m('io_read_time_seconds_total', 'counter', 'Total I/O read time', (s) => s.readMs / 1000),
  m('io_write_time_seconds_total', 'counter', 'Total I/O write time', (s) => s.writeMs / 1000),
  m('io_sync_time_seconds_total', 'counter', 'Total I/O sync time', (s) => s.syncMs / 1000),
  m('io_seek_time_seconds_total', 'counter', 'Total I/O seek time', () => 0),
];
/** In RabbitMQ's order, which puts its queue index and message store counts between the two. */
export const NODE_PERSISTER: Metric<IoStats>[] = [...IO_OPS, ...IO_TIMES];

export const AUTH_ATTEMPTS: Metric<AuthTotals>[] = [
  m('auth_attempts_total', 'counter', 'Total number of authorization attempts', (a) => a.auth_attempts),
  m('auth_attempts_succeeded_total', 'counter', 'Total number of successful authentication attempts', (a) => a.auth_attempts_succeeded),
  m('auth_attempts_failed_total', 'counter', 'Total number of failed authentication attempts', (a) => a.auth_attempts_failed),
];

/** Per source address and user; RabbitMQ collects these only when asked to, so both list no samples. */
export const AUTH_ATTEMPTS_DETAILED: Family[] = [
  { name: 'auth_attempts_detailed_total', type: 'counter', help: 'Total number of authorization attempts with source info' },
  { name: 'auth_attempts_detailed_succeeded_total', type: 'counter', help: 'Total number of successful authorization attempts with source info' },
  { name: 'auth_attempts_detailed_failed_total', type: 'counter', help: 'Total number of failed authorization attempts with source info' },
];

export const QUEUE_COARSE: Metric<MetricsQueue>[] = [
  m('queue_messages_ready', 'gauge', 'Messages ready to be delivered to consumers', (q) => q.messageCount),
  m('queue_messages_unacked', 'gauge', 'Messages delivered to consumers but not yet acknowledged', (q) => q.unacked),
  m('queue_messages', 'gauge', 'Sum of ready and unacknowledged messages - total queue depth', (q) => q.messageCount + q.unacked),
];

export const QUEUE_CONSUMER_COUNT: Metric<MetricsQueue>[] = [
  m('queue_consumers', 'gauge', 'Consumers on a queue', (q) => q.consumerCount),
];

/**
 * Consumer capacity: RabbitMQ measures the share of time its queue could deliver at once. Warren
 * reports the share of the queue's consumers that can take a message now (0 without consumers).
 */
function consumerCapacity(q: MetricsQueue): number {
  const consumers = q.allConsumers();
  if (consumers.length === 0) return 0;
  let ready = 0;
  for (const c of consumers) if (c.canTake()) ready++;
  return ready / consumers.length;
}

/** Which queues RabbitMQ 3.10 lists for a family: classic ones only, or all but streams. */
const classic = (q: MetricsQueue) => q.type === 'classic';
export const notStream = (q: MetricsQueue) => q.type !== 'stream';

export const QUEUE: Metric<MetricsQueue>[] = [
  ...QUEUE_CONSUMER_COUNT,
  m('queue_consumer_capacity', 'gauge', 'Consumer capacity', consumerCapacity),
  m('queue_consumer_utilisation', 'gauge', 'Same as consumer capacity', consumerCapacity),
  m('queue_process_memory_bytes', 'gauge', 'Memory in bytes used by the Erlang queue process', queueMemoryBytes, { detailedOnly: true }),
  // Unacked messages are in memory (their channels hold them); ready ones unless paged out.
  m('queue_messages_ram', 'gauge', 'Ready and unacknowledged messages stored in memory',
    queueMessagesInMemory, { detailedOnly: true, sampled: notStream }),
  m('queue_messages_ram_bytes', 'gauge', 'Size of ready and unacknowledged messages stored in memory',
    queueBytesInMemory, { detailedOnly: true, sampled: notStream }),
  m('queue_messages_ready_ram', 'gauge', 'Ready messages stored in memory', (q) => q.messageCount - q.messages.pagedOut, { detailedOnly: true, sampled: classic }),
  m('queue_messages_unacked_ram', 'gauge', 'Unacknowledged messages stored in memory', (q) => q.unacked, { detailedOnly: true, sampled: classic }),
  m('queue_messages_bytes', 'gauge', 'Size in bytes of ready and unacknowledged messages', (q) => q.messages.bytes + q.unackedBytes),
  m('queue_messages_ready_bytes', 'gauge', 'Size in bytes of ready messages', (q) => q.messages.bytes),
  m('queue_messages_unacked_bytes', 'gauge', 'Size in bytes of all unacknowledged messages', (q) => q.unackedBytes),
  m('queue_messages_persistent', 'gauge', 'Persistent messages', (q) => q.persistentCount, { detailedOnly: true, sampled: notStream }),
  m('queue_messages_persistent_bytes', 'gauge', 'Size in bytes of persistent messages', (q) => q.persistentBytes, { detailedOnly: true, sampled: notStream }),
  m('queue_messages_paged_out', 'gauge', 'Messages paged out to disk', (q) => q.messages.pagedOut, { detailedOnly: true, sampled: classic }),
  m('queue_messages_paged_out_bytes', 'gauge', 'Size in bytes of messages paged out to disk', (q) => q.messages.pagedOutBytes, { detailedOnly: true, sampled: classic }),
  // The head's timestamp property; NaN when it has none or the queue is empty. Classic queues only,
  // and never summed, as in RabbitMQ 3.10.
  m('queue_head_message_timestamp', 'gauge', 'Timestamp of the first message in the queue, if any',
    (q) => q.headMessageTimestamp ?? NaN, { aggregate: 'none', sampled: classic }),
  m('queue_disk_reads_total', 'counter', 'Total number of times queue read messages from disk', (q) => q.messages.diskReads, { detailedOnly: true, sampled: classic }),
  m('queue_disk_writes_total', 'counter', 'Total number of times queue wrote messages to disk', (q) => q.messages.diskWrites, { detailedOnly: true, sampled: classic }),
];

export const CHANNEL: Metric<MetricsChannel>[] = [
  m('channel_consumers', 'gauge', 'Consumers on a channel', (c) => c.consumers.size),
  m('channel_messages_unacked', 'gauge', 'Delivered but not yet acknowledged messages', (c) => c.unackedCount),
  m('channel_messages_unconfirmed', 'gauge', 'Published but not yet confirmed messages', (c) => c.unconfirmedCount),
  m('channel_messages_uncommitted', 'gauge', 'Messages received in a transaction but not yet committed', (c) => c.uncommittedCount),
  m('channel_acks_uncommitted', 'gauge', 'Message acknowledgements in a transaction not yet committed', (c) => c.uncommittedAcks),
  m('consumer_prefetch', 'gauge', 'Limit of unacknowledged messages for each consumer', (c) => c.prefetchCount),
  m('channel_prefetch', 'gauge', 'Total limit of unacknowledged messages for all consumers on a channel', (c) => c.globalPrefetchCount),
];

export const CHANNEL_EXCHANGE: Metric<ChannelExchangeCounters>[] = [
  m('channel_messages_published_total', 'counter', 'Total number of messages published into an exchange on a channel', (c) => c.published),
  m('channel_messages_confirmed_total', 'counter', 'Total number of messages published into an exchange and confirmed on the channel', (c) => c.confirmed),
  m('channel_messages_unroutable_returned_total', 'counter', 'Total number of messages published as mandatory into an exchange and returned to the publisher as unroutable', (c) => c.unroutableReturned),
  m('channel_messages_unroutable_dropped_total', 'counter', 'Total number of messages published as non-mandatory into an exchange and dropped as unroutable', (c) => c.unroutableDropped),
];

export const CHANNEL_QUEUE: Metric<ChannelQueueCounters>[] = [
  m('channel_get_ack_total', 'counter', 'Total number of messages fetched with basic.get in manual acknowledgement mode', (c) => c.getManualAck),
  m('channel_get_total', 'counter', 'Total number of messages fetched with basic.get in automatic acknowledgement mode', (c) => c.getAutoAck),
  m('channel_messages_delivered_ack_total', 'counter', 'Total number of messages delivered to consumers in manual acknowledgement mode', (c) => c.deliveredManualAck),
  m('channel_messages_delivered_total', 'counter', 'Total number of messages delivered to consumers in automatic acknowledgement mode', (c) => c.deliveredAutoAck),
  m('channel_messages_redelivered_total', 'counter', 'Total number of messages redelivered to consumers', (c) => c.redelivered),
  m('channel_messages_acked_total', 'counter', 'Total number of messages acknowledged by consumers', (c) => c.acked),
  m('channel_get_empty_total', 'counter', 'Total number of times basic.get operations fetched no message', (c) => c.getEmpty),
];

export const CONNECTION_COARSE: Metric<MetricsConnection>[] = [
  m('connection_incoming_bytes_total', 'counter', 'Total number of bytes received on a connection', (c) => c.stats.recvOct),
  m('connection_outgoing_bytes_total', 'counter', 'Total number of bytes sent on a connection', (c) => c.stats.sendOct),
];

export const CONNECTION: Metric<MetricsConnection>[] = [
  m('connection_incoming_packets_total', 'counter', 'Total number of packets received on a connection', (c) => c.stats.recvCnt),
  m('connection_outgoing_packets_total', 'counter', 'Total number of packets sent on a connection', (c) => c.stats.sendCnt),
  m('connection_channels', 'gauge', 'Channels on a connection', (c) => c.channels.size),
];

export const QUEUE_MESSAGES_PUBLISHED: Family = {
  name: 'queue_messages_published_total', type: 'counter', help: 'Total number of messages published to queues',
};

export const TOTALS = {
  connections: { name: 'connections', type: 'gauge', help: 'Connections currently open' },
  channels: { name: 'channels', type: 'gauge', help: 'Channels currently open' },
  consumers: { name: 'consumers', type: 'gauge', help: 'Consumers currently connected' },
  queues: { name: 'queues', type: 'gauge', help: 'Queues available' },
} satisfies Record<string, Family>;

export const CLUSTER = {
  vhostStatus: { name: 'vhost_status', type: 'gauge', help: 'Whether a given vhost is running' },
  exchangeBindings: { name: 'exchange_bindings', type: 'gauge', help: 'Number of bindings for an exchange. This value is cluster-wide.' },
  exchangeName: { name: 'exchange_name', type: 'gauge', help: 'Enumerates exchanges without any additional info. This value is cluster-wide. A cheaper alternative to `exchange_bindings`' },
} satisfies Record<string, Family>;

export const IDENTITY = {
  build: { name: 'build_info', type: 'untyped', help: 'RabbitMQ & Erlang/OTP version info' },
  identity: { name: 'identity_info', type: 'untyped', help: 'RabbitMQ node & cluster identity info' },
} satisfies Record<string, Family>;

export const ALARMS = {
  fd: { name: 'alarms_file_descriptor_limit', type: 'untyped', help: 'is 1 if file descriptor limit alarm is in effect' },
  disk: { name: 'alarms_free_disk_space_watermark', type: 'untyped', help: 'is 1 if free disk space watermark alarm is in effect' },
  memory: { name: 'alarms_memory_used_watermark', type: 'untyped', help: 'is 1 if VM memory watermark alarm is in effect' },
} satisfies Record<string, Family>;

export const PROCESS_START_TIME: Family = { name: 'process_start_time_seconds', type: 'gauge', help: 'Start time of the process since unix epoch in seconds.' };

/** rabbitmq_global_*: labelled by protocol, and by queue type where RabbitMQ does. */
export const GLOBAL: (Metric<NodeCounters> & { perQueueType: boolean })[] = [
  { ...m('global_messages_acknowledged_total', 'counter', 'Total number of messages acknowledged by consumers', (c) => c.acknowledged), perQueueType: true },
  { ...m('global_messages_confirmed_total', 'counter', 'Total number of messages confirmed to publishers', (c) => c.confirmed), perQueueType: false },
  { ...m('global_messages_delivered_consume_auto_ack_total', 'counter', 'Total number of messages delivered to consumers using basic.consume with automatic acknowledgment', (c) => c.deliveredConsumeAutoAck), perQueueType: true },
  { ...m('global_messages_delivered_consume_manual_ack_total', 'counter', 'Total number of messages delivered to consumers using basic.consume with manual acknowledgment', (c) => c.deliveredConsumeManualAck), perQueueType: true },
  { ...m('global_messages_delivered_get_auto_ack_total', 'counter', 'Total number of messages delivered to consumers using basic.get with automatic acknowledgment', (c) => c.deliveredGetAutoAck), perQueueType: true },
  { ...m('global_messages_delivered_get_manual_ack_total', 'counter', 'Total number of messages delivered to consumers using basic.get with manual acknowledgment', (c) => c.deliveredGetManualAck), perQueueType: true },
  {
    ...m('global_messages_delivered_total', 'counter', 'Total number of messages delivered to consumers',
      (c) => c.deliveredConsumeAutoAck + c.deliveredConsumeManualAck + c.deliveredGetAutoAck + c.deliveredGetManualAck),
    perQueueType: true,
  },
  { ...m('global_messages_get_empty_total', 'counter', 'Total number of times basic.get operations fetched no message', (c) => c.getEmpty), perQueueType: true },
  { ...m('global_messages_received_confirm_total', 'counter', 'Total number of messages received from publishers expecting confirmations', (c) => c.receivedConfirm), perQueueType: false },
  { ...m('global_messages_received_total', 'counter', 'Total number of messages received from publishers', (c) => c.received), perQueueType: false },
  { ...m('global_messages_redelivered_total', 'counter', 'Total number of messages redelivered to consumers', (c) => c.redelivered), perQueueType: true },
  { ...m('global_messages_routed_total', 'counter', 'Total number of messages routed to queues or streams', (c) => c.routed), perQueueType: false },
  { ...m('global_messages_unroutable_dropped_total', 'counter', 'Total number of messages published as non-mandatory into an exchange and dropped as unroutable', (c) => c.unroutableDropped), perQueueType: false },
  { ...m('global_messages_unroutable_returned_total', 'counter', 'Total number of messages published as mandatory into an exchange and returned to the publisher as unroutable', (c) => c.unroutableReturned), perQueueType: false },
];

/**
 * rabbitmq_global_messages_dead_lettered_*_total, with the (queue type, strategy) label sets RabbitMQ
 * 3.10.8 lists for each reason, in its order; they follow global_messages_confirmed_total. Warren has
 * no at-least-once dead-lettering, so those samples (and `confirmed`) stay 0.
 */
const CLASSIC_STRATEGIES = ['at_most_once', 'disabled'] as const;
const QUORUM_STRATEGIES = ['at_least_once', 'at_most_once', 'disabled'] as const;

export interface DeadLetteredFamily {
  family: Family;
  reason: string;
  labels: { queueType: 'classic' | 'quorum'; strategy: DeadLetterStrategy }[];
}

const deadLettered = (reason: string, help: string, classic: readonly DeadLetterStrategy[], quorum: readonly DeadLetterStrategy[]): DeadLetteredFamily => ({
  family: { name: `global_messages_dead_lettered_${reason}_total`, type: 'counter', help },
  reason,
  labels: [
    ...classic.map((strategy) => ({ queueType: 'classic' as const, strategy })),
    ...quorum.map((strategy) => ({ queueType: 'quorum' as const, strategy })),
  ],
});

export const DEAD_LETTERED: DeadLetteredFamily[] = [
  deadLettered('confirmed', 'Total number of messages dead-lettered and confirmed by target queues', [], ['at_least_once']),
  deadLettered('delivery_limit', 'Total number of messages dead-lettered due to delivery-limit exceeded', [], QUORUM_STRATEGIES),
  deadLettered('expired', 'Total number of messages dead-lettered due to message TTL exceeded', CLASSIC_STRATEGIES, QUORUM_STRATEGIES),
  deadLettered('maxlen', 'Total number of messages dead-lettered due to overflow drop-head or reject-publish-dlx', CLASSIC_STRATEGIES, CLASSIC_STRATEGIES),
  deadLettered('rejected', 'Total number of messages dead-lettered due to basic.reject or basic.nack', CLASSIC_STRATEGIES, QUORUM_STRATEGIES),
];

export const GLOBAL_GAUGES = {
  consumers: { name: 'global_consumers', type: 'gauge', help: 'Current number of consumers' },
  publishers: { name: 'global_publishers', type: 'gauge', help: 'Current number of publishers' },
} satisfies Record<string, Family>;
