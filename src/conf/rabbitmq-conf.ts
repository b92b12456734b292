/**
 * rabbitmq.conf → BrokerOptions. Each key Warren implements has a handler below (the README's
 * mapping table lists the same); keys RabbitMQ knows but Warren does not implement are warnings;
 * anything else, and any bad value, is an error naming the key and its line, as RabbitMQ refuses
 * to boot on them ("Conf file attempted to set unknown variable: ...").
 */
import { totalmem } from 'node:os';
import type { AuthMechanism, BrokerOptions, ClusterFormationOptions, ListenAddress } from '../config.js';
import type { TlsOptions } from '../tls/tls-options.js';
import { checkTlsVersion } from '../tls/tls-options.js';
import { isKnownRabbitKey } from './rabbitmq-keys.js';
import { parseSysctl, type ConfEntry, type ConfProblem } from './sysctl.js';
import * as v from './values.js';
import { DUAL_STACK_HOST } from '../net/listen.js';

export interface ConfResult {
  options: BrokerOptions;
  warnings: ConfProblem[];
  errors: ConfProblem[];
}

/** RabbitMQ listens on all interfaces, IPv6 and IPv4, when a listener gives only a port. */
const ANY_HOST = DUAL_STACK_HOST;

/** Partial TLS settings gathered from ssl_options.* / management.ssl.* / prometheus.ssl.* before checking. */
type TlsDraft = Partial<Omit<TlsOptions, 'versions' | 'ciphers'>> & { versions: string[]; ciphers: string[] };

class Builder {
  readonly o: BrokerOptions = {};
  readonly warnings: ConfProblem[] = [];
  readonly errors: ConfProblem[] = [];
  tcp = new Map<string, ListenAddress>();
  tcpNone = false;
  ssl = new Map<string, ListenAddress>();
  sslOptions: TlsDraft = { versions: [], ciphers: [] };
  managementSsl: TlsDraft = { versions: [], ciphers: [] };
  prometheusSsl: TlsDraft = { versions: [], ciphers: [] };
  managementSslPort: number | undefined;
  managementSslIp: string | undefined;
  managementTcpPortLine = 0;
  prometheusSslPort: number | undefined;
  prometheusSslIp: string | undefined;
  authMechanisms: AuthMechanism[] = [];
  loopbackUsers: string[] | undefined;
  userTags: string[] | undefined;
  logDir: string | undefined;
  logFile: string | undefined;
  cluster: ClusterFormationOptions = {};
  etcdEndpoints: string[] = [];
  etcdHost: string | undefined;
  etcdPort: number | undefined;
  backendLine = 0;

  warn(e: ConfEntry, message: string): void {
    this.warnings.push({ line: e.line, message });
  }
}

type Handler = (b: Builder, value: string, key: string, e: ConfEntry) => void;

/** Handlers for ssl_options.* and its management/prometheus twins (the same words, another prefix). */
function tlsKeys(draft: (b: Builder) => TlsDraft): Array<[string, Handler]> {
  return [
    ['certfile', (b, x) => void (draft(b).certFile = x)],
    ['keyfile', (b, x) => void (draft(b).keyFile = x)],
    ['cacertfile', (b, x) => void (draft(b).caFile = x)],
    ['password', (b, x) => void (draft(b).password = x)],
    ['verify', (b, x) => void (draft(b).verifyPeer = v.oneOf(x, ['verify_peer', 'verify_none'] as const) === 'verify_peer')],
    ['fail_if_no_peer_cert', (b, x) => void (draft(b).failIfNoPeerCert = v.boolean(x))],
    ['versions.*', (b, x) => {
      const err = checkTlsVersion(x);
      if (err) throw new v.ConfValueError(err);
      draft(b).versions.push(x);
    }],
    ['ciphers.*', (b, x) => void draft(b).ciphers.push(x)],
  ];
}

const prefixed = (prefix: string, list: Array<[string, Handler]>): Array<[string, Handler]> => list.map(([k, h]) => [`${prefix}.${k}`, h]);

const HANDLERS: Array<[string, Handler]> = [
  ['listeners.tcp', (b, x) => void (b.tcpNone = v.oneOf(x, ['none'] as const) === 'none')],
  ['listeners.tcp.*', (b, x, key) => void b.tcp.set(key, v.listenAddress(x, ANY_HOST))],
  ['listeners.ssl', (_b, x) => void v.oneOf(x, ['none'] as const)],
  ['listeners.ssl.*', (b, x, key) => void b.ssl.set(key, v.listenAddress(x, ANY_HOST))],
  ...prefixed('ssl_options', tlsKeys((b) => b.sslOptions)),
  ['ssl_handshake_timeout', (b, x) => void (b.sslOptions.handshakeTimeoutMs = v.nonNegativeInteger(x))],
  ['handshake_timeout', (b, x) => void (b.o.handshakeTimeout = v.nonNegativeInteger(x))],
  ['auth_mechanisms.*', (b, x, _k, e) => {
    if (x === 'PLAIN' || x === 'AMQPLAIN' || x === 'EXTERNAL') b.authMechanisms.push(x);
    else if (x === 'RABBIT-CR-DEMO' || x === 'ANONYMOUS') b.warn(e, `auth mechanism ${x} is not implemented by Warren; ignored`);
    else throw new v.ConfValueError(`"${x}" is not a valid value, acceptable values are: PLAIN, AMQPLAIN, EXTERNAL`);
  }],
  ['ssl_cert_login_from', (b, x) => {
    const from = v.oneOf(x, ['distinguished_name', 'common_name', 'subject_alternative_name', 'subject_alt_name'] as const);
    if (from !== 'distinguished_name' && from !== 'common_name') throw new v.ConfValueError(`${x} is not implemented by Warren (use distinguished_name or common_name)`);
    b.o.sslCertLoginFrom = from;
  }],
  ['management.tcp.port', (b, x, _k, e) => {
    b.o.managementPort = v.port(x);
    b.managementTcpPortLine = e.line;
  }],
  ['management.tcp.ip', (b, x) => void (b.o.managementHost = x)],
  ['management.listener.port', (b, x) => void (b.o.managementPort = v.port(x))],
  ['management.listener.ip', (b, x) => void (b.o.managementHost = x)],
  ['management.ssl.port', (b, x) => void (b.managementSslPort = v.port(x))],
  ['management.ssl.ip', (b, x) => void (b.managementSslIp = x)],
  ...prefixed('management.ssl', tlsKeys((b) => b.managementSsl)),
  ['prometheus.tcp.port', (b, x) => void (b.o.prometheusPort = v.port(x))],
  ['prometheus.tcp.ip', (b, x) => void (b.o.prometheusHost = x)],
  ['prometheus.ssl.port', (b, x) => void (b.prometheusSslPort = v.port(x))],
  ['prometheus.ssl.ip', (b, x) => void (b.prometheusSslIp = x)],
  ...prefixed('prometheus.ssl', tlsKeys((b) => b.prometheusSsl)),
  ['stream.listeners.tcp', (b, x) => void (v.oneOf(x, ['none'] as const), (b.o.streamPort = 0))],
  ['stream.listeners.tcp.*', (b, x) => {
    const a = v.listenAddress(x, ANY_HOST);
    b.o.streamPort = a.port;
    if (a.host !== ANY_HOST) b.o.streamHost = a.host;
  }],
  ['stream.advertised_host', (b, x) => void (b.o.streamAdvertisedHost = x)],
  ['stream.advertised_port', (b, x) => void (b.o.streamAdvertisedPort = v.port(x))],
  ['stream.listeners.ssl.*', (b, x) => void (b.o.streamTlsPort = v.listenAddress(x, ANY_HOST).port)],
  ['stream.advertised_tls_port', (b, x) => void (b.o.streamAdvertisedTlsPort = v.port(x))],
  ['loopback_users', (b, x) => void (v.oneOf(x, ['none'] as const), (b.loopbackUsers = []))],
  ['loopback_users.*', (b, x, key) => {
    const user = key.slice('loopback_users.'.length);
    b.loopbackUsers ??= [];
    if (v.boolean(x)) b.loopbackUsers.push(user);
  }],
  ['default_user', (b, x) => void (b.o.defaultUser = x)],
  ['default_pass', (b, x) => void (b.o.defaultPass = x)],
  ['default_vhost', (b, x) => void (b.o.defaultVhost = x)],
  ['default_user_tags.*', (b, x, key) => {
    b.userTags ??= [];
    if (v.boolean(x)) b.userTags.push(key.slice('default_user_tags.'.length));
  }],
  ['vm_memory_high_watermark.relative', (b, x) => {
    const f = v.float(x);
    if (f > 1) throw new v.ConfValueError(`${x} is not a fraction of RAM between 0 and 1`);
    b.o.memoryHighWatermark = f;
  }],
  // Warren reads a watermark above 1 as bytes; 1 byte would be meaningless, so no clash in practice.
  ['vm_memory_high_watermark.absolute', (b, x) => void (b.o.memoryHighWatermark = Math.max(2, v.informationUnit(x)))],
  ['disk_free_limit.absolute', (b, x) => void (b.o.diskFreeLimit = v.informationUnit(x))],
  ['disk_free_limit.relative', (b, x) => void (b.o.diskFreeLimit = Math.floor(totalmem() * v.float(x)))],
  ['heartbeat', (b, x) => void (b.o.heartbeat = v.nonNegativeInteger(x))],
  ['frame_max', (b, x) => void (b.o.frameMax = v.nonNegativeInteger(x))],
  ['channel_max', (b, x) => void (b.o.channelMax = v.nonNegativeInteger(x))],
  ['connection_max', (b, x) => void (b.o.maxConnections = v.integerOrInfinity(x))],
  ['max_message_size', (b, x) => {
    const n = v.nonNegativeInteger(x);
    if (n > 536_870_912) throw new v.ConfValueError(`${x} is more than 512MB, RabbitMQ's upper limit`);
    b.o.maxMessageSize = n;
  }],
  ['consumer_timeout', (b, x) => void (b.o.consumerTimeout = v.nonNegativeInteger(x))],
  ['log.console', (b, x) => void (b.o.logConsole = v.boolean(x))],
  ['log.console.level', (b, x) => void (b.o.logConsoleLevel = v.logLevel(x))],
  ['log.console.formatter', (b, x) => void (b.o.logFormatter = v.oneOf(x, ['json', 'plaintext'] as const))],
  ['log.file', (b, x) => void (b.logFile = x)],
  ['log.file.level', (b, x) => void (b.o.logFileLevel = v.logLevel(x))],
  ['log.file.formatter', (b, x) => void (b.o.logFormatter = v.oneOf(x, ['json', 'plaintext'] as const))],
  ['log.dir', (b, x) => void (b.logDir = x)],
  ['cluster_name', (b, x) => void (b.o.clusterName = x)],
  ['cluster_formation.peer_discovery_backend', (b, x, _k, e) => {
    b.cluster.peerDiscoveryBackend = peerDiscoveryBackend(x);
    b.backendLine = e.line;
  }],
  ['cluster_formation.etcd.endpoints', (_b, x) => void v.oneOf(x, ['none'] as const)],
  ['cluster_formation.etcd.endpoints.*', (b, x) => {
    b.etcdEndpoints.push(etcdEndpoint(x));
    if (/^https:\/\//.test(x)) (b.cluster.etcdTls ??= {}).scheme ??= 'https';
  }],
  ['cluster_formation.etcd.host', (b, x) => void (b.etcdHost = x)],
  ['cluster_formation.etcd.port', (b, x) => void (b.etcdPort = v.port(x))],
  ['cluster_formation.etcd.cluster_name', (b, x) => void (b.cluster.etcdClusterName = x)],
  ['cluster_formation.etcd.key_prefix', (b, x) => void (b.cluster.etcdKeyPrefix = x)],
  // RabbitMQ 3.10 uses TLS when ssl_options are given (its scheme key is legacy); Warren takes either.
  ['cluster_formation.etcd.scheme', (b, x) => void ((b.cluster.etcdTls ??= {}).scheme = v.oneOf(x, ['http', 'https'] as const))],
  ['cluster_formation.etcd.ssl_options.cacertfile', (b, x) => void ((b.cluster.etcdTls ??= {}).cacertfile = x)],
  ['cluster_formation.etcd.ssl_options.certfile', (b, x) => void ((b.cluster.etcdTls ??= {}).certfile = x)],
  ['cluster_formation.etcd.ssl_options.keyfile', (b, x) => void ((b.cluster.etcdTls ??= {}).keyfile = x)],
  ['cluster_formation.etcd.ssl_options.verify', (b, x) => void ((b.cluster.etcdTls ??= {}).verify = v.oneOf(x, ['verify_peer', 'verify_none'] as const))],
  ['cluster_formation.etcd.ssl_options.server_name_indication', (b, x) => void ((b.cluster.etcdTls ??= {}).serverNameIndication = x)],
  ['cluster_formation.**', (b, x, key, e) => {
    (b.cluster.other ??= {})[key.slice('cluster_formation.'.length)] = x;
    if (!isKnownRabbitClusterKey(key)) throw new UnknownKey();
    b.warn(e, `${key} is kept for clustering but not used by Warren yet`);
  }],
  ['distribution.listener.port_range.min', (b, x) => void (b.o.clusterListenerPort = v.port(x))],
  // Warren's own keys (no RabbitMQ counterpart).
  ['cluster.listener.port', (b, x) => void (b.o.clusterListenerPort = v.port(x))],
  ['cluster.advertised_host', (b, x) => void (b.o.clusterAdvertisedHost = v.hostName(x))],
  ['login_failure_limit', (b, x) => void (b.o.loginFailureLimit = v.nonNegativeInteger(x))],
];

/**
 * Warren discovers peers (and elects its leader) through etcd only. RabbitMQ's default,
 * classic_config, means no peer discovery: a single node. Other backends are refused rather than
 * started as a lone node the operator believes is clustered.
 */
function peerDiscoveryBackend(x: string): 'etcd' | 'classic_config' {
  const short = x.replace(/^rabbit_peer_discovery_/, '');
  if (short === 'etcd' || short === 'classic_config') return short;
  if (['consul', 'k8s', 'aws', 'dns'].includes(short)) throw new v.ConfValueError(`${x} is not implemented by Warren (use etcd)`);
  throw new v.ConfValueError(`"${x}" is not a valid value, acceptable values are: etcd, rabbit_peer_discovery_etcd, classic_config`);
}

/** An etcd endpoint as RabbitMQ's etcd plugin takes it: host:port (an http:// or https:// prefix is tolerated). */
function etcdEndpoint(x: string): string {
  const bare = x.replace(/^https?:\/\//, '').replace(/\/$/, '');
  const a = v.listenAddress(bare, '');
  if (a.port === 0 || a.host === '') throw new v.ConfValueError(`"${x}" cannot be converted to a(n) host:port`);
  return bare;
}

/** cluster_formation keys of RabbitMQ's core and etcd schemas (the other backends: consul, k8s, aws, dns). */
function isKnownRabbitClusterKey(key: string): boolean {
  return /^cluster_formation\.(node_type|randomized_startup_delay_range\.(min|max)|internal_lock_retries|lock_retry_(limit|timeout)|discovery_retry_(limit|interval)|target_cluster_size_hint|classic_config\.nodes\.[^.]+|dns\.hostname|node_cleanup\.(interval|only_log_warning)|proxy\..+|etcd\.(scheme|node_ttl|lock_wait_time|lock_timeout|username|password|ssl_options(\..+)?)|consul\..+|k8s\..+|aws\..+)$/.test(key);
}

class UnknownKey extends Error {}

const compiled = HANDLERS.map(([pattern, handler]) => {
  const re = pattern.split('.').map((w) => (w === '**' ? '.+' : w === '*' ? '[^.]+' : w)).join('\\.');
  return { re: new RegExp(`^${re}$`), handler };
});

export function parseRabbitmqConf(text: string): ConfResult {
  const { entries, errors: syntax } = parseSysctl(text);
  const b = new Builder();
  b.errors.push(...syntax);
  for (const e of entries) {
    const match = compiled.find((c) => c.re.test(e.key));
    try {
      if (!match) throw new UnknownKey();
      match.handler(b, e.value, e.key, e);
    } catch (err) {
      if (err instanceof UnknownKey) {
        if (isKnownRabbitKey(e.key)) b.warn(e, `${e.key} is a RabbitMQ setting Warren does not implement; ignored`);
        else b.errors.push({ line: e.line, message: `Conf file attempted to set unknown variable: ${e.key}` });
      } else if (err instanceof v.ConfValueError) {
        b.errors.push({ line: e.line, message: `Error transforming datatype for: ${e.key}: ${err.message}` });
      } else throw err;
    }
  }
  finish(b, entries);
  const byLine = (a: ConfProblem, c: ConfProblem) => a.line - c.line;
  return { options: b.o, warnings: b.warnings.sort(byLine), errors: b.errors.sort(byLine) };
}

/** Combine what several keys say together (listeners, TLS sections, log paths, etcd endpoints). */
function finish(b: Builder, entries: ConfEntry[]): void {
  const o = b.o;
  const lineOf = (prefix: string) => entries.find((e) => e.key.startsWith(prefix))?.line ?? 0;
  // listeners.tcp.default first, then the others in file order.
  const tcp = [...b.tcp.entries()].sort(([a], [c]) => Number(c === 'listeners.tcp.default') - Number(a === 'listeners.tcp.default'));
  if (b.tcpNone && tcp.length === 0) {
    b.warnings.push({ line: lineOf('listeners.tcp'), message: 'listeners.tcp = none: Warren keeps its AMQP listener on a free loopback port' });
    o.port = 0;
    o.host = '127.0.0.1';
  } else if (tcp.length > 0) {
    o.port = tcp[0]![1].port;
    o.host = tcp[0]![1].host;
    if (tcp.length > 1) o.extraListeners = tcp.slice(1).map(([, a]) => a);
  }
  if (b.ssl.size > 0) {
    o.tlsListeners = [...b.ssl.values()];
    const tls = completeTls(b, b.sslOptions, 'ssl_options', lineOf('listeners.ssl'));
    if (tls) o.tls = tls;
  } else if (b.sslOptions.certFile) {
    const tls = completeTls(b, b.sslOptions, 'ssl_options', lineOf('ssl_options'));
    if (tls) o.tls = tls;
  }
  if (b.managementSslPort !== undefined) {
    if (b.managementTcpPortLine) {
      b.warnings.push({ line: b.managementTcpPortLine, message: 'management.tcp.port and management.ssl.port: Warren serves the management API on one port; using HTTPS on management.ssl.port' });
    }
    o.managementPort = b.managementSslPort;
    if (b.managementSslIp) o.managementHost = b.managementSslIp;
    const managementTls = completeTls(b, b.managementSsl, 'management.ssl', lineOf('management.ssl'));
    if (managementTls) o.managementTls = managementTls;
  }
  if (b.prometheusSslPort !== undefined) {
    o.prometheusPort = b.prometheusSslPort;
    if (b.prometheusSslIp) o.prometheusHost = b.prometheusSslIp;
    const prometheusTls = completeTls(b, b.prometheusSsl, 'prometheus.ssl', lineOf('prometheus.ssl'));
    if (prometheusTls) o.prometheusTls = prometheusTls;
  }
  if (b.authMechanisms.length > 0) o.authMechanisms = b.authMechanisms;
  if (b.loopbackUsers) o.loopbackUsers = b.loopbackUsers;
  if (b.userTags) o.defaultUserTags = b.userTags;
  if (b.logFile !== undefined && b.logFile !== 'false') {
    o.logFile = b.logDir && !b.logFile.startsWith('/') ? `${b.logDir.replace(/\/$/, '')}/${b.logFile}` : b.logFile;
  }
  // Until the logging options are implemented everywhere, the console threshold is also Warren's log level.
  if (o.logConsole === false) o.logLevel = 'silent';
  else if (o.logConsoleLevel) o.logLevel = o.logConsoleLevel;
  const endpoints = [...b.etcdEndpoints];
  if (b.etcdHost) endpoints.push(`${b.etcdHost}:${b.etcdPort ?? 2379}`);
  if (endpoints.length > 0) b.cluster.etcdEndpoints = endpoints;
  if (b.cluster.peerDiscoveryBackend === 'etcd' && endpoints.length === 0) {
    b.errors.push({ line: b.backendLine, message: 'cluster_formation.peer_discovery_backend = etcd needs cluster_formation.etcd.endpoints.1 = host:port' });
  }
  if (Object.keys(b.cluster).length > 0) o.clusterFormation = b.cluster;
}

/** A TLS section needs at least a certificate and a key; missing ones are errors on the section's first line. */
function completeTls(b: Builder, d: TlsDraft, prefix: string, line: number): TlsOptions | undefined {
  if (!d.certFile || !d.keyFile) {
    const missing = [!d.certFile && `${prefix}.certfile`, !d.keyFile && `${prefix}.keyfile`].filter(Boolean).join(' and ');
    b.errors.push({ line, message: `a TLS listener needs ${missing}` });
    return undefined;
  }
  const t: TlsOptions = { certFile: d.certFile, keyFile: d.keyFile };
  if (d.caFile !== undefined) t.caFile = d.caFile;
  if (d.password !== undefined) t.password = d.password;
  if (d.verifyPeer !== undefined) t.verifyPeer = d.verifyPeer;
  if (d.failIfNoPeerCert !== undefined) t.failIfNoPeerCert = d.failIfNoPeerCert;
  if (d.versions.length) t.versions = d.versions;
  if (d.ciphers.length) t.ciphers = d.ciphers;
  // ssl_handshake_timeout is global in RabbitMQ; it lives in the AMQPS settings and applies to all.
  const timeout = b.sslOptions.handshakeTimeoutMs;
  if (timeout !== undefined) t.handshakeTimeoutMs = timeout;
  return t;
}
