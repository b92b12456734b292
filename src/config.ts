/**
 * Broker settings with their defaults; the CLI fills them from flags, WARREN_* environment
 * variables and an optional JSON config file, embedders pass them to Broker.start().
 */
import { totalmem } from 'node:os';
import { resolve } from 'node:path';
import type { Logger, LogLevel } from './logger.js';

export interface BrokerOptions {
  /** AMQP port; 0 picks a free one (read it back from broker.port). Default 5672. */
  port?: number;
  /** Address to listen on. Default 0.0.0.0. */
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
}

export type ResolvedOptions = Required<Omit<BrokerOptions, 'logger' | 'managementHost' | 'memoryHighWatermark'>> & {
  managementHost: string;
  /** Bytes. */
  memoryHighWatermark: number;
};

export const DEFAULTS = {
  port: 5672,
  host: '0.0.0.0',
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
};

export function resolveOptions(o: BrokerOptions): ResolvedOptions {
  const wm = o.memoryHighWatermark ?? DEFAULTS.memoryHighWatermark;
  const host = o.host ?? DEFAULTS.host;
  return {
    port: o.port ?? DEFAULTS.port,
    host,
    dataDir: resolve(o.dataDir ?? DEFAULTS.dataDir),
    managementPort: o.managementPort ?? DEFAULTS.managementPort,
    managementHost: o.managementHost ?? host,
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
  };
}
