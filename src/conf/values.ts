/**
 * rabbitmq.conf's value syntax: integers, booleans, enums, `[ip:]port` listeners, information
 * units (`1GB`, `512MiB`) and log levels. A bad value throws ConfValueError whose text follows
 * RabbitMQ's ("\"abc\" cannot be converted to a(n) integer").
 */
import type { ListenAddress, LogThreshold } from '../config.js';

export class ConfValueError extends Error {
  override readonly name = 'ConfValueError';
}

const cannot = (value: string, type: string) => new ConfValueError(`"${value}" cannot be converted to a(n) ${type}`);

export function integer(value: string): number {
  if (!/^-?[0-9]+$/.test(value)) throw cannot(value, 'integer');
  return Number(value);
}

export function nonNegativeInteger(value: string): number {
  const n = integer(value);
  if (n < 0) throw new ConfValueError(`${value} must be zero or more`);
  return n;
}

/** An integer, or RabbitMQ's `infinity` (returned as Infinity). */
export function integerOrInfinity(value: string): number {
  return value === 'infinity' ? Infinity : nonNegativeInteger(value);
}

export function float(value: string): number {
  if (!/^[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$/.test(value)) throw cannot(value, 'float');
  return Number(value);
}

export function port(value: string): number {
  const n = integer(value);
  if (n < 0 || n > 65535) throw new ConfValueError(`${value} is not a valid port (0-65535)`);
  return n;
}

export function boolean(value: string): boolean {
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw cannot(value, 'boolean');
}

export function oneOf<T extends string>(value: string, allowed: readonly T[]): T {
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new ConfValueError(`"${value}" is not a valid value, acceptable values are: ${allowed.join(', ')}`);
}

/** `5672`, `127.0.0.1:5672`, `::1:5672` or `[::1]:5672`; a bare port listens on defaultHost. */
export function listenAddress(value: string, defaultHost: string): ListenAddress {
  if (/^[0-9]+$/.test(value)) return { host: defaultHost, port: port(value) };
  const bracketed = /^\[([0-9A-Fa-f:.]+)\]:([0-9]+)$/.exec(value);
  const m = bracketed ?? /^(.+):([0-9]+)$/.exec(value);
  if (!m) throw cannot(value, 'ip:port or port');
  const host = m[1]!;
  if (!/^[0-9.]+$/.test(host) && !/^[0-9A-Fa-f:.]+$/.test(host) && !/^[A-Za-z0-9.-]+$/.test(host)) throw cannot(value, 'ip');
  return { host, port: port(m[2]!) };
}

/** A host name or IP address (what other machines can connect to). */
export function hostName(value: string): string {
  if (!/^[A-Za-z0-9.-]+$/.test(value) && !/^[0-9A-Fa-f:.]+$/.test(value)) throw cannot(value, 'host name or ip');
  return value;
}

const UNITS: Record<string, number> = {
  '': 1,
  k: 1024, K: 1024, kiB: 1024, KiB: 1024, kib: 1024, KIB: 1024,
  m: 1024 ** 2, M: 1024 ** 2, MiB: 1024 ** 2, mib: 1024 ** 2, MIB: 1024 ** 2,
  g: 1024 ** 3, G: 1024 ** 3, GiB: 1024 ** 3, gib: 1024 ** 3, GIB: 1024 ** 3,
  kB: 1000, KB: 1000, kb: 1000, Kb: 1000,
  MB: 1000 ** 2, mb: 1000 ** 2, Mb: 1000 ** 2,
  GB: 1000 ** 3, gb: 1000 ** 3, Gb: 1000 ** 3,
};

/** Bytes with RabbitMQ's information units: k/K/KiB = 1024, kB/KB = 1000, M/MiB, MB, G/GiB, GB likewise. */
export function informationUnit(value: string): number {
  const m = /^([0-9]+)([A-Za-z]*)$/.exec(value);
  const factor = m ? UNITS[m[2]!] : undefined;
  if (!m || factor === undefined) throw cannot(value, 'information unit (e.g. 1024, 500MB, 2GB, 1GiB)');
  return Number(m[1]) * factor;
}

const LEVELS: Record<string, LogThreshold> = {
  debug: 'debug', info: 'info', notice: 'info', warning: 'warn', error: 'error', critical: 'error', alert: 'error',
  emergency: 'error', none: 'silent',
};

/** RabbitMQ's log levels, as Warren's thresholds (warning → warn, critical → error, none → silent). */
export function logLevel(value: string): LogThreshold {
  const level = LEVELS[value];
  if (!level) throw new ConfValueError(`"${value}" is not a valid log level, acceptable values are: debug, info, notice, warning, error, critical, alert, emergency, none`);
  return level;
}
