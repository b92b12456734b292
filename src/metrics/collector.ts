/**
 * Turns the broker's state into rabbitmq_prometheus's three views:
 * - `/metrics`: every family summed over its objects (no per-object labels);
 * - `/metrics/per-object`: one sample per queue, channel, connection;
 * - `/metrics/detailed?family=…&vhost=…`: only the named families, per object, prefixed
 *   `rabbitmq_detailed_` (and `rabbitmq_cluster_` for the vhost/exchange families), queue families
 *   limited to the named vhosts.
 * Families come in RabbitMQ's order, each with its TYPE and HELP lines.
 */
import { RABBITMQ_VERSION, VERSION } from '../version.js';
import { deadLetteredKey, type ChannelExchangeCounters, type ChannelQueueCounters, type NodeCounters } from './counters.js';
import { Exposition, formatValue, labelSet, escapeLabel } from './exposition.js';
import { writeClusterState, writeIdentity } from './cluster-families.js';
import * as F from './families.js';
import type { Metric, NodeFigures } from './families.js';
import { NODE_NAME, clusterPermanentId, diskFree, maxFds, openFds } from './node-stats.js';
import { WARREN_DETAILED_PREFIX, WARREN_PREFIX, WARREN_QUEUE, WARREN_QUEUE_FAMILY } from './warren-families.js';
import type { MetricsChannel, MetricsConnection, MetricsQueue, MetricsSource } from './source.js';

const PREFIX = 'rabbitmq_';
const DETAILED_PREFIX = 'rabbitmq_detailed_';
const CLUSTER_PREFIX = 'rabbitmq_cluster_';

/** The `family=` names /metrics/detailed accepts (RabbitMQ's), in output order. */
export const DETAILED_FAMILIES = [
  'connection_churn_metrics', 'node_coarse_metrics', 'node_metrics', 'node_persister_metrics', 'auth_attempt_metrics',
  'auth_attempt_detailed_metrics', 'queue_coarse_metrics', 'queue_consumer_count', 'queue_metrics',
  'channel_metrics', 'channel_exchange_metrics', 'channel_queue_metrics', 'connection_coarse_metrics',
  'connection_metrics', 'channel_queue_exchange_metrics', 'vhost_status', 'exchange_bindings', 'exchange_names',
  WARREN_QUEUE_FAMILY,
] as const;

export type View =
  | { kind: 'aggregated' }
  | { kind: 'per-object' }
  | { kind: 'detailed'; families: ReadonlySet<string>; vhosts: ReadonlySet<string> | undefined };

interface Row<T> {
  /** `{name="value",…}`, UTF-8. */
  labels: Buffer;
  object: T;
}

interface ChannelRow extends Row<MetricsChannel> {
  vhost: string;
}

export class MetricsCollector {
  /** Rendered `{vhost=…,queue=…}` per queue, kept between scrapes: most queues outlive many scrapes. */
  private queueLabels = new Map<MetricsQueue, Buffer>();

  constructor(private readonly src: MetricsSource) {}

  collect(view: View): Exposition {
    const e = new Exposition();
    const perObject = view.kind !== 'aggregated';
    const prefix = view.kind === 'detailed' ? DETAILED_PREFIX : PREFIX;
    const wanted = (family: string) => view.kind !== 'detailed' || view.families.has(family);
    const c = this.src.counters;

    if (view.kind === 'aggregated') this.processAndAlarms(e);
    if (wanted('connection_churn_metrics')) this.singles(e, prefix, F.CONNECTION_CHURN, c);
    if (wanted('node_coarse_metrics') || wanted('node_metrics')) {
      const n = this.nodeFigures();
      if (wanted('node_coarse_metrics')) this.singles(e, prefix, F.NODE_COARSE, n);
      if (wanted('node_metrics')) this.singles(e, prefix, F.NODE, n);
    }
    const io = this.src.ioStats;
    if (io && wanted('node_persister_metrics')) this.singles(e, prefix, F.NODE_PERSISTER, io);
    if (wanted('auth_attempt_metrics')) this.singles(e, prefix, F.AUTH_ATTEMPTS, this.src.logins.totals, '{protocol="amqp091"}');
    if (perObject && wanted('auth_attempt_detailed_metrics')) for (const f of F.AUTH_ATTEMPTS_DETAILED) e.header(prefix, f);

    const vhostFilter = view.kind === 'detailed' ? view.vhosts : undefined;
    const needQueues = wanted('queue_coarse_metrics') || wanted('queue_metrics') || wanted('queue_consumer_count') || wanted(WARREN_QUEUE_FAMILY);
    const queues = needQueues ? this.queueRows(vhostFilter) : [];
    if (wanted('queue_coarse_metrics')) this.families(e, prefix, F.QUEUE_COARSE, queues, perObject);
    if (wanted('queue_consumer_count') && !wanted('queue_metrics')) this.families(e, prefix, F.QUEUE_CONSUMER_COUNT, queues, perObject);
    const perObjectView = view.kind === 'per-object';
    if (wanted('queue_metrics')) this.families(e, prefix, F.QUEUE, queues, perObject, perObjectView);
    if (wanted(WARREN_QUEUE_FAMILY)) {
      this.families(e, view.kind === 'detailed' ? WARREN_DETAILED_PREFIX : WARREN_PREFIX, WARREN_QUEUE, queues, perObject, perObjectView);
    }
    this.queueLabels = new Map(queues.map((r) => [r.object, r.labels]));

    const channels = this.channelRows();
    if (wanted('channel_metrics')) this.families(e, prefix, F.CHANNEL, channels, perObject);
    if (wanted('channel_exchange_metrics')) this.families(e, prefix, F.CHANNEL_EXCHANGE, this.channelObjectRows(channels, 'exchange', (ch) => ch.counters.exchanges.values(), (x: ChannelExchangeCounters) => x.exchange), perObject);
    if (wanted('channel_queue_metrics')) this.families(e, prefix, F.CHANNEL_QUEUE, this.channelObjectRows(channels, 'queue', (ch) => ch.counters.queues.values(), (x: ChannelQueueCounters) => x.queue), perObject);
    const connections = wanted('connection_coarse_metrics') || wanted('connection_metrics') ? this.connectionRows() : [];
    if (wanted('connection_coarse_metrics')) this.families(e, prefix, F.CONNECTION_COARSE, connections, perObject);
    if (wanted('connection_metrics')) this.families(e, prefix, F.CONNECTION, connections, perObject);
    if (wanted('channel_queue_exchange_metrics')) {
      // Counted per node, not per (channel, queue, exchange): per-object views list no samples.
      if (perObject) e.header(prefix, F.QUEUE_MESSAGES_PUBLISHED);
      else e.single(prefix, F.QUEUE_MESSAGES_PUBLISHED, c.queueMessagesPublished);
    }

    if (view.kind === 'detailed') {
      this.cluster(e, view);
    } else {
      this.totals(e, channels);
    }
    this.identity(e);
    if (view.kind !== 'detailed') this.global(e, c, channels);
    return e;
  }

  private processAndAlarms(e: Exposition): void {
    e.single('', F.PROCESS_START_TIME, Math.floor(this.src.startedAt / 1000));
    e.single(PREFIX, F.ALARMS.fd, 0);
    e.single(PREFIX, F.ALARMS.disk, this.src.alarms.diskAlarm ? 1 : 0);
    e.single(PREFIX, F.ALARMS.memory, this.src.alarms.memoryAlarm ? 1 : 0);
  }

  private nodeFigures(): NodeFigures {
    const o = this.src.options;
    const max = maxFds();
    return {
      openFds: openFds(),
      openTcpSockets: this.src.connections.size,
      residentMemory: process.memoryUsage.rss(),
      diskFree: diskFree(o.dataDir),
      maxFds: max,
      maxTcpSockets: max > 0 ? Math.min(max, o.maxConnections) : o.maxConnections,
      memoryLimit: o.memoryHighWatermark,
      diskFreeLimit: o.diskFreeLimit,
      uptimeSeconds: (Date.now() - this.src.startedAt) / 1000,
    };
  }

  private singles<T>(e: Exposition, prefix: string, metrics: readonly Metric<T>[], o: T, labels = ''): void {
    for (const f of metrics) e.single(prefix, f, f.value(o), labels);
  }

  /** Each family over all rows: one sample per row, or their sum. */
  private families<T>(e: Exposition, prefix: string, metrics: readonly Metric<T>[], rows: readonly Row<T>[], perObject: boolean, perObjectView = false): void {
    for (const f of metrics) {
      if (perObjectView && f.detailedOnly) continue;
      e.header(prefix, f);
      const { value, sampled } = f;
      if (!perObject) {
        if (f.aggregate === 'none') continue;
        const max = f.aggregate === 'max';
        let total = 0;
        for (const r of rows) {
          if (sampled && !sampled(r.object)) continue;
          const v = value(r.object);
          total = max ? Math.max(total, v) : total + v;
        }
        e.text(`${prefix}${f.name} ${formatValue(total)}\n`);
        continue;
      }
      const name = Buffer.from(prefix + f.name, 'latin1');
      for (let i = 0; i < rows.length; i++) {
        const r = rows[i]!;
        if (sampled && !sampled(r.object)) continue;
        e.sample(name, r.labels, value(r.object));
      }
    }
  }

  private queueRows(vhosts: ReadonlySet<string> | undefined): Row<MetricsQueue>[] {
    const rows: Row<MetricsQueue>[] = [];
    const known = this.queueLabels;
    for (const v of this.src.vhosts.values()) {
      if (vhosts && !vhosts.has(v.name)) continue;
      const vhostLabel = escapeLabel(v.name);
      for (const q of v.queues.values()) {
        const labels = known.get(q) ?? Buffer.from(`{vhost="${vhostLabel}",queue="${escapeLabel(q.name)}"}`);
        rows.push({ labels, object: q });
      }
    }
    return rows;
  }

  private channelRows(): ChannelRow[] {
    const rows: ChannelRow[] = [];
    for (const conn of this.src.connections) {
      const vhost = conn.vhost?.name ?? '';
      for (const ch of conn.channels.values()) rows.push({ labels: Buffer.from(`{channel="${channelPid(conn, ch)}"}`), object: ch, vhost });
    }
    return rows;
  }

  /** One row per (channel, exchange or queue) the channel has counters for. */
  private channelObjectRows<T>(channels: readonly ChannelRow[], kind: 'exchange' | 'queue', objects: (ch: MetricsChannel) => Iterable<T>, name: (o: T) => string): Row<T>[] {
    const rows: Row<T>[] = [];
    for (const { labels, object: ch, vhost } of channels) {
      const base = `${labels.toString('latin1').slice(0, -1)},vhost="${escapeLabel(vhost)}",${kind}="`;
      for (const o of objects(ch)) rows.push({ labels: Buffer.from(`${base}${escapeLabel(name(o))}"}`), object: o });
    }
    return rows;
  }

  private connectionRows(): Row<MetricsConnection>[] {
    // RabbitMQ 3.10 labels connection samples `channel` too (with the connection's process id).
    return [...this.src.connections].map((c) => ({ labels: Buffer.from(`{channel="${connectionPid(c)}"}`), object: c }));
  }

  private totals(e: Exposition, channels: readonly Row<MetricsChannel>[]): void {
    let consumers = 0;
    for (const r of channels) consumers += r.object.consumers.size;
    let queues = 0;
    for (const v of this.src.vhosts.values()) queues += v.queues.size;
    e.single(PREFIX, F.TOTALS.connections, this.src.connections.size);
    e.single(PREFIX, F.TOTALS.channels, channels.length);
    e.single(PREFIX, F.TOTALS.consumers, consumers);
    e.single(PREFIX, F.TOTALS.queues, queues);
  }

  private identity(e: Exposition): void {
    e.single(PREFIX, F.IDENTITY.build, 1, labelSet([
      ['product_name', 'Warren'], ['product_version', VERSION], ['rabbitmq_version', RABBITMQ_VERSION],
      ['prometheus_plugin_version', RABBITMQ_VERSION], ['nodejs_version', process.version],
      // The runtime's release in RabbitMQ's label, which its Overview dashboard shows (as /api/overview's erlang_version).
      ['erlang_version', process.versions.node],
    ]));
    const o = this.src.options;
    writeIdentity(e, NODE_NAME, o.clusterName ?? NODE_NAME, clusterPermanentId(o.dataDir));
    // A cluster's leader runs this broker; followers serve their own figures (src/cluster/follower-metrics.ts).
    if (o.cluster) writeClusterState(e, { role: 'leader', inSync: true, lagBytes: 0 });
  }

  private global(e: Exposition, c: NodeCounters, channels: readonly Row<MetricsChannel>[]): void {
    let consumers = 0;
    let publishers = 0;
    for (const r of channels) {
      consumers += r.object.consumers.size;
      if (r.object.counters.exchanges.size > 0) publishers++;
    }
    e.single(PREFIX, F.GLOBAL_GAUGES.consumers, consumers, '{protocol="amqp091"}');
    for (const f of F.GLOBAL) {
      // Warren counts these node-wide, not per queue type: they carry the classic type's label.
      e.single(PREFIX, f, f.value(c), f.perQueueType ? '{protocol="amqp091",queue_type="rabbit_classic_queue"}' : '{protocol="amqp091"}');
      // RabbitMQ's alphabetical order puts the dead-lettering families right after this one.
      if (f.name === 'global_messages_confirmed_total') this.deadLettered(e, c);
    }
    e.single(PREFIX, F.GLOBAL_GAUGES.publishers, publishers, '{protocol="amqp091"}');
  }

  private deadLettered(e: Exposition, c: NodeCounters): void {
    for (const { family, reason, labels } of F.DEAD_LETTERED) {
      e.header(PREFIX, family);
      for (const { queueType, strategy } of labels) {
        const n = c.deadLettered.get(deadLetteredKey(reason, queueType, strategy)) ?? 0;
        e.text(`${PREFIX}${family.name}{queue_type="rabbit_${queueType}_queue",dead_letter_strategy="${strategy}"} ${n}\n`);
      }
    }
  }

  private cluster(e: Exposition, view: { families: ReadonlySet<string> }): void {
    const vhosts = [...this.src.vhosts.values()];
    if (view.families.has('vhost_status')) {
      e.header(CLUSTER_PREFIX, F.CLUSTER.vhostStatus);
      for (const v of vhosts) e.text(`${CLUSTER_PREFIX}vhost_status{vhost="${escapeLabel(v.name)}"} 1\n`);
    }
    const listed = (ex: { name: string; internal: boolean }) => ex.name !== '' && !ex.internal;
    if (view.families.has('exchange_bindings')) {
      e.header(CLUSTER_PREFIX, F.CLUSTER.exchangeBindings);
      for (const v of vhosts) {
        const counts = new Map<string, number>();
        for (const b of v.allBindings()) counts.set(b.source, (counts.get(b.source) ?? 0) + 1);
        for (const ex of v.exchanges.values()) {
          if (!listed(ex)) continue;
          e.text(`${CLUSTER_PREFIX}exchange_bindings${exchangeLabels(v.name, ex)} ${counts.get(ex.name) ?? 0}\n`);
        }
      }
    }
    if (view.families.has('exchange_names')) {
      e.header(CLUSTER_PREFIX, F.CLUSTER.exchangeName);
      for (const v of vhosts) {
        for (const ex of v.exchanges.values()) if (listed(ex)) e.text(`${CLUSTER_PREFIX}exchange_name${exchangeLabels(v.name, ex)} 1\n`);
      }
    }
  }
}

function exchangeLabels(vhost: string, ex: { name: string; type: string }): string {
  return labelSet([['vhost', vhost], ['exchange', ex.name], ['type', ex.type]]);
}

/** Erlang-pid-shaped ids, unique per connection and channel, as RabbitMQ's `channel` label holds. */
export function connectionPid(c: { id: number }): string {
  return `<0.${c.id}.0>`;
}
export function channelPid(c: { id: number }, ch: { id: number }): string {
  return `<0.${c.id}.${ch.id}>`;
}

