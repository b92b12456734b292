/**
 * What the management API reads and commands on the broker. The assembly (src/server.ts) implements
 * it; management never sees the listener, the store or how the parts are wired.
 */
import type { UserStore } from '../auth/users.js';
import type { VirtualHost } from '../broker/vhost.js';
import type { ListenAddress, ResolvedOptions } from '../config.js';
import type { AuthAttempts } from '../auth/login.js';
import type { Connection } from '../connection/connection.js';
import type { StreamConnection } from '../stream/stream-connection.js';
import type { Logger } from '../logger.js';
import type { NodeCounters } from '../metrics/counters.js';
import type { IoStats } from '../metrics/source.js';
import type { JsonValue } from '../store/definitions.js';

/** The settings management reports (overview, nodes) or enforces (loopback-only users). */
export type ManagedOptions = Pick<ResolvedOptions,
  'host' | 'managementHost' | 'loopbackUsers' | 'dataDir' | 'memoryHighWatermark' | 'diskFreeLimit' | 'maxConnections' | 'clusterName' | 'managementTls' | 'cluster' | 'replication' | 'tls' | 'prometheusTls'>;

export interface ManagedBroker {
  readonly options: Readonly<ManagedOptions>;
  readonly log: Logger;
  /** AMQP listener port. */
  readonly port: number;
  /** Bound AMQPS listeners. */
  readonly tlsListeners: ListenAddress[];
  /** AMQP login attempts (RabbitMQ's /api/auth/attempts). */
  readonly logins: { readonly totals: AuthAttempts; bySource(): Array<AuthAttempts & { remote_address: string; username: string; protocol: string }> };
  readonly startedAt: number;
  readonly vhosts: ReadonlyMap<string, VirtualHost>;
  readonly users: UserStore;
  /** Open AMQP connections (after connection.open). */
  readonly connections: ReadonlySet<Connection>;
  /** Open stream-protocol connections (empty when the stream listener is off). */
  readonly streamConnections: ReadonlySet<StreamConnection>;
  readonly alarms: { readonly memoryAlarm: boolean; readonly diskAlarm: boolean };
  /** Node-wide totals (churn), shared with the Prometheus endpoint. */
  readonly counters: NodeCounters;
  /** The message store's I/O counters; undefined before the store is open. */
  readonly ioStats: IoStats | undefined;
  /** Creates the vhost if it does not exist (and stores the definitions). */
  addVhost(name: string): VirtualHost;
  /** Calls back once the definitions changed so far are on disk (a reply to a change waits for it). */
  whenDefinitionsStored(callback: () => void): void;
  /** Runs `change` (e.g. an import) and stores the definitions it changed once, not once per item. */
  batchDefinitionChanges<T>(change: () => T): T;
  /** Closes its connections, deletes its queues and permissions; false if there was none. */
  deleteVhost(name: string): boolean;
  /** Firehose tracing on or off for a vhost name (which, as in RabbitMQ, need not exist yet). */
  setTracing(vhost: string, on: boolean): void;
  /** The memory alarm's threshold, changed at run time: a fraction of RAM or bytes. */
  setMemoryHighWatermark(limit: { fraction: number } | { bytes: number }): void;
  /** The disk alarm's threshold, changed at run time: bytes or a multiple of RAM. */
  setDiskFreeLimit(limit: { bytes: number } | { memRelative: number }): void;
  /** The cluster's name (`rabbitmqctl set_cluster_name`, PUT /api/cluster-name), kept in the definitions. */
  setClusterName(name: string): void;
  /** Global parameters set over the API beside cluster_name and internal_cluster_id (kept with the definitions). */
  readonly customGlobalParameters: ReadonlyMap<string, JsonValue>;
  /** Sets one (cluster_name renames the cluster). */
  setGlobalParameter(name: string, value: JsonValue): void;
  /** False when there was none of that name. */
  clearGlobalParameter(name: string): boolean;
  /** What rabbitmq-diagnostics reports beside /api/nodes (status, listeners, environment). */
  diagnostics(): NodeDiagnostics;
}

/** A listener as rabbitmq-diagnostics lists it; protocol in RabbitMQ's words (amqp, amqp/ssl, http, https, stream, http/prometheus). */
export interface ListenerInfo {
  protocol: string;
  host: string;
  port: number;
}

export interface NodeDiagnostics {
  /** Every bound listener: AMQP, AMQPS, management, Prometheus, stream. */
  listeners: ListenerInfo[];
  /** The memory alarm's threshold as it was set: a fraction of RAM, or bytes. */
  memoryHighWatermark: { relative: number } | { absolute: number };
  /** Configuration files read at start (--config). */
  configFiles: string[];
  /** Where log lines go ("<stdout>" for the console). */
  logFiles: string[];
  /** The effective settings (secrets included: the route redacts them). */
  settings: Record<string, unknown>;
}
