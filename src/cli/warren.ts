#!/usr/bin/env node
/**
 * `warren`: start the broker. Settings come from (highest first) flags, WARREN_* environment
 * variables, a JSON config file (--config / WARREN_CONFIG), then built-in defaults.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { Broker } from '../server.js';
import type { BrokerOptions } from '../config.js';
import { DEFAULTS } from '../config.js';
import type { LogLevel } from '../logger.js';
import { VERSION } from '../version.js';

const SETTINGS = {
  port: { env: 'WARREN_PORT', type: 'number', help: `AMQP port (0 = any free port)`, def: DEFAULTS.port },
  bind: { env: 'WARREN_BIND', type: 'string', help: 'address to listen on', def: DEFAULTS.host },
  'data-dir': { env: 'WARREN_DATA_DIR', type: 'string', help: 'directory for durable data', def: DEFAULTS.dataDir },
  'management-port': { env: 'WARREN_MANAGEMENT_PORT', type: 'number', help: 'management HTTP API port (0 disables it)', def: DEFAULTS.managementPort },
  'management-bind': { env: 'WARREN_MANAGEMENT_BIND', type: 'string', help: 'management HTTP address (default: --bind)', def: undefined },
  heartbeat: { env: 'WARREN_HEARTBEAT', type: 'number', help: 'heartbeat timeout proposed to clients, seconds (0 = off)', def: DEFAULTS.heartbeat },
  'frame-max': { env: 'WARREN_FRAME_MAX', type: 'number', help: 'largest frame, bytes', def: DEFAULTS.frameMax },
  'channel-max': { env: 'WARREN_CHANNEL_MAX', type: 'number', help: 'channels per connection', def: DEFAULTS.channelMax },
  'max-message-size': { env: 'WARREN_MAX_MESSAGE_SIZE', type: 'number', help: 'largest message body, bytes', def: DEFAULTS.maxMessageSize },
  'default-user': { env: 'WARREN_DEFAULT_USER', type: 'string', help: 'user created on first start', def: DEFAULTS.defaultUser },
  'default-pass': { env: 'WARREN_DEFAULT_PASS', type: 'string', help: 'its password', def: DEFAULTS.defaultPass },
  'memory-high-watermark': { env: 'WARREN_MEMORY_HIGH_WATERMARK', type: 'number', help: 'block publishers above this memory use: fraction of RAM (<= 1) or bytes', def: DEFAULTS.memoryHighWatermark },
  'disk-free-limit': { env: 'WARREN_DISK_FREE_LIMIT', type: 'number', help: 'block publishers when the data dir has less free space, bytes', def: DEFAULTS.diskFreeLimit },
  'log-level': { env: 'WARREN_LOG_LEVEL', type: 'string', help: 'debug | info | warn | error | silent', def: DEFAULTS.logLevel },
} as const;
type Name = keyof typeof SETTINGS;

function usage(): string {
  const lines = [`warren ${VERSION} - an AMQP 0-9-1 message broker that behaves like RabbitMQ`, '', 'Usage: warren [options]', '', 'Options:'];
  for (const [name, s] of Object.entries(SETTINGS)) {
    lines.push(`  --${name.padEnd(24)}${s.help} [${s.env}] (default: ${s.def ?? '-'})`);
  }
  lines.push(`  --${'config <file>'.padEnd(24)}JSON file with any of the options above, e.g. {"port": 5673} [WARREN_CONFIG]`);
  lines.push(`  --${'help'.padEnd(24)}show this help`, `  --${'version'.padEnd(24)}show the version`);
  return lines.join('\n');
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
  let file: Record<string, unknown> = {};
  if (configPath) {
    try {
      file = JSON.parse(readFileSync(configPath, 'utf8')) as Record<string, unknown>;
    } catch (e) {
      console.error(`warren: cannot read config file ${configPath}: ${(e as Error).message}`);
      process.exit(2);
    }
  }
  const get = (name: Name): string | number | undefined => {
    const s = SETTINGS[name];
    const raw = (values[name] as string | undefined) ?? process.env[s.env] ?? (file[name] as string | number | undefined);
    if (raw === undefined) return s.def;
    if (s.type === 'number') {
      const n = Number(raw);
      if (!Number.isFinite(n) || n < 0) {
        console.error(`warren: --${name} must be a non-negative number, got '${raw}'`);
        process.exit(2);
      }
      return n;
    }
    return String(raw);
  };
  const opts: BrokerOptions = {
    port: get('port') as number,
    host: get('bind') as string,
    dataDir: get('data-dir') as string,
    managementPort: get('management-port') as number,
    heartbeat: get('heartbeat') as number,
    frameMax: get('frame-max') as number,
    channelMax: get('channel-max') as number,
    maxMessageSize: get('max-message-size') as number,
    defaultUser: get('default-user') as string,
    defaultPass: get('default-pass') as string,
    memoryHighWatermark: get('memory-high-watermark') as number,
    diskFreeLimit: get('disk-free-limit') as number,
    logLevel: get('log-level') as LogLevel,
  };
  const mb = get('management-bind');
  if (mb !== undefined) opts.managementHost = String(mb);
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
      // One bad event (a bug reached from a timer, say) must not take every client's messages down with it.
      process.on('uncaughtException', (e) => broker.log('error', 'uncaught exception', { error: String(e?.stack ?? e) }));
    },
    (e: Error) => {
      console.error(JSON.stringify({ time: new Date().toISOString(), level: 'error', msg: 'failed to start', error: e.message }));
      process.exit(1);
    },
  );
}

main();
