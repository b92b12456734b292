/**
 * Broker settings with their defaults; the CLI fills them from flags, WARREN_* environment
 * variables and an optional JSON config file, embedders pass them to Broker.start().
 */
import { totalmem } from 'node:os';
import { resolve } from 'node:path';
import type { ClusterStatusSource } from './cluster-status.js';
import type { Logger, LogLevel } from './logger.js';
import type { DataDirChanges } from './data-dir-changes.js';
import { DUAL_STACK_HOST } from './net/listen.js';
import type { TlsOptions } from './tls/tls-options.js';

/** An address to listen on (rabbitmq.conf `listeners.tcp.N = [ip:]port`). */
export interface ListenAddress {
  host: string;
  port: number;
}

/** SASL mechanisms Warren implements (rabbitmq.conf `auth_mechanisms.N`). */
export type AuthMechanism = 'PLAIN' | 'AMQPLAIN' | 'EXTERNAL';

/** Peer discovery through etcd (rabbitmq.conf `cluster_formation.*`): what src/cluster/ needs to form a cluster. */
export interface ClusterFormationOptions {
  /** cluster_formation.peer_discovery_backend: 'etcd' (also written rabbit_peer_discovery_etcd) forms a cluster; classic_config is a single node. */
  peerDiscoveryBackend?: 'etcd' | 'classic_config';
  /** etcd endpoints as host:port (cluster_formation.etcd.endpoints.N, or .host + .port). */
  etcdEndpoints?: string[];
  /** cluster_formation.etcd.cluster_name. */
  etcdClusterName?: string;
  /** cluster_formation.etcd.key_prefix (RabbitMQ's default: rabbitmq). */
  etcdKeyPrefix?: string;
  /** TLS to etcd: cluster_formation.etcd.scheme = https (or https:// endpoints), or any of these ssl_options. */
  etcdTls?: EtcdTlsFiles;
  /** Any other cluster_formation.* key, verbatim, for the clustering implementation to pick up. */
  other?: Record<string, string>;
}

/** cluster_formation.etcd.scheme and .ssl_options.* as RabbitMQ's etcd peer discovery names them. */
export interface EtcdTlsFiles {
  scheme?: 'http' | 'https';
  /** PEM file of the CA that signed etcd's certificate (.cacertfile). */
  cacertfile?: string;
  /** This node's client certificate and key, PEM (.certfile, .keyfile), for etcd's --client-cert-auth. */
  certfile?: string;
  keyfile?: string;
  /** .verify: verify_peer (default) checks etcd's certificate, verify_none does not. */
  verify?: 'verify_peer' | 'verify_none';
  /** .server_name_indication: the name etcd's certificate must carry, when it is not the endpoint's host. */
  serverNameIndication?: string;
}

/** Log levels as Warren names them; rabbitmq.conf's warning/critical/none become warn/error/silent. */
export type LogThreshold = LogLevel | 'silent';

export interface BrokerOptions {
  /** AMQP port; 0 picks a free one (read it back from broker.port). Default 5672. */
  port?: number;
  /** Address to listen on. Default `::` (IPv6 and IPv4; 0.0.0.0 where the machine has no IPv6). */
  host?: string;
  /** Where durable definitions and messages live. Default ./data. */
  dataDir?: string;
  /** Management HTTP API port; 0 disables it. Default 15672. */
  managementPort?: number;
  /** Management HTTP bind address. Default: same as host. */
  managementHost?: string;
  /** Heartbeat the server proposes, seconds. Default 60. */
  heartbeat?: number;
  frameMax?: number;
  channelMax?: number;
  maxConnections?: number;
  maxMessageSize?: number;
  /** User created on first start (when no users exist). Default guest/guest. */
  defaultUser?: string;
  defaultPass?: string;
  defaultVhost?: string;
  /** Users that may only log in from loopback. Default ['guest']. */
  loopbackUsers?: string[];
  /** Memory high watermark: a fraction of RAM (≤ 1) or bytes. Default 0.4. */
  memoryHighWatermark?: number;
  /** Disk free limit in bytes. Default 50 MB. */
  diskFreeLimit?: number;
  logLevel?: LogLevel | 'silent';
  logger?: Logger;

  /** More AMQP listeners beside port/host (rabbitmq.conf listeners.tcp.N after the first). */
  extraListeners?: ListenAddress[];
  /** AMQPS listeners (listeners.ssl.N); they need `tls`. Port 0 picks a free one (read broker.tlsPort). */
  tlsListeners?: ListenAddress[];
  /** Certificate, key, CA and peer verification for the AMQPS listeners (ssl_options.*). */
  tls?: TlsOptions;
  /** SASL mechanisms offered, in order (auth_mechanisms.N). Default PLAIN, AMQPLAIN. EXTERNAL is offered only to TLS clients that sent a certificate. */
  authMechanisms?: AuthMechanism[];
  /** Which part of the client certificate names the user for EXTERNAL (ssl_cert_login_from). Default distinguished_name, as RabbitMQ. */
  sslCertLoginFrom?: 'common_name' | 'distinguished_name';
  /** Tags of the default user created on first start (default_user_tags.*). Default ['administrator']. */
  defaultUserTags?: string[];
  /** Serve the management API on managementPort over HTTPS with these settings (management.ssl.*). */
  managementTls?: TlsOptions;
  /** Prometheus metrics port; 0 disables it. Default 15692 (prometheus.tcp.port). */
  prometheusPort?: number;
  /** Prometheus bind address (prometheus.tcp.ip). Default: same as host. */
  prometheusHost?: string;
  /** Serve Prometheus metrics on prometheusPort over HTTPS with these settings (prometheus.ssl.*). */
  prometheusTls?: TlsOptions;
  /**
   * RabbitMQ stream protocol port (stream.listeners.tcp.default); 0 disables it. Default 5552; left at
   * the default and taken by another process, the broker starts without it (with a warning).
   */
  streamPort?: number;
  /** Stream listener bind address. Default: same as host. */
  streamHost?: string;
  /** Host stream clients are told to connect to (stream.advertised_host). */
  streamAdvertisedHost?: string;
  /** Port stream clients are told to connect to (stream.advertised_port). */
  streamAdvertisedPort?: number;
  /** Stream protocol over TLS (stream.listeners.ssl.default), with the AMQPS settings `tls` (ssl_options). */
  streamTlsPort?: number;
  /** Port TLS stream clients are told to connect to (stream.advertised_tls_port). Default: the bound TLS port. */
  streamAdvertisedTlsPort?: number;
  /** A delivery not acknowledged within this many ms closes its channel (consumer_timeout). Default: RabbitMQ's 30 minutes. */
  consumerTimeout?: number;
  /** Log to stdout (log.console). */
  logConsole?: boolean;
  /** Threshold of console logs (log.console.level). */
  logConsoleLevel?: LogThreshold;
  /** Also log to this file (log.file; rabbitmq.conf `log.file = false` leaves it unset). */
  logFile?: string;
  /** Threshold of file logs (log.file.level). */
  logFileLevel?: LogThreshold;
  /** Log line format (log.console.formatter / log.file.formatter). */
  logFormatter?: 'json' | 'plaintext';
  /** The cluster's name as reported to clients and the management API (cluster_name). */
  clusterName?: string;
  /** Peer discovery settings (cluster_formation.*). */
  clusterFormation?: ClusterFormationOptions;
  /** Port for node-to-node traffic (replication), Warren's cluster.listener.port (RabbitMQ's distribution.listener.port_range.min is read as the same). */
  clusterListenerPort?: number;
  /** Host other nodes (and followers' proxies) reach this node at (Warren's cluster.advertised_host). Default: the AMQP listen address, or the host name when that is a wildcard. */
  clusterAdvertisedHost?: string;
  /** This node's name (--node-name, e.g. warren-1), reported by management and metrics; process-wide (one process is one node). Default warren@<host name>. */
  nodeName?: string;
  /** Set by a cluster node on the broker it runs as leader: every member's state, for /api/nodes and the metrics. */
  cluster?: ClusterStatusSource;
  /**
   * Set by a cluster node on the broker it runs as leader: AMQP connections may start with a PROXY
   * protocol v1 header (followers forward clients with one); it is honoured only from addresses this
   * says are cluster members (src/net/proxy-header.ts).
   */
  proxyHeaderFrom?: (address: string) => boolean;
  /** An AMQP client must finish connection.open within this many ms of connecting (handshake_timeout). Default 10000. */
  handshakeTimeout?: number;
  /** Failed logins per minute from one source address above which its refusals are delayed. Default 10; 0 disables the slow-down. */
  loginFailureLimit?: number;
  /** Cluster leader: the data dir's change feed and durability gate (ReplicationLeader.changes); absent on a single node. */
  replication?: DataDirChanges;
  /** The configuration files these options were read from (the CLI's --config), for status reports. */
  configFiles?: string[];
}

/** Options that always have a value once resolved; the others stay optional (absent = feature off or default). */
type DefaultedKeys =
  | 'port' | 'host' | 'dataDir' | 'managementPort' | 'heartbeat' | 'frameMax' | 'channelMax' | 'maxConnections'
  | 'maxMessageSize' | 'defaultUser' | 'defaultPass' | 'defaultVhost' | 'loopbackUsers' | 'diskFreeLimit' | 'logLevel'
  | 'extraListeners' | 'tlsListeners' | 'authMechanisms' | 'sslCertLoginFrom' | 'defaultUserTags' | 'loginFailureLimit'
  | 'handshakeTimeout' | 'prometheusPort';

export type ResolvedOptions = Required<Pick<BrokerOptions, DefaultedKeys>> &
  Omit<BrokerOptions, DefaultedKeys | 'logger' | 'managementHost' | 'prometheusHost' | 'memoryHighWatermark'> & {
  managementHost: string;
  prometheusHost: string;
  /** Bytes. */
  memoryHighWatermark: number;
};

export const DEFAULTS = {
  port: 5672,
  host: DUAL_STACK_HOST,
  dataDir: './data',
  managementPort: 15672,
  heartbeat: 60,
  frameMax: 131072,
  channelMax: 2047,
  maxConnections: 100_000,
  maxMessageSize: 128 * 1024 * 1024,
  defaultUser: 'guest',
  defaultPass: 'guest',
  defaultVhost: '/',
  memoryHighWatermark: 0.4,
  diskFreeLimit: 50_000_000,
  logLevel: 'info' as LogLevel,
  authMechanisms: ['PLAIN', 'AMQPLAIN'] as AuthMechanism[],
  sslCertLoginFrom: 'distinguished_name' as const,
  loginFailureLimit: 10,
  prometheusPort: 15692,
  streamPort: 5552,
};

export function resolveOptions(o: BrokerOptions): ResolvedOptions {
  const wm = o.memoryHighWatermark ?? DEFAULTS.memoryHighWatermark;
  const host = o.host ?? DEFAULTS.host;
  const { logger: _logger, ...rest } = o;
  return {
    ...rest,
    port: o.port ?? DEFAULTS.port,
    host,
    dataDir: resolve(o.dataDir ?? DEFAULTS.dataDir),
    managementPort: o.managementPort ?? DEFAULTS.managementPort,
    managementHost: o.managementHost ?? host,
    prometheusPort: o.prometheusPort ?? DEFAULTS.prometheusPort,
    prometheusHost: o.prometheusHost ?? host,
    heartbeat: o.heartbeat ?? DEFAULTS.heartbeat,
    frameMax: o.frameMax ?? DEFAULTS.frameMax,
    channelMax: o.channelMax ?? DEFAULTS.channelMax,
    maxConnections: o.maxConnections ?? DEFAULTS.maxConnections,
    maxMessageSize: o.maxMessageSize ?? DEFAULTS.maxMessageSize,
    defaultUser: o.defaultUser ?? DEFAULTS.defaultUser,
    defaultPass: o.defaultPass ?? DEFAULTS.defaultPass,
    defaultVhost: o.defaultVhost ?? DEFAULTS.defaultVhost,
    loopbackUsers: o.loopbackUsers ?? ['guest'],
    memoryHighWatermark: wm <= 1 ? Math.floor(totalmem() * wm) : wm,
    diskFreeLimit: o.diskFreeLimit ?? DEFAULTS.diskFreeLimit,
    logLevel: o.logLevel ?? DEFAULTS.logLevel,
    extraListeners: o.extraListeners ?? [],
    tlsListeners: o.tlsListeners ?? [],
    authMechanisms: o.authMechanisms ?? DEFAULTS.authMechanisms,
    sslCertLoginFrom: o.sslCertLoginFrom ?? DEFAULTS.sslCertLoginFrom,
    defaultUserTags: o.defaultUserTags ?? ['administrator'],
    loginFailureLimit: o.loginFailureLimit ?? DEFAULTS.loginFailureLimit,
    handshakeTimeout: o.handshakeTimeout ?? 10_000,
  };
}
