/**
 * The assembly: wires the TCP listener, connections, the store, vhosts, users and the management
 * API into one broker, which is what embedders start: `const broker = await Broker.start({ port: 0 })`.
 * The domain (broker/), the connection layer and management each see only the interface they need
 * (BrokerContext, VirtualHostStorage, ManagedBroker); nothing below imports this file.
 */
import type { Socket } from 'node:net';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AmqpListeners } from './amqp-listeners.js';
import { adoptProxiedPeer, takeProxyHeader } from './net/proxy-header.js';
import { LoginService, isLoopback, type LoginOutcome } from './auth/login.js';
import { hostname } from 'node:os';
import { UserStore, type User } from './auth/users.js';
import type { MessageList } from './broker/message-list.js';
import { PriorityMessageList } from './broker/priority-message-list.js';
import { ResourceAlarms } from './broker/resource-alarms.js';
import { VirtualHost, memoryStorage, type DefinitionChange, type VirtualHostStorage } from './broker/vhost.js';
import { DEFAULTS, resolveOptions, type BrokerOptions, type ListenAddress, type ResolvedOptions } from './config.js';
import type { BrokerContext, BrokerLimits } from './connection/broker-context.js';
import type { DataDirChanges } from './data-dir-changes.js';
import { Connection } from './connection/connection.js';
import { createLogging, type Logger, type Logging } from './logger.js';
import { definitionRecords, exportDefinitions, importDefinitions, type SkippedDefinition } from './management/definitions.js';
import type { ListenerInfo, ManagedBroker, NodeDiagnostics } from './management/managed-broker.js';
import { ManagementServer } from './management/server.js';
import { StreamManager } from './stream/stream-manager.js';
import { StreamServer } from './stream/stream-server.js';
import type { StreamConnection } from './stream/stream-connection.js';
import { createStreamBridge } from './stream-bridge.js';
import type { FieldTable } from './protocol/field-table.js';
import { brokerShutdown, vhostDeleted } from './protocol/errors.js';
import { MessageStore, DefinitionsStore, crc32 } from './store/index.js';
import type { JsonValue } from './store/definitions.js';
import { RABBITMQ_VERSION, VERSION } from './version.js';
import { DEFAULT_CONSUMER_TIMEOUT_MS } from './connection/consumer-timeout.js';
import { NodeCounters } from './metrics/counters.js';
import { PrometheusServer } from './metrics/prometheus-server.js';
import { NODE_NAME } from './metrics/node-stats.js';
import type { IoStats } from './metrics/source.js';
import { setNodeName } from './node-name.js';
import { Firehose } from './broker/firehose.js';
import { totalmem } from 'node:os';
import { tlsServerOptions } from './tls/tls-options.js';

const NO_STREAM_CONNECTIONS: ReadonlySet<StreamConnection> = new Set();
/** How often a definitions snapshot is tried again after the log's sync and a save both failed. */
const DEFINITIONS_RETRY_MS = 1000;

export class Broker implements BrokerContext, ManagedBroker {
  readonly options: ResolvedOptions;
  readonly config: BrokerLimits;
  readonly log: Logger;
  private readonly logging: Logging;
  readonly vhosts = new Map<string, VirtualHost>();
  readonly users = new UserStore();
  readonly connections = new Set<Connection>();
  readonly startedAt = Date.now();
  private listeners: AmqpListeners | undefined;
  private readonly sockets = new Set<Socket>();
  readonly alarms: ResourceAlarms;
  /** Login checks and failed-login accounting (RabbitMQ's auth attempts). */
  readonly logins: LoginService;
  private storage: VirtualHostStorage = memoryStorage;
  private messageStore: MessageStore | undefined;
  private definitionsStore: DefinitionsStore | undefined;
  /** While restoring definitions at start-up, changes are not written back. */
  private restoring = false;
  port = 0;
  /** Port of the first AMQPS listener (0 when there is none). */
  tlsPort = 0;
  get tlsListeners(): ListenAddress[] {
    return this.listeners?.tlsAddresses ?? [];
  }
  /** The management HTTP API (when managementPort > 0) and the port it listens on. */
  management: ManagementServer | undefined;
  managementPort = 0;
  /** The Prometheus endpoint (when prometheusPort > 0) and the port it listens on. */
  prometheus: PrometheusServer | undefined;
  prometheusPort = 0;
  readonly counters = new NodeCounters();
  /** Streams (x-queue-type stream and the stream protocol's), and the stream protocol listener. */
  readonly streams: StreamManager;
  streamServer: StreamServer | undefined;

  get streamConnections(): ReadonlySet<StreamConnection> {
    return this.streamServer?.connections ?? NO_STREAM_CONNECTIONS;
  }
  streamPort = 0;
  private closing = false;
  /** The memory threshold as configured or last set (status reports it as given, not only in bytes). */
  private memoryHighWatermarkSetting: { relative: number } | { absolute: number };

  private constructor(options: BrokerOptions) {
    // One process is one node: its name (warren --node-name) is what management and metrics report.
    if (options.nodeName !== undefined) setNodeName(options.nodeName);
    this.options = resolveOptions(options);
    const wm = options.memoryHighWatermark ?? DEFAULTS.memoryHighWatermark;
    this.memoryHighWatermarkSetting = wm <= 1 ? { relative: wm } : { absolute: wm };
    this.logging = createLogging(options);
    this.log = this.logging.log;
    this.config = {
      frameMax: this.options.frameMax,
      channelMax: this.options.channelMax,
      heartbeat: this.options.heartbeat,
      handshakeTimeoutMs: this.options.handshakeTimeout,
      maxMessageSize: this.options.maxMessageSize,
      consumerTimeoutMs: this.options.consumerTimeout ?? DEFAULT_CONSUMER_TIMEOUT_MS,
    };
    this.logins = new LoginService(this.users, this.options, this.log);
    this.streams = new StreamManager(this.options.dataDir, crc32, this.options.replication);
    this.alarms = new ResourceAlarms(this.options, this.log, (active, reason) => {
      for (const c of this.connections) if (c.isPublisher) c.setAlarm(active, reason);
    }, () => this.messagesMoved());
  }

  /** Grows whenever clients exchange messages, over AMQP or the stream protocol (the reclaimer's sign of traffic). */
  private messagesMoved(): number {
    let appended = 0;
    for (const s of this.streams.list()) appended += s.log.appendedEnd;
    return this.counters.messagesMoved + appended;
  }

  static async start(options: BrokerOptions = {}): Promise<Broker> {
    const broker = new Broker(options);
    await broker.listen();
    return broker;
  }

  get alarmActive(): boolean {
    return this.alarms.active;
  }

  get alarmReason(): string {
    return this.alarms.reason;
  }

  /** Cluster leader: the data dir's change feed, whose gate definition replies wait on. */
  get replication(): DataDirChanges | undefined {
    return this.options.replication;
  }

  private async listen(): Promise<void> {
    // Certificates first: a missing file or a mismatched key must stop start-up before the data dir is touched.
    for (const tls of [this.options.tls, this.options.managementTls, this.options.prometheusTls]) if (tls) tlsServerOptions(tls);
    await this.openStorage();
    try {
      this.setupDefaults();
      this.saveDefinitionsAtStart();
      this.listeners = await AmqpListeners.start(this.options, this.log, (socket) => this.accept(socket));
      this.port = this.listeners.tcpPorts[0]!;
      this.tlsPort = this.listeners.tlsAddresses[0]?.port ?? 0;
      if (this.options.managementPort > 0) {
        const tls = this.options.managementTls;
        this.management = await ManagementServer.start(this, { port: this.options.managementPort, host: this.options.managementHost, ...(tls ? { tls } : {}) });
        this.managementPort = this.management.port;
        this.log('info', 'management listening', { port: this.managementPort, host: this.options.managementHost, tls: tls !== undefined });
      }
      if (this.options.prometheusPort > 0) {
        const tls = this.options.prometheusTls;
        this.prometheus = await PrometheusServer.start(this, { port: this.options.prometheusPort, host: this.options.prometheusHost, ...(tls ? { tls: tlsServerOptions(tls) } : {}) });
        this.prometheusPort = this.prometheus.port;
        this.log('info', 'prometheus listening', { port: this.prometheusPort, host: this.options.prometheusHost });
      }
    } catch (e) {
      // E.g. a port is taken: release everything so nothing is left half-started and a retry can start cleanly.
      await this.listeners?.close();
      await this.management?.close();
      this.messageStore?.close();
      this.definitionsStore?.close();
      throw e;
    }
    this.alarms.start();
    for (const a of this.listeners.tlsAddresses) this.log('info', 'AMQPS listening', { port: a.port, host: a.host });
    await this.startStreamListener();
    // Logged last: tools wait for this line, so everything (management included) is up when it appears.
    this.log('info', 'listening', { port: this.port, host: this.options.host, managementPort: this.managementPort, ...(this.tlsPort ? { tlsPort: this.tlsPort } : {}), version: VERSION });
  }

  /** The message store's I/O counters, for the Prometheus rabbitmq_io_* families. */
  get ioStats(): IoStats | undefined {
    return this.messageStore?.persister.stats;
  }

  /**
   * Re-reads every TLS certificate, key and CA file (SIGHUP). New handshakes use them; open
   * connections are not touched. A bad file throws and leaves the previous certificates in place.
   */
  reloadTls(): void {
    const prometheusTls = this.options.prometheusTls && tlsServerOptions(this.options.prometheusTls);
    for (const tls of [this.options.tls, this.options.managementTls]) if (tls) tlsServerOptions(tls);
    this.listeners?.reloadTls();
    this.streamServer?.reloadTls();
    this.management?.reloadTls();
    if (prometheusTls) this.prometheus?.reloadTls(prometheusTls);
    this.log('info', 'TLS certificates reloaded', {});
  }

  /**
   * The stream protocol listener. An explicit streamPort must bind; the default (5552) is skipped with
   * a warning when taken, so embedded brokers and tests never fail on a port they did not ask for.
   */
  private async startStreamListener(): Promise<void> {
    const explicit = this.options.streamPort;
    const port = explicit ?? 5552;
    if (port === 0) return;
    const host = this.options.streamHost ?? this.options.host;
    const bridge = createStreamBridge({
      users: this.users,
      vhosts: this.vhosts,
      log: this.log,
      authenticate: (u, p, addr) => this.authenticate(u, p, addr),
      saslMechanisms: (socket) => this.saslMechanisms(socket),
      externalUser: (socket) => this.login('EXTERNAL', Buffer.alloc(0), socket).user,
      isLoopbackOnly: (u, addr) => this.options.loopbackUsers.includes(u) && !isLoopback(addr),
      whenDefinitionsStored: (callback) => this.whenDefinitionsStored(callback),
    }, this.streams, {
      advertisedHost: this.options.streamAdvertisedHost ?? (host === '0.0.0.0' || host === '::' ? hostname() : host),
      advertisedPort: this.options.streamAdvertisedPort ?? port,
      advertisedTlsPort: this.options.streamAdvertisedTlsPort ?? this.options.streamTlsPort ?? 0,
      frameMax: 1_048_576,
      heartbeat: this.options.heartbeat,
      serverVersion: RABBITMQ_VERSION,
    });
    const tlsPort = this.options.streamTlsPort;
    if (tlsPort !== undefined && !this.options.tls) throw new Error('stream.listeners.ssl needs TLS settings (ssl_options.certfile and keyfile)');
    try {
      const tls = tlsPort !== undefined ? { settings: this.options.tls!, port: tlsPort, log: this.log } : undefined;
      this.streamServer = await StreamServer.start(bridge, port, host, tls);
    } catch (e) {
      if (explicit !== undefined || tlsPort !== undefined) {
        await this.close();
        throw e;
      }
      this.log('warn', 'stream listener not started: default port taken', { port, error: String(e) });
      return;
    }
    this.streamPort = this.streamServer.port;
    if (this.options.streamAdvertisedPort === undefined) bridge.advertisedPort = this.streamPort;
    if (this.options.streamAdvertisedTlsPort === undefined) bridge.advertisedTlsPort = this.streamServer.tlsPort;
    this.log('info', 'stream listening', { port: this.streamPort, host, ...(tlsPort !== undefined ? { tlsPort: this.streamServer.tlsPort } : {}) });
  }

  /** Recover durable queues' messages and the definitions from the data dir. */
  private async openStorage(): Promise<void> {
    const dataDir = this.options.dataDir;
    mkdirSync(dataDir, { recursive: true });
    const started = Date.now();
    const replication = this.options.replication;
    const store = new MessageStore(dataDir, { logger: this.log, onDiskWrite: (bytes) => this.alarms.noteDiskWrite(bytes), replication });
    this.messageStore = store;
    this.definitionsStore = new DefinitionsStore(dataDir, undefined, replication);
    this.definitionsStore.onSyncFailed = (err) => this.definitionsSyncFailed(err);
    store.syncsWith(this.definitionsStore);
    const recovered = await store.open();
    const streams = this.streams.recover();
    this.storage = {
      createMessageList: (vhost, queue, durable, keepsEveryMessage) => {
        if (!durable) return store.createTransient(vhost, queue);
        const list = store.create(vhost, queue);
        if (keepsEveryMessage) list.persistAll = true;
        return list;
      },
      hasStoredList: (vhost, queue) => store.has(vhost, queue),
      definitionsChanged: (changes) => this.saveDefinitions(changes),
      openStream: (vhost, name, args) => this.streams.get(vhost, name) ?? this.streams.create(vhost, name, args as Record<string, unknown>),
      deleteStream: (vhost, name) => void this.streams.delete(vhost, name),
    };
    this.users.onChange = () => this.saveDefinitions();
    const defs = this.definitionsStore.load();
    if (this.definitionsStore.ignoredLog) {
      this.log('warn', 'definitions log ignored: it follows an older definitions.json (a crash while a new one was saved, or the file edited after a crash)', { file: this.definitionsStore.logFile });
    }
    const skipped: SkippedDefinition[] = [];
    if (defs) {
      this.restoring = true;
      try {
        // Durable queues declared here pick up their recovered message lists through store.create().
        importDefinitions(this, defs, { onSkipped: (s) => skipped.push(s) });
      } finally {
        this.restoring = false;
      }
    }
    const keptQueues = this.quarantine(skipped);
    // Message files whose queue is gone from the definitions (deleted before a crash) are removed;
    // those of a queue whose definition could not be restored are kept for the operator.
    let messages = 0;
    const inUse = new Set<MessageList>();
    for (const v of this.vhosts.values()) {
      for (const l of v.exchangeLists()) inUse.add(l);
      for (const q of v.queues.values()) {
        // A priority queue keeps one list per priority level.
        for (const l of q.messages instanceof PriorityMessageList ? q.messages.levelLists() : [q.messages]) inUse.add(l);
      }
    }
    for (const [, lists] of recovered) {
      for (const [queue, list] of lists) {
        if (inUse.has(list)) messages += list.length;
        // A priority level's list is stored as "<queue>\0priority N": the queue name comes first.
        else if (!keptQueues.has(`${list.vhost}\0${queue.split('\0')[0]}`)) store.delete(list.vhost, queue);
      }
    }
    // Likewise a stream whose queue is not in the definitions (deleted, or declared just before a crash).
    for (const st of streams) if (!this.vhosts.get(st.vhost)?.queues.has(st.name)) this.streams.delete(st.vhost, st.name);
    this.log('info', 'storage recovered', { dataDir, queues: defs?.queues?.length ?? 0, messages, streams: this.streams.list().length, ms: Date.now() - started });
  }

  /**
   * Stored definitions that could not be restored are logged and written to a file of their own
   * (the next save of definitions.json no longer holds them, so this keeps them for the operator,
   * who can fix and import it). Returns the vhost\0name keys of queues among them.
   */
  private quarantine(skipped: SkippedDefinition[]): Set<string> {
    const queues = new Set<string>();
    if (skipped.length === 0) return queues;
    const file = join(this.options.dataDir, `definitions-skipped-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
    for (const s of skipped) {
      this.log('error', 'stored definition skipped at start-up', { kind: s.kind, reason: s.reason, item: JSON.stringify(s.item), file });
      const item = s.item as { vhost?: unknown; name?: unknown } | null;
      if (s.kind === 'queues' && typeof item?.vhost === 'string' && typeof item.name === 'string') queues.add(`${item.vhost}\0${item.name}`);
    }
    const doc: Record<string, unknown[]> = {};
    for (const s of skipped) (doc[s.kind] ??= []).push(s.item);
    writeFileSync(file, `${JSON.stringify({ ...doc, skipped_reasons: skipped.map((s) => s.reason) }, null, 2)}\n`);
    return queues;
  }

  /**
   * Queue, exchange and binding `changes` become lines appended to the definitions log, made
   * durable by its own group commit (one fdatasync for every change made meanwhile, on any
   * connection, off the event loop; the message store's rounds wait for it); whoever answers for
   * them waits for it (whenDefinitionsStored). Anything else (and a log grown past the snapshot)
   * is saved at once as a new snapshot of the whole document.
   */
  saveDefinitions(changes?: readonly DefinitionChange[]): void {
    if (this.restoring || !this.definitionsStore) return;
    if (this.definitionsBatch > 0) {
      this.definitionsBatchChanged = true;
      return;
    }
    const store = this.definitionsStore;
    if (changes && store.canAppend) {
      const records = definitionRecords(changes);
      if (records.length === 0) return;
      const snapshotDue = store.append(records, false);
      this.definitionsWritten++;
      // Synced whether or not anyone waits (a nowait declare, an expiry): lines never linger unsynced.
      store.whenSynced(() => {});
      if (!snapshotDue) return;
    }
    store.save(exportDefinitions(this, { durableOnly: true }));
    this.definitionsWritten++;
  }

  /** Definition changes saved so far: a reply waits (whenDefinitionsStored) if its method made one. */
  definitionsWritten = 0;

  private definitionsRetry: NodeJS.Timeout | undefined;

  /**
   * The definitions log's fdatasync failed: whoever waits for its lines (a declare-ok, a management
   * reply) is answered once a snapshot holds them. Saved now, and again every
   * DEFINITIONS_RETRY_MS while that fails too (a full disk): the replies wait, none is lost.
   */
  private definitionsSyncFailed(err: Error): void {
    if (this.definitionsRetry) return;
    this.log('warn', 'definitions log not synced to disk; saving definitions.json instead', { error: String(err) });
    const attempt = (): void => {
      this.definitionsRetry = undefined;
      if (this.closing || !this.definitionsStore) return;
      try {
        this.definitionsStore.save(exportDefinitions(this, { durableOnly: true }));
        this.definitionsWritten++;
      } catch (e) {
        this.log('warn', 'definitions.json not saved; retrying', { error: String(e), retryMs: DEFINITIONS_RETRY_MS });
        this.definitionsRetry = setTimeout(attempt, DEFINITIONS_RETRY_MS);
        this.definitionsRetry.unref();
      }
    };
    this.definitionsRetry = setTimeout(attempt, 0);
    this.definitionsRetry.unref();
  }

  /** Calls back once every definition change saved so far is on disk (at once if none waits). */
  whenDefinitionsStored(callback: () => void): void {
    if (this.definitionsStore) this.definitionsStore.whenSynced(callback);
    else callback();
  }

  private definitionsBatch = 0;
  private definitionsBatchChanged = false;

  /** Runs `change` (an import, a vhost's deletion) and saves what it changed once, as one snapshot. */
  batchDefinitionChanges<T>(change: () => T): T {
    this.definitionsBatch++;
    try {
      return change();
    } finally {
      if (--this.definitionsBatch === 0 && this.definitionsBatchChanged) {
        this.definitionsBatchChanged = false;
        this.saveDefinitions();
      }
    }
  }

  /** A clean stop leaves everything in definitions.json (on a full disk the log keeps holding it). */
  private closeDefinitions(): void {
    try {
      this.definitionsStore?.close(exportDefinitions(this, { durableOnly: true }));
    } catch (e) {
      this.log('warn', 'definitions log not folded into definitions.json at stop', { error: String(e) });
    }
  }

  /**
   * Start-up saves what it restored when that differs from the files (definitions it could not
   * restore drop out; a log is folded into the snapshot). On a full disk that waits for the next
   * change: the files already hold everything restored, and the broker must start to drain the disk.
   */
  private saveDefinitionsAtStart(): void {
    try {
      this.saveDefinitions();
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'ENOSPC' && code !== 'EDQUOT') throw e;
      this.log('warn', 'definitions not rewritten at start-up: disk full', { error: String(e) });
    }
  }

  private setupDefaults(): void {
    if (this.vhosts.size === 0) this.addVhost(this.options.defaultVhost);
    if (this.users.users.size === 0) {
      this.users.addUser(this.options.defaultUser, this.options.defaultPass, this.options.defaultUserTags);
      this.users.setPermission(this.options.defaultVhost, this.options.defaultUser, { configure: '.*', write: '.*', read: '.*' });
    }
  }

  /** Vhost names with firehose tracing on; like RabbitMQ's trace_vhosts, kept in memory only. */
  private readonly tracedVhosts = new Set<string>();

  setTracing(name: string, on: boolean): void {
    if (on) this.tracedVhosts.add(name);
    else this.tracedVhosts.delete(name);
    const vhost = this.vhosts.get(name);
    if (vhost) vhost.firehose = on ? (vhost.firehose ?? new Firehose(vhost, NODE_NAME)) : undefined;
    this.log('info', on ? 'tracing enabled' : 'tracing disabled', { vhost: name });
  }

  setClusterName(name: string): void {
    this.options.clusterName = name;
    this.saveDefinitions();
  }

  readonly customGlobalParameters = new Map<string, JsonValue>();

  setGlobalParameter(name: string, value: JsonValue): void {
    if (name === 'cluster_name' && typeof value === 'string') return this.setClusterName(value);
    // internal_cluster_id is derived from the data dir and never stored.
    if (name === 'internal_cluster_id') return;
    this.customGlobalParameters.set(name, value);
    this.saveDefinitions();
  }

  clearGlobalParameter(name: string): boolean {
    if (!this.customGlobalParameters.delete(name)) return false;
    this.saveDefinitions();
    return true;
  }

  setMemoryHighWatermark(limit: { fraction: number } | { bytes: number }): void {
    this.memoryHighWatermarkSetting = 'bytes' in limit ? { absolute: limit.bytes } : { relative: limit.fraction };
    this.alarms.setMemoryHighWatermark('bytes' in limit ? limit.bytes : Math.floor(totalmem() * limit.fraction));
  }

  diagnostics(): NodeDiagnostics {
    const o = this.options;
    const listeners: ListenerInfo[] = [
      ...[o.host, ...o.extraListeners.map((a) => a.host)].map((host, i) => ({ protocol: 'amqp', host, port: this.listeners?.tcpPorts[i] ?? 0 })),
      ...this.tlsListeners.map((a) => ({ protocol: 'amqp/ssl', ...a })),
    ];
    if (this.managementPort > 0) listeners.push({ protocol: o.managementTls ? 'https' : 'http', host: o.managementHost, port: this.managementPort });
    if (this.prometheusPort > 0) listeners.push({ protocol: o.prometheusTls ? 'https/prometheus' : 'http/prometheus', host: o.prometheusHost, port: this.prometheusPort });
    if (this.streamPort > 0) listeners.push({ protocol: 'stream', host: o.streamHost ?? o.host, port: this.streamPort });
    if (this.streamServer?.tlsPort) listeners.push({ protocol: 'stream/ssl', host: o.streamHost ?? o.host, port: this.streamServer.tlsPort });
    return {
      listeners,
      memoryHighWatermark: this.memoryHighWatermarkSetting,
      configFiles: o.configFiles ?? [],
      logFiles: [...(o.logFile ? [o.logFile] : []), ...(o.logConsole !== false ? ['<stdout>'] : [])],
      // The ports as bound (a configured 0 means "any free one").
      settings: { ...o, port: this.port, managementPort: this.managementPort, prometheusPort: this.prometheusPort, streamPort: this.streamPort },
    };
  }

  setDiskFreeLimit(limit: { bytes: number } | { memRelative: number }): void {
    this.alarms.setDiskFreeLimit('bytes' in limit ? limit.bytes : Math.floor(totalmem() * limit.memRelative));
  }

  addVhost(name: string): VirtualHost {
    let vhost = this.vhosts.get(name);
    if (!vhost) {
      vhost = new VirtualHost(name, this.storage, this.counters);
      if (this.tracedVhosts.has(name)) vhost.firehose = new Firehose(vhost, NODE_NAME);
      this.vhosts.set(name, vhost);
      this.saveDefinitions();
    }
    return vhost;
  }

  deleteVhost(name: string): boolean {
    const vhost = this.vhosts.get(name);
    if (!vhost) return false;
    for (const c of this.connections) if (c.vhost === vhost) c.close(vhostDeleted());
    this.batchDefinitionChanges(() => {
      for (const q of [...vhost.queues.values()]) vhost.removeQueue(q);
      this.vhosts.delete(name);
      this.users.clearVhost(name);
      this.saveDefinitions();
    });
    return true;
  }

  private accept(socket: Socket): void {
    if (this.closing) {
      socket.destroy();
      return;
    }
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    const fromMember = this.options.proxyHeaderFrom;
    if (!fromMember) {
      new Connection(socket, this, this.connections);
      return;
    }
    // A cluster leader: connections a follower forwards start with a PROXY header naming the client.
    takeProxyHeader(socket, this.config.handshakeTimeoutMs, (err, peer) => {
      if (err || socket.destroyed || this.closing) {
        if (err) this.log('warn', 'connection closed before its AMQP header', { peer: `${socket.remoteAddress}:${socket.remotePort}`, error: err.message });
        socket.destroy();
        return;
      }
      if (peer && fromMember(socket.remoteAddress ?? '')) adoptProxiedPeer(socket, peer);
      else if (peer) this.log('warn', 'PROXY header from an address that is no cluster member ignored', { peer: `${socket.remoteAddress}:${socket.remotePort}`, claimed: peer.address });
      new Connection(socket, this, this.connections);
      socket.resume();
    });
  }

  /**
   * connection.start's server properties. Product and version are RabbitMQ's, as on the stream
   * port: clients and their test suites branch on them (amqplib's asserts product 'RabbitMQ', others
   * compare the version to enable features). Warren names itself in `information` and `platform`.
   */
  serverProperties(): FieldTable {
    return {
      product: 'RabbitMQ',
      version: RABBITMQ_VERSION,
      platform: `Node.js ${process.version} (Warren ${VERSION})`,
      copyright: 'Warren contributors',
      information: `Warren ${VERSION}, a broker that speaks RabbitMQ's protocols. Licensed under the MIT license`,
      cluster_name: this.options.clusterName ?? `warren@${this.options.host}`,
      capabilities: {
        publisher_confirms: true,
        exchange_exchange_bindings: true,
        'basic.nack': true,
        consumer_cancel_notify: true,
        'connection.blocked': true,
        consumer_priorities: true,
        authentication_failure_close: true,
        per_consumer_qos: true,
        direct_reply_to: true,
      },
    };
  }

  /** Password and loopback-only check (no accounting): for embedders and tests. */
  authenticate(username: string, password: string, remoteAddress: string): User | undefined {
    return this.logins.checkPassword(username, password, remoteAddress);
  }

  saslMechanisms(socket: Socket): string[] {
    return this.logins.mechanisms(socket);
  }

  login(mechanism: string, response: Buffer, socket: Socket): LoginOutcome {
    return this.logins.login(mechanism, response, socket);
  }

  /** Reopen the log file (logrotate moved it away); the CLI calls this on SIGUSR1 and SIGHUP. */
  reopenLogs(): void {
    this.logging.reopen();
    this.log('info', 'log file reopened', {});
  }

  /**
   * Graceful stop: every client gets connection.close 320 CONNECTION_FORCED. With `reset` (a
   * cluster leader stepping down) every AMQP client socket is reset first instead: the kernel drops
   * whatever it still held for them, so nothing this node wrote reaches a client once a partition
   * heals, and a client that reaches it again gets a reset rather than an old session.
   */
  async close(o: { reset?: boolean } = {}): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    if (o.reset) for (const s of this.sockets) resetSocket(s);
    this.alarms.stop();
    clearTimeout(this.definitionsRetry);
    await this.management?.close();
    await this.prometheus?.close();
    await this.streamServer?.close();
    const closed = this.listeners?.close() ?? Promise.resolve();
    for (const c of [...this.connections]) c.close(brokerShutdown());
    // Give clients a moment to answer close-ok, then cut whatever is left.
    const deadline = Date.now() + 1000;
    while (this.connections.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    for (const s of this.sockets) s.destroy();
    await closed;
    this.closeDefinitions();
    for (const v of this.vhosts.values()) v.close();
    this.messageStore?.close();
    this.streams.close();
    this.log('info', 'stopped', {});
    this.logging.close();
  }
}

/** RST instead of FIN, dropping unsent bytes; TLS sockets (no TCP handle of their own) are destroyed. */
function resetSocket(socket: Socket): void {
  try {
    socket.resetAndDestroy();
  } catch {
    socket.destroy();
  }
}
