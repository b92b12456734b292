#!/usr/bin/env -S GLIBC_TUNABLES=glibc.malloc.mmap_threshold=65536 node --max-semi-space-size=4
/**
 * `warren`: start the broker. Settings come from (highest first) flags, WARREN_* environment
 * variables, a JSON config file (--config / WARREN_CONFIG), then built-in defaults.
 */
import { parseArgs } from 'node:util';
import { Broker } from '../server.js';
import { resolve as resolvePath } from 'node:path';
import type { BrokerOptions } from '../config.js';
import { DEFAULTS } from '../config.js';
import { createLogger, createLogging } from '../logger.js';
import { describeProblem, readConfigFile, type ConfigFile } from '../conf/config-file.js';
import { VERSION } from '../version.js';
import { TlsConfigError } from '../tls/tls-options.js';
import { NODE_NAME } from '../node-name.js';
import { ClusterNode } from '../cluster/cluster-node.js';
import { clusterNodeOptions, wantsCluster } from '../cluster/cluster-options.js';

const SETTINGS = {
  port: { opt: 'port', env: 'WARREN_PORT', type: 'number', help: `AMQP port (0 = any free port)`, def: DEFAULTS.port },
  bind: { opt: 'host', env: 'WARREN_BIND', type: 'string', help: 'address to listen on', def: DEFAULTS.host },
  'data-dir': { opt: 'dataDir', env: 'WARREN_DATA_DIR', type: 'string', help: 'directory for durable data', def: DEFAULTS.dataDir },
  'management-port': { opt: 'managementPort', env: 'WARREN_MANAGEMENT_PORT', type: 'number', help: 'management HTTP API port (0 disables it)', def: DEFAULTS.managementPort },
  'management-bind': { opt: 'managementHost', env: 'WARREN_MANAGEMENT_BIND', type: 'string', help: 'management HTTP address (default: --bind)', def: undefined },
  'prometheus-port': { opt: 'prometheusPort', env: 'WARREN_PROMETHEUS_PORT', type: 'number', help: 'Prometheus /metrics port (0 disables it)', def: DEFAULTS.prometheusPort },
  'prometheus-bind': { opt: 'prometheusHost', env: 'WARREN_PROMETHEUS_BIND', type: 'string', help: 'Prometheus endpoint address (default: --bind)', def: undefined },
  heartbeat: { opt: 'heartbeat', env: 'WARREN_HEARTBEAT', type: 'number', help: 'heartbeat timeout proposed to clients, seconds (0 = off)', def: DEFAULTS.heartbeat },
  'frame-max': { opt: 'frameMax', env: 'WARREN_FRAME_MAX', type: 'number', help: 'largest frame, bytes', def: DEFAULTS.frameMax },
  'channel-max': { opt: 'channelMax', env: 'WARREN_CHANNEL_MAX', type: 'number', help: 'channels per connection', def: DEFAULTS.channelMax },
  'max-message-size': { opt: 'maxMessageSize', env: 'WARREN_MAX_MESSAGE_SIZE', type: 'number', help: 'largest message body, bytes', def: DEFAULTS.maxMessageSize },
  'default-user': { opt: 'defaultUser', env: 'WARREN_DEFAULT_USER', type: 'string', help: 'user created on first start', def: DEFAULTS.defaultUser },
  'default-pass': { opt: 'defaultPass', env: 'WARREN_DEFAULT_PASS', type: 'string', help: 'its password', def: DEFAULTS.defaultPass },
  'memory-high-watermark': { opt: 'memoryHighWatermark', env: 'WARREN_MEMORY_HIGH_WATERMARK', type: 'number', help: 'block publishers above this memory use: fraction of RAM (<= 1) or bytes', def: DEFAULTS.memoryHighWatermark },
  'disk-free-limit': { opt: 'diskFreeLimit', env: 'WARREN_DISK_FREE_LIMIT', type: 'number', help: 'block publishers when the data dir has less free space, bytes', def: DEFAULTS.diskFreeLimit },
  'stream-port': { opt: 'streamPort', env: 'WARREN_STREAM_PORT', type: 'number', help: 'RabbitMQ stream protocol port (0 disables it; default 5552, skipped if taken)', def: undefined },
  'stream-bind': { opt: 'streamHost', env: 'WARREN_STREAM_BIND', type: 'string', help: 'stream protocol address (default: --bind)', def: undefined },
  'stream-advertised-host': { opt: 'streamAdvertisedHost', env: 'WARREN_STREAM_ADVERTISED_HOST', type: 'string', help: 'host stream clients are told to connect to', def: undefined },
  'stream-advertised-port': { opt: 'streamAdvertisedPort', env: 'WARREN_STREAM_ADVERTISED_PORT', type: 'number', help: 'port stream clients are told to connect to', def: undefined },
  'stream-tls-port': { opt: 'streamTlsPort', env: 'WARREN_STREAM_TLS_PORT', type: 'number', help: 'stream protocol over TLS (needs --tls-cert and --tls-key)', def: undefined },
  'node-name': { opt: 'nodeName', env: 'WARREN_NODE_NAME', type: 'string', help: 'this node\'s name in a cluster, e.g. warren-1', def: 'warren@<host name>' },
  'log-file': { opt: 'logFile', env: 'WARREN_LOG_FILE', type: 'string', help: 'also log to this file (reopened on SIGUSR1/SIGHUP)', def: undefined },
  'log-formatter': { opt: 'logFormatter', env: 'WARREN_LOG_FORMATTER', type: 'string', help: 'json | plaintext', def: 'json' },
  'log-level': { opt: 'logLevel', env: 'WARREN_LOG_LEVEL', type: 'string', help: 'debug | info | warn | error | silent', def: DEFAULTS.logLevel },
  'tls-port': { opt: undefined, env: 'WARREN_TLS_PORT', type: 'number', help: 'AMQPS port (needs --tls-cert and --tls-key; 0 = any free port)', def: undefined },
  'tls-cert': { opt: undefined, env: 'WARREN_TLS_CERT', type: 'string', help: 'PEM certificate (chain) for AMQPS', def: undefined },
  'tls-key': { opt: undefined, env: 'WARREN_TLS_KEY', type: 'string', help: 'PEM private key for AMQPS', def: undefined },
  'tls-ca': { opt: undefined, env: 'WARREN_TLS_CA', type: 'string', help: 'PEM CA bundle for client certificates', def: undefined },
} as const;
type Name = keyof typeof SETTINGS;

function usage(): string {
  const lines = [`warren ${VERSION} - an AMQP 0-9-1 message broker that behaves like RabbitMQ`, '', 'Usage: warren [options]', '', 'Options:'];
  for (const [name, s] of Object.entries(SETTINGS)) {
    lines.push(`  --${name.padEnd(24)}${s.help} [${s.env}] (default: ${s.def ?? '-'})`);
  }
  lines.push(`  --${'config <file>'.padEnd(24)}rabbitmq.conf (name ending in .conf) or JSON file with the options above, e.g. {"port": 5673} [WARREN_CONFIG]`);
  lines.push(`  --${'help'.padEnd(24)}show this help`, `  --${'version'.padEnd(24)}show the version`);
  return lines.join('\n');
}

/** Bad settings: say what and where, exit 2, start nothing (as RabbitMQ refuses to boot). */
function refuse(lines: string[]): never {
  for (const l of lines) console.error(`warren: ${l}`);
  process.exit(2);
}

function main(): void {
  const options: Record<string, { type: 'string' | 'boolean' }> = { config: { type: 'string' }, help: { type: 'boolean' }, version: { type: 'boolean' } };
  for (const name of Object.keys(SETTINGS)) options[name] = { type: 'string' };
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({ options, strict: true }).values;
  } catch (e) {
    console.error(`warren: ${(e as Error).message}\n\n${usage()}`);
    process.exit(2);
  }
  if (values['help']) {
    console.log(usage());
    return;
  }
  if (values['version']) {
    console.log(VERSION);
    return;
  }
  const configPath = (values['config'] as string | undefined) ?? process.env['WARREN_CONFIG'];
  let fromFile: BrokerOptions = {};
  let json: Record<string, unknown> = {};
  let warnings: string[] = [];
  if (configPath) {
    let file: ConfigFile;
    try {
      file = readConfigFile(configPath);
    } catch (e) {
      refuse([(e as Error).message]);
    }
    if (file.errors.length > 0) refuse([`errors in config file ${configPath}, nothing started:`, ...file.errors.map((p) => describeProblem(configPath, p))]);
    if (file.format === 'json') json = file.values;
    else {
      fromFile = file.options;
      warnings = file.warnings.map((p) => describeProblem(configPath, p));
    }
  }
  // Flags win over the environment, which wins over the file.
  const get = (name: Name): string | number | undefined => {
    const s = SETTINGS[name];
    const raw = (values[name] as string | undefined) ?? process.env[s.env] ?? (json[name] as string | number | undefined);
    if (raw === undefined) return undefined;
    if (s.type === 'number') {
      const n = Number(raw);
      if (!Number.isFinite(n) || n < 0) refuse([`--${name} must be a non-negative number, got '${raw}'`]);
      return n;
    }
    return String(raw);
  };
  const given: Record<string, unknown> = {};
  for (const name of Object.keys(SETTINGS) as Name[]) {
    const opt = SETTINGS[name].opt;
    const value = get(name);
    if (opt && value !== undefined) given[opt] = value;
  }
  const opts: BrokerOptions = { ...fromFile, ...(given as BrokerOptions) };
  if (configPath) opts.configFiles = [resolvePath(configPath)];
  applyTlsFlags(opts, get('tls-port') as number | undefined, get('tls-cert') as string | undefined, get('tls-key') as string | undefined, get('tls-ca') as string | undefined);
  if (opts.logFormatter !== undefined && opts.logFormatter !== 'json' && opts.logFormatter !== 'plaintext') {
    refuse([`--log-formatter must be json or plaintext, got '${String(opts.logFormatter)}'`]);
  }
  if (opts.nodeName !== undefined && !/^[A-Za-z0-9_.@-]{1,200}$/.test(opts.nodeName)) {
    refuse([`--node-name must be letters, digits, '_', '.', '@' or '-', got '${opts.nodeName}'`]);
  }
  // The command logs to the console unless told otherwise (an embedded broker is silent by default).
  opts.logConsole ??= true;
  const log = createLogger(opts.logConsoleLevel ?? opts.logLevel ?? DEFAULTS.logLevel, undefined, opts.logFormatter);
  for (const w of warnings) log('warn', 'config setting ignored', { detail: w });
  if (wantsCluster(opts)) {
    startClusterNode(opts);
    return;
  }
  Broker.start(opts).then(
    (broker) => {
      let stopping = false;
      const stop = (signal: string) => {
        if (stopping) return;
        stopping = true;
        broker.log('info', 'shutting down', { signal });
        broker.close().then(() => process.exit(0), () => process.exit(1));
      };
      process.on('SIGINT', () => stop('SIGINT'));
      process.on('SIGTERM', () => stop('SIGTERM'));
      // logrotate's postrotate signal: start a new log file where the old one was.
      process.on('SIGUSR1', () => broker.reopenLogs());
      // As nginx and others: SIGHUP reopens the log file and re-reads the certificates; connections stay open.
      process.on('SIGHUP', () => {
        broker.reopenLogs();
        try {
          broker.reloadTls();
        } catch (e) {
          broker.log('error', 'TLS reload failed; the previous certificates stay in use', { error: (e as Error).message });
        }
      });
      // One bad event (a bug reached from a timer, say) must not take every client's messages down with it.
      process.on('uncaughtException', (e) => broker.log('error', 'uncaught exception', { error: String(e?.stack ?? e) }));
    },
    (e: Error) => {
      console.error(JSON.stringify({ time: new Date().toISOString(), level: 'error', msg: 'failed to start', error: e.message }));
      // A bad certificate is a configuration error (2, like a bad key); anything else, e.g. a port in use, is 1.
      process.exit(e instanceof TlsConfigError ? 2 : 1);
    },
  );
}

/**
 * A cluster node (etcd peer discovery in the config): a leader runs the broker, a follower mirrors
 * it and forwards clients to it. Signals as for a single node; SIGTERM leaves the cluster cleanly
 * (the lease is revoked, so the others elect a new leader at once).
 */
function startClusterNode(opts: BrokerOptions): void {
  const logging = createLogging(opts);
  const log = logging.log;
  ClusterNode.start(clusterNodeOptions(opts, opts.nodeName ?? NODE_NAME, log)).then(
    (node) => {
      let stopping = false;
      const stop = (signal: string) => {
        if (stopping) return;
        stopping = true;
        log('info', 'shutting down', { signal });
        node.stop().then(() => {
          logging.close();
          process.exit(0);
        }, () => process.exit(1));
      };
      process.on('SIGINT', () => stop('SIGINT'));
      process.on('SIGTERM', () => stop('SIGTERM'));
      process.on('SIGUSR1', () => {
        logging.reopen();
        node.currentBroker?.reopenLogs();
      });
      process.on('SIGHUP', () => {
        logging.reopen();
        node.currentBroker?.reopenLogs();
        try {
          node.currentBroker?.reloadTls();
        } catch (e) {
          log('error', 'TLS reload failed; the previous certificates stay in use', { error: (e as Error).message });
        }
      });
      process.on('uncaughtException', (e) => log('error', 'uncaught exception', { error: String(e?.stack ?? e) }));
    },
    (e: Error) => {
      console.error(JSON.stringify({ time: new Date().toISOString(), level: 'error', msg: 'failed to start', error: e.message }));
      process.exit(1);
    },
  );
}

/** --tls-port / --tls-cert / --tls-key / --tls-ca on top of what the config file says. */
function applyTlsFlags(opts: BrokerOptions, port: number | undefined, cert: string | undefined, key: string | undefined, ca: string | undefined): void {
  if (cert !== undefined || key !== undefined || ca !== undefined) {
    const certFile = cert ?? opts.tls?.certFile;
    const keyFile = key ?? opts.tls?.keyFile;
    if (!certFile || !keyFile) refuse(['TLS needs both --tls-cert and --tls-key']);
    opts.tls = { ...opts.tls, certFile, keyFile };
    if (ca !== undefined) opts.tls.caFile = ca;
  }
  if (port !== undefined) {
    if (!opts.tls) refuse(['--tls-port needs --tls-cert and --tls-key']);
    opts.tlsListeners = [{ host: opts.host ?? DEFAULTS.host, port }];
  }
}

main();
