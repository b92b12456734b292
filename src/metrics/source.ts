/**
 * What the metrics collector reads, as narrow structural interfaces: the broker, its vhosts,
 * queues, connections and channels satisfy them as they are, and nothing here imports the broker
 * or the management API.
 */
import type { NodeCounters } from './counters.js';
import type { ChannelCounters } from './channel-counters.js';

export interface MetricsQueue {
  readonly name: string;
  readonly messageCount: number;
  readonly unacked: number;
  readonly unackedBytes: number;
  /** Ready and unacked messages a restart keeps, and their body bytes. */
  readonly persistentCount: number;
  readonly persistentBytes: number;
  readonly messages: {
    readonly bytes: number;
    readonly pagedOut: number;
    readonly pagedOutBytes: number;
    readonly diskReads: number;
    readonly diskWrites: number;
  };
  readonly consumerCount: number;
  allConsumers(): readonly { canTake(): boolean }[];
  /** classic, quorum or stream. */
  readonly type: string;
  readonly headMessageTimestamp: number | undefined;
  oldestReadyAge(now: number): number | undefined;
  oldestUnackedAge(now: number): number | undefined;
  readonly stats: { readonly redelivered: number; readonly requeued: number };
}

export interface MetricsExchange {
  readonly name: string;
  readonly type: string;
  readonly internal: boolean;
}

export interface MetricsVhost {
  readonly name: string;
  readonly queues: ReadonlyMap<string, MetricsQueue>;
  readonly exchanges: ReadonlyMap<string, MetricsExchange>;
  allBindings(): readonly { readonly source: string }[];
}

export interface MetricsChannel {
  readonly id: number;
  readonly consumers: { readonly size: number };
  readonly unackedCount: number;
  readonly unconfirmedCount: number;
  readonly uncommittedCount: number;
  readonly uncommittedAcks: number;
  readonly prefetchCount: number;
  readonly globalPrefetchCount: number;
  readonly counters: ChannelCounters;
}

export interface MetricsConnection {
  readonly id: number;
  readonly vhost: { readonly name: string } | undefined;
  readonly stats: { readonly recvOct: number; readonly sendOct: number; readonly recvCnt: number; readonly sendCnt: number };
  readonly channels: ReadonlyMap<number, MetricsChannel>;
}

/** Login attempts, counted once, by the broker's login service (also behind /api/auth/attempts). */
export interface AuthTotals {
  readonly auth_attempts: number;
  readonly auth_attempts_failed: number;
  readonly auth_attempts_succeeded: number;
}

/** Reads, writes and syncs of the message store's files, with the milliseconds they took. */
export interface IoStats {
  readonly readOps: number;
  readonly readBytes: number;
  readonly readMs: number;
  readonly writeOps: number;
  readonly bytesWritten: number;
  readonly writeMs: number;
  readonly fdatasyncs: number;
  readonly syncMs: number;
}

export interface MetricsSource {
  readonly counters: NodeCounters;
  readonly logins: { readonly totals: AuthTotals };
  readonly vhosts: ReadonlyMap<string, MetricsVhost>;
  readonly connections: ReadonlySet<MetricsConnection>;
  readonly alarms: { readonly memoryAlarm: boolean; readonly diskAlarm: boolean };
  readonly options: {
    readonly dataDir: string;
    /** Bytes. */
    readonly memoryHighWatermark: number;
    readonly diskFreeLimit: number;
    readonly maxConnections: number;
    /** cluster_name: rabbitmq_identity_info's rabbitmq_cluster label (default: the node name, as RabbitMQ). */
    readonly clusterName?: string | undefined;
    /** Present when this broker is a cluster's leader. */
    readonly cluster?: unknown;
  };
  /** ms since epoch. */
  readonly startedAt: number;
  /** The message store's I/O counters (its persister's stats); undefined before the store is open. */
  readonly ioStats: IoStats | undefined;
}
