/**
 * Health checks, as RabbitMQ 3.10 answers them: /api/health/checks/* (200 `{status: ok}` or 503
 * `{status: failed, reason, …}`), the deprecated /api/healthchecks/node[/{node}] that many
 * monitoring scripts still call, and /api/aliveness-test/{vhost}.
 */
import { readFileSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import type { ManagedBroker } from '../managed-broker.js';
import { Message } from '../../broker/message.js';
import { AmqpError } from '../../protocol/errors.js';
import { writePropertyFields } from '../../protocol/properties.js';
import type { TlsOptions } from '../../tls/tls-options.js';
import type { User } from '../../auth/users.js';
import { requireVhost } from '../access.js';
import { HttpError, badRequest, notAuthorised, objectNotFound } from '../http.js';
import type { Router } from '../router.js';
import { NODE_NAME } from '../views.js';
import { isThisNode } from './nodes.js';

export function healthRoutes(r: Router): void {
  r.get('/api/health/checks/alarms', 'management', (ctx) => alarmsCheck(ctx.broker));
  r.get('/api/health/checks/local-alarms', 'management', (ctx) => alarmsCheck(ctx.broker));
  r.get('/api/health/checks/virtual-hosts', 'management', () => ({ status: 'ok' }));
  // Warren's queues have one copy on one node: none can lose its quorum or its last synchronised mirror.
  for (const check of ['node-is-quorum-critical', 'node-is-mirror-sync-critical']) {
    r.get(`/api/health/checks/${check}`, 'management', (ctx) => (ctx.broker.options.cluster ? { status: 'ok' } : { status: 'ok', reason: 'single node cluster' }));
  }
  r.get('/api/health/checks/port-listener/:port', 'management', (ctx) => {
    const text = ctx.params['port']!;
    const port = /^\d+$/.test(text) ? Number(text) : NaN;
    if (!Number.isInteger(port)) throw badRequest('Invalid port');
    const ports = ctx.broker.diagnostics().listeners.map((l) => l.port);
    if (ports.includes(port)) return { status: 'ok', port };
    throw failed({ reason: 'No active listener', missing: port, ports });
  });
  r.get('/api/health/checks/protocol-listener/:protocol', 'management', (ctx) => {
    const protocol = normalizeProtocol(ctx.params['protocol']!);
    const protocols = ctx.broker.diagnostics().listeners.map((l) => l.protocol);
    if (protocols.includes(protocol)) return { status: 'ok', protocol };
    throw failed({ reason: 'No active listener', missing: protocol, protocols });
  });
  r.get('/api/health/checks/certificate-expiration/:within/:unit', 'management', (ctx) => {
    const within = secondsWithin(ctx.params['within']!, ctx.params['unit']!);
    const expiring = expiringListeners(ctx.broker, Date.now() + within * 1000);
    if (expiring.length === 0) return { status: 'ok' };
    throw failed({ reason: 'Certificates expiring', expired: expiring });
  });
  // Deprecated in RabbitMQ 3.8 but still served by 3.10 (and still used by old monitoring scripts).
  r.get('/api/healthchecks/node', 'management', () => ({ status: 'ok' }));
  r.get('/api/healthchecks/node/:node', 'management', (ctx) => {
    if (!isThisNode(ctx.params['node']!)) throw objectNotFound();
    return { status: 'ok' };
  });
  r.get('/api/aliveness-test/:vhost', 'management', (ctx) => aliveness(ctx.broker, ctx.user, ctx.params['vhost']!));
}

/** A failed health check: 503 with `status: failed`, as RabbitMQ's checks answer (a read: no-cache). */
function failed(fields: Record<string, unknown>): HttpError {
  return new HttpError(503, 'failed', fields['reason'], { 'cache-control': 'no-cache' }, { status: 'failed', ...fields });
}

function alarmsCheck(broker: ManagedBroker): unknown {
  const alarms: { node: string; resource: string }[] = [];
  if (broker.alarms.memoryAlarm) alarms.push({ node: NODE_NAME, resource: 'memory' });
  if (broker.alarms.diskAlarm) alarms.push({ node: NODE_NAME, resource: 'disk' });
  if (alarms.length === 0) return { status: 'ok' };
  throw failed({ reason: 'There are alarms in effect in the cluster', alarms });
}

/** RabbitMQ's aliases for listener protocols (amqp091 → amqp, amqps → amqp/ssl, management → http …). */
function normalizeProtocol(name: string): string {
  const p = name.toLowerCase();
  if (/^amqp(0[-._]?9[-._]?1|091|1[-._]?0|10)$/.test(p)) return 'amqp';
  if (p === 'amqps') return 'amqp/ssl';
  if (['http1', 'http1.1', 'http_api', 'management', 'management_ui', 'ui'].includes(p)) return 'http';
  if (p === 'cli' || p === 'distribution') return 'clustering';
  if (p === 'prometheus') return 'http/prometheus';
  return p;
}

const DAY_SECONDS = 86_400;
const UNIT_SECONDS: Record<string, number> = { days: DAY_SECONDS, weeks: 7 * DAY_SECONDS, months: DAY_SECONDS * (365 / 12), years: 365 * DAY_SECONDS };

function secondsWithin(within: string, unit: string): number {
  if (!/^-?\d+$/.test(within)) throw badRequest('Invalid expiration value.');
  const perUnit = UNIT_SECONDS[unit.toLowerCase()];
  if (perUnit === undefined) throw badRequest('Time unit not recognised. Supported units: days, weeks, months, years.');
  return Number(within) * perUnit;
}

/**
 * The TLS listeners whose certificate file or CA file holds a certificate that expires before
 * `deadline` (ms), in RabbitMQ's shape: dates as `YYYY-MM-DD H:MM:SS` UTC, or `{error}` for a
 * file that cannot be read as PEM certificates.
 */
function expiringListeners(broker: ManagedBroker, deadline: number): Record<string, unknown>[] {
  const o = broker.options;
  const settings: Record<string, TlsOptions | undefined> = {
    'amqp/ssl': o.tls, 'stream/ssl': o.tls, https: o.managementTls, 'https/prometheus': o.prometheusTls,
  };
  const out: Record<string, unknown>[] = [];
  for (const l of broker.diagnostics().listeners) {
    const tls = settings[l.protocol];
    if (!tls) continue;
    const certfile = expiringIn(tls.certFile, deadline);
    const cacertfile = tls.caFile === undefined ? [] : expiringIn(tls.caFile, deadline);
    if (Array.isArray(certfile) && certfile.length === 0 && Array.isArray(cacertfile) && cacertfile.length === 0) continue;
    out.push({
      node: NODE_NAME, protocol: l.protocol, interface: l.host, port: l.port,
      certfile: tls.certFile, cacertfile: tls.caFile ?? '',
      certfile_expires_on: certfile, cacertfile_expires_on: cacertfile,
    });
  }
  return out;
}

function expiringIn(file: string, deadline: number): string[] | { error: string } {
  let pem: string;
  try {
    pem = readFileSync(file, 'latin1');
  } catch (e) {
    return { error: String((e as NodeJS.ErrnoException).code ?? e) };
  }
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) return { error: 'The certificate file provided does not contain any PEM entry.' };
  const out: string[] = [];
  for (const block of blocks) {
    const validTo = Date.parse(new X509Certificate(block).validTo);
    if (validTo < deadline) out.push(erlangDateTime(new Date(validTo)));
  }
  return out;
}

/** RabbitMQ's `~w-~2.2.0w-~2.2.0w ~w:~2.2.0w:~2.2.0w` (the hour is not padded). */
function erlangDateTime(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getUTCFullYear()}-${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())} ${d.getUTCHours()}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}`;
}

/**
 * RabbitMQ's aliveness test: declare the `aliveness-test` queue, publish a message to it through
 * the default exchange and get it back, with the user's permissions as an AMQP client would: each
 * step is checked when it is taken, so a user who may declare and publish but not read leaves the
 * queue holding the message behind, as with RabbitMQ (which never deletes that queue either).
 */
function aliveness(broker: ManagedBroker, user: User, vhostName: string): unknown {
  const vhost = broker.vhosts.get(vhostName);
  if (!vhost) throw objectNotFound();
  requireVhost(broker, user, vhostName);
  const queueName = 'aliveness-test';
  const permitted = (permission: 'configure' | 'write' | 'read', kind: 'queue' | 'exchange', name: string): void => {
    try {
      broker.users.check(user.name, vhostName, permission, kind, name);
    } catch (e) {
      if (!(e instanceof AmqpError)) throw e;
      // No access to the vhost at all: the connection is refused ("Access refused."); otherwise the
      // channel's refusal of the queue or exchange, in its AMQP words, as RabbitMQ answers.
      throw notAuthorised(broker.users.hasVhostAccess(vhostName, user.name) ? e.replyText : 'Access refused.');
    }
  };
  try {
    permitted('configure', 'queue', queueName);
    const queue = vhost.declareQueue({ name: queueName, passive: false, durable: false, exclusive: false, autoDelete: false, arguments: {} }, 0);
    const body = Buffer.from('test_message');
    permitted('write', 'exchange', '');
    queue.publish(new Message('', queueName, writePropertyFields({}), body, false));
    permitted('read', 'queue', queueName);
    const envelope = queue.get(true);
    if (!envelope || !envelope.message.body.equals(body)) throw failed({ reason: 'the test message did not come back' });
    return { status: 'ok' };
  } catch (e) {
    if (e instanceof AmqpError) throw failed({ reason: e.message });
    throw e;
  }
}
