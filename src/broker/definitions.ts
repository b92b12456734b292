/**
 * The broker's state ⇄ RabbitMQ's definitions JSON: users, vhosts, permissions, durable exchanges,
 * queues and bindings. The same document is Warren's on-disk definitions file and what the
 * management API exports and imports.
 */
import { fieldTableFromJson, fieldTableToJson } from '../protocol/field-table.js';
import type { Definitions, JsonValue } from '../store/definitions.js';
import type { MessageList } from './message-list.js';
import type { UserStore } from '../auth/users.js';
import type { VirtualHost } from './vhost.js';
import { VERSION } from '../version.js';

export interface DefinitionsHost {
  readonly vhosts: ReadonlyMap<string, VirtualHost>;
  readonly users: UserStore;
  addVhost(name: string): VirtualHost;
}

export function exportDefinitions(broker: DefinitionsHost): Definitions {
  const defs: Required<Pick<Definitions, 'users' | 'vhosts' | 'permissions' | 'topic_permissions' | 'parameters' | 'global_parameters' | 'policies' | 'queues' | 'exchanges' | 'bindings'>> & Definitions = {
    rabbit_version: '3.10.8',
    rabbitmq_version: '3.10.8',
    product_name: 'Warren',
    product_version: VERSION,
    users: [], vhosts: [], permissions: [], topic_permissions: [], parameters: [], global_parameters: [],
    policies: [], queues: [], exchanges: [], bindings: [],
  };
  for (const u of broker.users.users.values()) {
    defs.users.push({ name: u.name, password_hash: u.passwordHash, hashing_algorithm: u.hashingAlgorithm, tags: [...u.tags], limits: {} });
  }
  for (const p of broker.users.listPermissions()) defs.permissions.push({ user: p.user, vhost: p.vhost, ...p.permission });
  for (const p of broker.users.listTopicPermissions()) defs.topic_permissions.push({ user: p.user, vhost: p.vhost, ...p.permission });
  for (const v of broker.vhosts.values()) {
    defs.vhosts.push({ name: v.name, limits: {}, metadata: { description: '', tags: [] } });
    for (const ex of v.exchanges.values()) {
      if (!ex.durable || ex.name === '' || ex.name.startsWith('amq.')) continue;
      defs.exchanges.push({
        name: ex.name, vhost: v.name, type: ex.type, durable: true, auto_delete: ex.autoDelete, internal: ex.internal,
        arguments: fieldTableToJson(ex.options.arguments) as Record<string, JsonValue>,
      });
    }
    for (const q of v.queues.values()) {
      if (!q.durable || q.exclusive) continue;
      defs.queues.push({ name: q.name, vhost: v.name, durable: true, auto_delete: q.autoDelete, arguments: fieldTableToJson(q.options.arguments) as Record<string, JsonValue> });
    }
    for (const b of v.allBindings()) {
      const src = v.exchanges.get(b.source);
      const dst = b.destination.kind === 'queue' ? v.queues.get(b.destination.name) : v.exchanges.get(b.destination.name);
      if (!src?.durable || !dst?.durable || (dst.kind === 'queue' && dst.exclusive)) continue;
      defs.bindings.push({
        source: b.source, vhost: v.name, destination: b.destination.name, destination_type: b.destination.kind,
        routing_key: b.routingKey, arguments: fieldTableToJson(b.arguments) as Record<string, JsonValue>,
      });
    }
  }
  return defs;
}

/**
 * Apply a definitions document. `messageListFor` supplies the stored messages of a durable queue
 * (recovered at start-up, or a fresh list on import).
 */
export function importDefinitions(
  broker: DefinitionsHost,
  defs: Definitions,
  messageListFor: (vhost: string, queue: string) => MessageList,
): void {
  for (const v of defs.vhosts ?? []) broker.addVhost(v.name);
  for (const u of defs.users ?? []) {
    const tags = Array.isArray(u.tags) ? u.tags : String(u.tags ?? '').split(',').map((t) => t.trim()).filter(Boolean);
    broker.users.putUser({
      name: u.name,
      passwordHash: u.password_hash ?? '',
      hashingAlgorithm: u.hashing_algorithm ?? 'rabbit_password_hashing_sha256',
      tags,
    });
  }
  for (const p of defs.permissions ?? []) {
    if (!broker.vhosts.has(p.vhost)) continue;
    broker.users.setPermission(p.vhost, p.user, { configure: p.configure, write: p.write, read: p.read });
  }
  for (const p of defs.topic_permissions ?? []) {
    broker.users.setTopicPermission(p.vhost, p.user, { exchange: p.exchange, write: p.write, read: p.read });
  }
  for (const e of defs.exchanges ?? []) {
    const v = broker.vhosts.get(e.vhost) ?? broker.addVhost(e.vhost);
    if (v.exchanges.has(e.name)) continue;
    v.declareExchange({
      name: e.name, type: e.type, passive: false, durable: e.durable, autoDelete: e.auto_delete,
      internal: e.internal, arguments: fieldTableFromJson(e.arguments),
    });
  }
  for (const q of defs.queues ?? []) {
    const v = broker.vhosts.get(q.vhost) ?? broker.addVhost(q.vhost);
    if (v.queues.has(q.name)) continue;
    v.restoreQueue(q.name, { autoDelete: q.auto_delete, arguments: fieldTableFromJson(q.arguments) }, messageListFor(q.vhost, q.name));
  }
  for (const b of defs.bindings ?? []) {
    const v = broker.vhosts.get(b.vhost);
    if (!v) continue;
    try {
      v.bind(b.source, { kind: b.destination_type, name: b.destination }, b.routing_key, fieldTableFromJson(b.arguments), 0);
    } catch {
      // A binding whose source or destination is missing from the file is skipped, as RabbitMQ does.
    }
  }
}
