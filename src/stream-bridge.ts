/**
 * The broker as the stream protocol sees it (StreamBrokerContext): users, permissions, vhosts,
 * stream creation with RabbitMQ's argument checks, and super-stream routing over the vhost's
 * bindings (a super stream is a direct exchange whose bindings lead to its partition streams).
 */
import type { Socket } from 'node:net';
import type { UserStore } from './auth/users.js';
import type { Logger } from './logger.js';
import type { StreamBrokerContext, Permission } from './stream/stream-context.js';
import type { StreamManager } from './stream/stream-manager.js';
import { argumentsFromProtocol, retentionOf } from './stream/retention.js';
import type { VirtualHost } from './broker/vhost.js';
import type { FieldTable } from './protocol/field-table.js';

export interface StreamBridgeHost {
  readonly users: UserStore;
  readonly vhosts: ReadonlyMap<string, VirtualHost>;
  readonly log: Logger;
  authenticate(username: string, password: string, remoteAddress: string): { name: string } | undefined;
  saslMechanisms(socket: Socket): string[];
  externalUser(socket: Socket): { name: string } | undefined;
  isLoopbackOnly(username: string, remoteAddress: string): boolean;
  whenDefinitionsStored(callback: () => void): void;
}

export interface StreamBridgeOptions {
  advertisedHost: string;
  advertisedPort: number;
  advertisedTlsPort: number;
  frameMax: number;
  heartbeat: number;
  serverVersion: string;
}

export function createStreamBridge(host: StreamBridgeHost, streams: StreamManager, o: StreamBridgeOptions): StreamBrokerContext & { connections: Set<unknown> } {
  const connections = new Set<unknown>();
  return {
    streams,
    log: host.log,
    connections,
    advertisedHost: o.advertisedHost,
    advertisedPort: o.advertisedPort,
    advertisedTlsPort: o.advertisedTlsPort,
    saslMechanisms: (socket) => host.saslMechanisms(socket),
    externalUser: (socket) => host.externalUser(socket),
    frameMax: o.frameMax,
    heartbeat: o.heartbeat,
    serverVersion: o.serverVersion,
    authenticate(username, password, remoteAddress) {
      if (host.isLoopbackOnly(username, remoteAddress) && host.users.authenticate(username, password)) return 'loopback';
      return host.authenticate(username, password, remoteAddress);
    },
    hasVhost: (vhost, user) => host.vhosts.has(vhost) && host.users.hasVhostAccess(vhost, user),
    checkPermission: (user, vhost, access: Permission, name) => host.users.check(user, vhost, access, 'queue', name),
    createStream(vhost, name, protocolArgs) {
      const args = argumentsFromProtocol(protocolArgs);
      const existing = streams.get(vhost, name);
      // As RabbitMQ: the same arguments again = already exists (5); different ones = precondition failed.
      if (existing) return sameArguments(withoutType(existing.args), args) ? 'exists' : { error: 'inequivalent arguments' };
      const v = host.vhosts.get(vhost);
      if (!v) return { error: 'no such vhost' };
      if (v.queues.has(name)) return { error: `queue '${name}' exists and is not a stream` };
      const r = retentionOf(args);
      if (typeof r === 'string') return { error: `invalid ${r}` };
      // Through the vhost, so the stream is a queue there too (AMQP 0-9-1, bindings, management, definitions).
      try {
        v.declareQueue({ name, durable: true, exclusive: false, autoDelete: false, passive: false, arguments: { ...args, 'x-queue-type': 'stream' } as FieldTable }, 0);
      } catch (e) {
        return { error: (e as Error).message };
      }
      return 'created';
    },
    whenDefinitionsStored: (callback) => host.whenDefinitionsStored(callback),
    deleteStream(vhost, name) {
      const v = host.vhosts.get(vhost);
      const q = v?.queues.get(name);
      if (!v || !q || !streams.get(vhost, name)) return false;
      v.removeQueue(q);
      return true;
    },
    route(vhost, superStream, routingKey) {
      const v = host.vhosts.get(vhost);
      if (!v?.exchanges.has(superStream)) return undefined;
      return v.allBindings()
        .filter((b) => b.source === superStream && b.destination.kind === 'queue' && b.routingKey === routingKey)
        .map((b) => b.destination.name);
    },
    partitions(vhost, superStream) {
      const v = host.vhosts.get(vhost);
      if (!v?.exchanges.has(superStream)) return undefined;
      const order = (args: Record<string, unknown>) => Number(args['x-stream-partition-order'] ?? 0);
      return v.allBindings()
        .filter((b) => b.source === superStream && b.destination.kind === 'queue')
        .sort((a, b) => order(a.arguments) - order(b.arguments))
        .map((b) => b.destination.name);
    },
    connectionOpened: (c) => void connections.add(c),
    connectionClosed: (c) => void connections.delete(c),
  };
}

function sameArguments(a: Record<string, unknown>, b: Record<string, unknown>): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const k of keys) if (String(a[k]) !== String(b[k])) return false;
  return true;
}

function withoutType(a: Record<string, unknown>): Record<string, unknown> {
  const { ['x-queue-type']: _type, ...rest } = a;
  return rest;
}
