/**
 * Definitions in RabbitMQ's JSON format (GET/POST /api/definitions, `rabbitmqctl
 * export_definitions`): users with their password hashes, vhosts, permissions, topic permissions,
 * exchanges, queues and bindings.
 *
 * Export mirrors RabbitMQ's: every non-exclusive queue and every exchange except the predeclared
 * ones, durable or not (`durableOnly` narrows it to what survives a restart). Import validates the
 * whole document before changing anything, so a bad file is refused with a 400 reason and leaves
 * the broker as it was; then it applies users, vhosts, permissions, exchanges, queues and bindings
 * in that order through the same declare paths AMQP clients use.
 */
import { randomBytes } from 'node:crypto';
import { hashPassword, HASHING_ALGORITHM } from '../auth/password.js';
import { validateRegex, type User } from '../auth/users.js';
import type { ManagedBroker } from './managed-broker.js';
import { isExchangeType } from '../broker/exchange/index.js';
import type { DefinitionChange, VirtualHost } from '../broker/vhost.js';
import type { Binding, Exchange } from '../broker/exchange/index.js';
import type { Queue } from '../broker/queue.js';
import { checkLimit, limitsJson } from '../broker/limits.js';
import { parsePolicy, policyJson, PolicyValidationError, type Policy, type PolicyInput, type PolicyKind } from '../broker/policies.js';
import { AmqpError } from '../protocol/errors.js';
import { fieldTableFromJson, fieldTableToJson, type FieldTable } from '../protocol/field-table.js';
import type {
  BindingDefinition, DefinitionRecord, Definitions, ExchangeDefinition, GlobalParameterDefinition, JsonValue, ParameterDefinition, PermissionDefinition,
  QueueDefinition, TopicPermissionDefinition, UserDefinition, VhostDefinition,
} from '../store/definitions.js';
import { clusterPermanentId } from '../metrics/node-stats.js';
import { RABBITMQ_VERSION, VERSION } from '../version.js';
import { getVhostMetadata, setVhostMetadata } from './vhost-metadata.js';

export type { Definitions } from '../store/definitions.js';

/** Password hashing algorithms Warren can verify (RabbitMQ's three). */
export const HASHING_ALGORITHMS = ['rabbit_password_hashing_sha256', 'rabbit_password_hashing_sha512', 'rabbit_password_hashing_md5'];

/** A definitions document Warren refuses; the message is the HTTP 400 reason. */
export class DefinitionsError extends Error {}

export interface ExportOptions {
  /** Only this vhost's queues, exchanges and bindings, without `vhost` fields (GET /api/definitions/{vhost}). */
  vhost?: string;
  /** Only what survives a restart: durable exchanges and queues and bindings between them. */
  durableOnly?: boolean;
}

export function exportDefinitions(broker: ManagedBroker, options: ExportOptions = {}): Definitions {
  const scoped = options.vhost !== undefined;
  const vhosts = scoped ? [broker.vhosts.get(options.vhost!)].filter((v): v is VirtualHost => !!v) : [...broker.vhosts.values()];
  const defs: Definitions = scoped
    ? { rabbit_version: RABBITMQ_VERSION, rabbitmq_version: RABBITMQ_VERSION, product_name: 'Warren', product_version: VERSION }
    : {
        rabbit_version: RABBITMQ_VERSION,
        rabbitmq_version: RABBITMQ_VERSION,
        product_name: 'Warren',
        product_version: VERSION,
        users: [...broker.users.users.values()].map((u) => ({
          name: u.name, password_hash: u.passwordHash, hashing_algorithm: u.hashingAlgorithm, tags: [...u.tags],
          limits: limitsJson(broker.users.limits.get(u.name) ?? new Map()),
        })),
        vhosts: vhosts.map((v) => {
          const meta = getVhostMetadata(v);
          return { name: v.name, limits: limitsJson(v.limits), metadata: { description: meta.description, tags: [...meta.tags] } };
        }),
        permissions: broker.users.listPermissions().map((p) => ({ user: p.user, vhost: p.vhost, ...p.permission })),
        topic_permissions: broker.users.listTopicPermissions().map((p) => ({ user: p.user, vhost: p.vhost, ...p.permission })),
      };
  defs.parameters = runtimeParameters(vhosts);
  if (!scoped) defs.global_parameters = globalParameters(broker);
  defs.policies = [];
  for (const v of vhosts) {
    for (const p of v.policies.policies.values()) defs.policies.push(policyJson(p));
  }
  const queues: QueueDefinition[] = [];
  const exchanges: ExchangeDefinition[] = [];
  const bindings: BindingDefinition[] = [];
  for (const v of vhosts) {
    for (const q of v.queues.values()) {
      if (q.exclusive || (options.durableOnly && !q.durable)) continue;
      queues.push(queueDefinition(v.name, q));
    }
    for (const ex of v.exchanges.values()) {
      if (isPredeclared(ex) || (options.durableOnly && !ex.durable)) continue;
      exchanges.push(exchangeDefinition(v.name, ex));
    }
    for (const b of v.allBindings()) {
      const dest = b.destination.kind === 'queue' ? v.queues.get(b.destination.name) : v.exchanges.get(b.destination.name);
      if (!dest || (dest.kind === 'queue' && dest.exclusive)) continue;
      if (options.durableOnly && !(v.exchanges.get(b.source)?.durable && dest.durable)) continue;
      bindings.push(bindingDefinition(v.name, b));
    }
  }
  const strip = <T extends { vhost: string }>(items: T[]) =>
    scoped ? items.map(({ vhost: _vhost, ...rest }) => rest as unknown as T) : items;
  defs.queues = strip(queues);
  defs.exchanges = strip(exchanges);
  defs.bindings = strip(bindings);
  return defs;
}

const json = (t: FieldTable): Record<string, JsonValue> => fieldTableToJson(t) as Record<string, JsonValue>;

function isPredeclared(ex: Exchange): boolean {
  return ex.name === '' || ex.name.startsWith('amq.');
}

function queueDefinition(vhost: string, q: Queue): QueueDefinition {
  return { name: q.name, vhost, durable: q.durable, auto_delete: q.autoDelete, arguments: json(q.options.arguments) };
}

function exchangeDefinition(vhost: string, ex: Exchange): ExchangeDefinition {
  return {
    name: ex.name, vhost, type: ex.type, durable: ex.durable, auto_delete: ex.autoDelete,
    internal: ex.internal, arguments: json(ex.options.arguments),
  };
}

function bindingDefinition(vhost: string, b: Binding): BindingDefinition {
  return {
    source: b.source, vhost, destination: b.destination.name, destination_type: b.destination.kind,
    routing_key: b.routingKey, arguments: json(b.arguments),
  };
}

/** The stored definitions' log records of a vhost's changes (the vhost reports only stored ones). */
export function definitionRecords(changes: readonly DefinitionChange[]): DefinitionRecord[] {
  const records: DefinitionRecord[] = [];
  for (const c of changes) {
    const op = c.removed ? 'delete' : 'put';
    if (c.kind === 'queue') records.push({ op, kind: 'queues', item: queueDefinition(c.vhost, c.queue) });
    else if (c.kind === 'binding') records.push({ op, kind: 'bindings', item: bindingDefinition(c.vhost, c.binding) });
    else if (!isPredeclared(c.exchange)) records.push({ op, kind: 'exchanges', item: exchangeDefinition(c.vhost, c.exchange) });
  }
  return records;
}

export interface ImportOptions {
  /** Import into this vhost: items need no `vhost` field (POST /api/definitions/{vhost}). */
  vhost?: string;
  /** The user importing over HTTP gets full permissions on vhosts the import creates, as in RabbitMQ. */
  actingUser?: string;
  /**
   * Restoring the broker's own stored definitions at start-up: stored objects come back as they
   * were (no client-facing name rules), and an item that cannot be restored is handed to this
   * callback and skipped instead of failing the whole import, so one bad definition never keeps
   * the broker from starting.
   */
  onSkipped?: (skipped: SkippedDefinition) => void;
}

/** A definition left out of a restore, with the reason; `item` is the stored JSON as it was. */
export interface SkippedDefinition {
  kind: 'users' | 'vhosts' | 'permissions' | 'topic_permissions' | 'exchanges' | 'queues' | 'bindings' | 'policies' | 'parameters';
  item: unknown;
  reason: string;
}

/** Operator policies and vhost limits as the runtime parameters RabbitMQ stores them as (/api/parameters, definitions). */
export function runtimeParameters(vhosts: Iterable<VirtualHost>): ParameterDefinition[] {
  const out: ParameterDefinition[] = [];
  for (const v of vhosts) {
    for (const p of v.policies.operatorPolicies.values()) {
      const { vhost, name, ...value } = policyJson(p);
      out.push({ vhost, component: 'operator_policy', name, value });
    }
    if (v.limits.size > 0) out.push({ vhost: v.name, component: 'vhost-limits', name: 'limits', value: limitsJson(v.limits) });
  }
  return out;
}

/**
 * The global parameters RabbitMQ always has: `internal_cluster_id` (Warren's stable id, as in
 * rabbitmq_identity_info) and `cluster_name` when one is set (configured, or PUT /api/cluster-name), with
 * any set over PUT /api/global-parameters/{name}; sorted by name as RabbitMQ lists them.
 */
export function globalParameters(broker: ManagedBroker): GlobalParameterDefinition[] {
  return [
    ...(broker.options.clusterName === undefined ? [] : [{ name: 'cluster_name', value: broker.options.clusterName }]),
    { name: 'internal_cluster_id', value: clusterPermanentId(broker.options.dataDir) },
    ...[...broker.customGlobalParameters].map(([name, value]) => ({ name, value })),
  ].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

function storedGlobalParameters(input: unknown): GlobalParameterDefinition[] {
  const params = (input as { global_parameters?: unknown }).global_parameters;
  if (!Array.isArray(params)) return [];
  return params.filter((x): x is GlobalParameterDefinition =>
    typeof x === 'object' && x !== null && typeof (x as { name?: unknown }).name === 'string' && (x as { value?: unknown }).value !== undefined);
}

/** Validates `input` as a definitions document, then applies it. Throws DefinitionsError when refused. */
export function importDefinitions(broker: ManagedBroker, input: unknown, options: ImportOptions = {}): void {
  const restoring = options.onSkipped !== undefined;
  const defs = validate(broker, input, options.vhost, options.onSkipped);
  for (const u of defs.users) broker.users.putUser(u);
  // A cluster name set at run time comes back with the definitions; at start-up one from the
  // configuration (cluster_name in rabbitmq.conf) wins.
  for (const p of storedGlobalParameters(input)) {
    if (p.name === 'cluster_name' && restoring && broker.options.clusterName !== undefined) continue;
    broker.setGlobalParameter(p.name, p.value);
  }
  for (const v of defs.vhosts) {
    const existed = broker.vhosts.has(v.name);
    const vhost = broker.addVhost(v.name);
    if (v.metadata) setVhostMetadata(vhost, v.metadata);
    if (!existed && options.actingUser && broker.users.users.has(options.actingUser)) {
      broker.users.setPermission(v.name, options.actingUser, { configure: '.*', write: '.*', read: '.*' });
    }
  }
  for (const p of defs.permissions) broker.users.setPermission(p.vhost, p.user, { configure: p.configure, write: p.write, read: p.read });
  for (const p of defs.topic_permissions) broker.users.setTopicPermission(p.vhost, p.user, { exchange: p.exchange, write: p.write, read: p.read });
  for (const [user, limits] of defs.userLimits) for (const [k, v] of limits) broker.users.setLimit(user, k, v);
  for (const { vhost, limits } of defs.vhostLimits) for (const [k, v] of limits) broker.vhosts.get(vhost)!.limits.set(k, v);
  for (const p of defs.policies) broker.vhosts.get(p.vhost)!.setPolicy(p.kind, p.policy);
  const failures: string[] = [];
  const attempt = (kind: SkippedDefinition['kind'], item: unknown, what: string, fn: () => void) => {
    try {
      fn();
    } catch (e) {
      if (!(e instanceof AmqpError)) throw e;
      if (options.onSkipped) options.onSkipped({ kind, item, reason: `${what}: ${e.message}` });
      else failures.push(`${what}: ${e.message}`);
    }
  };
  // Existing exchanges and queues are kept as they are, as RabbitMQ's import does.
  for (const e of defs.exchanges) {
    if (broker.vhosts.get(e.vhost)!.exchanges.has(e.name)) continue;
    attempt('exchanges', e, `exchange '${e.name}' in vhost '${e.vhost}'`, () => broker.vhosts.get(e.vhost)!.declareExchange({
      name: e.name, type: e.type, passive: false, durable: e.durable, autoDelete: e.auto_delete, internal: e.internal,
      arguments: fieldTableFromJson(e.arguments),
    }));
  }
  for (const q of defs.queues) {
    if (broker.vhosts.get(q.vhost)!.queues.has(q.name)) continue;
    // RabbitMQ's import skips queues named amq.* (only the broker makes those); a restore brings
    // back the server-named queues it stored itself.
    if (!restoring && q.name.startsWith('amq.')) continue;
    attempt('queues', q, `queue '${q.name}' in vhost '${q.vhost}'`, () => broker.vhosts.get(q.vhost)!.declareQueue({
      name: q.name, passive: false, durable: q.durable, exclusive: false, autoDelete: q.auto_delete,
      arguments: fieldTableFromJson(q.arguments), recovered: restoring,
    }, 0));
  }
  for (const b of defs.bindings) {
    attempt('bindings', b, `binding from '${b.source}' to ${b.destination_type} '${b.destination}' in vhost '${b.vhost}'`, () =>
      broker.vhosts.get(b.vhost)!.bind(
        b.source, { kind: b.destination_type, name: b.destination }, b.routing_key, fieldTableFromJson(b.arguments), 0,
      ));
  }
  if (failures.length > 0) throw new DefinitionsError(failures.join('; '));
}

interface ValidDefinitions {
  users: User[];
  vhosts: { name: string; metadata?: { description: string; tags: string[] } }[];
  permissions: PermissionDefinition[];
  topic_permissions: TopicPermissionDefinition[];
  queues: QueueDefinition[];
  exchanges: ExchangeDefinition[];
  bindings: BindingDefinition[];
  policies: { kind: PolicyKind; vhost: string; policy: Policy }[];
  vhostLimits: { vhost: string; limits: Map<string, number> }[];
  userLimits: [string, Map<string, number>][];
}

type Obj = Record<string, unknown>;

/**
 * Checks the whole document. Without `onInvalid` the first problem refuses it; with it (a restore)
 * each invalid item is reported there and left out, and the rest goes on.
 */
function validate(
  broker: ManagedBroker, input: unknown, scopeVhost: string | undefined, onInvalid?: (skipped: SkippedDefinition) => void,
): ValidDefinitions {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw new DefinitionsError('definitions must be a JSON object');
  const d = input as Obj;
  /** Each item of list `key` through `parse`; invalid ones refuse the document or are skipped. */
  const list = <T>(key: SkippedDefinition['kind'], parse: (o: Obj, where: string) => T): T[] => {
    const v = d[key];
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v)) {
      if (!onInvalid) throw new DefinitionsError(`'${key}' must be a list`);
      onInvalid({ kind: key, item: v, reason: `'${key}' must be a list` });
      return [];
    }
    const out: T[] = [];
    v.forEach((item, i) => {
      const where = `${key}[${i}]`;
      try {
        if (typeof item !== 'object' || item === null || Array.isArray(item)) throw new DefinitionsError(`${where} must be an object`);
        out.push(parse(item as Obj, where));
      } catch (e) {
        if (!onInvalid || !(e instanceof DefinitionsError)) throw e;
        onInvalid({ kind: key, item, reason: e.message });
      }
    });
    return out;
  };
  const str = (o: Obj, key: string, where: string, fallback?: string): string => {
    const v = o[key] ?? fallback;
    if (typeof v !== 'string') throw new DefinitionsError(`${where}: '${key}' must be a string`);
    return v;
  };
  const bool = (o: Obj, key: string, where: string, fallback: boolean): boolean => {
    const v = o[key] ?? fallback;
    if (typeof v !== 'boolean') throw new DefinitionsError(`${where}: '${key}' must be true or false`);
    return v;
  };
  const table = (o: Obj, key: string, where: string): Record<string, JsonValue> => {
    const v = o[key] ?? {};
    if (Array.isArray(v) && v.length === 0) return {};
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new DefinitionsError(`${where}: '${key}' must be an object`);
    return v as Record<string, JsonValue>;
  };
  const regex = (o: Obj, key: string, where: string): string => {
    const pattern = str(o, key, where);
    const problem = validateRegex(pattern);
    if (problem !== undefined) throw new DefinitionsError(`${where}: invalid regular expression '${pattern}' for ${key}: ${problem}`);
    return pattern;
  };

  const userLimits: [string, Map<string, number>][] = [];
  const users: User[] = list('users', (u, where) => {
    const name = str(u, 'name', where);
    const limits = u['limits'];
    if (limits && typeof limits === 'object' && !Array.isArray(limits) && Object.keys(limits).length > 0) {
      userLimits.push([name, limitMap('user', limits as Obj, where)]);
    }
    let passwordHash: string;
    let hashingAlgorithm = HASHING_ALGORITHM;
    if (typeof u['password_hash'] === 'string') {
      passwordHash = u['password_hash'];
      hashingAlgorithm = str(u, 'hashing_algorithm', where, HASHING_ALGORITHM);
      if (!HASHING_ALGORITHMS.includes(hashingAlgorithm)) throw new DefinitionsError(`${where}: unsupported hashing_algorithm '${hashingAlgorithm}'`);
    } else if (typeof u['password'] === 'string') {
      passwordHash = hashPassword(u['password']);
    } else {
      // No password at all: a user that cannot log in with one, as RabbitMQ makes it.
      passwordHash = hashPassword(randomBytes(24).toString('base64'));
    }
    return { name, passwordHash, hashingAlgorithm, tags: tagsOf((u as Partial<UserDefinition>).tags, where) };
  });
  const vhostNames = new Set(broker.vhosts.keys());
  const vhosts = list('vhosts', (v, where) => {
    const name = str(v, 'name', where);
    if (name === '') throw new DefinitionsError(`${where}: vhost name must not be empty`);
    vhostNames.add(name);
    const meta = (v as unknown as VhostDefinition).metadata;
    const description = typeof meta?.description === 'string' ? meta.description : typeof v['description'] === 'string' ? v['description'] : undefined;
    const rawTags = meta?.tags ?? (v as unknown as VhostDefinition).tags;
    return description === undefined && rawTags === undefined
      ? { name }
      : { name, metadata: { description: description ?? '', tags: tagsOf(rawTags, where) } };
  });
  const userNames = new Set([...broker.users.users.keys(), ...users.map((u) => u.name)]);
  const vhostOf = (o: Obj, where: string): string => {
    const name = scopeVhost ?? str(o, 'vhost', where);
    if (!vhostNames.has(name)) throw new DefinitionsError(`${where}: no_such_vhost '${name}'`);
    return name;
  };
  const userOf = (o: Obj, where: string): string => {
    const name = str(o, 'user', where);
    if (!userNames.has(name)) throw new DefinitionsError(`${where}: no_such_user '${name}'`);
    return name;
  };
  const permissions = list('permissions', (p, where) => {
    return { user: userOf(p, where), vhost: vhostOf(p, where), configure: regex(p, 'configure', where), write: regex(p, 'write', where), read: regex(p, 'read', where) };
  });
  const topicPermissions = list('topic_permissions', (p, where) => {
    return { user: userOf(p, where), vhost: vhostOf(p, where), exchange: str(p, 'exchange', where), write: regex(p, 'write', where), read: regex(p, 'read', where) };
  });
  const exchanges = list('exchanges', (e, where) => {
    const type = str(e, 'type', where, 'direct');
    if (!isExchangeType(type)) throw new DefinitionsError(`${where}: invalid exchange type '${type}'`);
    return {
      name: str(e, 'name', where), vhost: vhostOf(e, where), type, durable: bool(e, 'durable', where, true),
      auto_delete: bool(e, 'auto_delete', where, false), internal: bool(e, 'internal', where, false), arguments: table(e, 'arguments', where),
    };
  }).filter((e) => e.name !== '' && !e.name.startsWith('amq.'));
  const queues = list('queues', (q, where) => {
    return {
      name: str(q, 'name', where), vhost: vhostOf(q, where), durable: bool(q, 'durable', where, true),
      auto_delete: bool(q, 'auto_delete', where, false), arguments: table(q, 'arguments', where),
    };
  });
  const bindings = list('bindings', (b, where) => {
    const kind = str(b, 'destination_type', where, 'queue');
    if (kind !== 'queue' && kind !== 'exchange') throw new DefinitionsError(`${where}: destination_type must be 'queue' or 'exchange'`);
    return {
      source: str(b, 'source', where), vhost: vhostOf(b, where), destination: str(b, 'destination', where),
      destination_type: kind as 'queue' | 'exchange', routing_key: str(b, 'routing_key', where, ''), arguments: table(b, 'arguments', where),
    };
  });
  const policy = (kind: PolicyKind, o: Obj, name: string, where: string) => {
    const vhost = vhostOf(o, where);
    try {
      return { kind, vhost, policy: parsePolicy(kind, vhost, name, o as PolicyInput) };
    } catch (e) {
      if (e instanceof PolicyValidationError) throw new DefinitionsError(`${where}: ${e.message}`);
      throw e;
    }
  };
  const policies = list('policies', (p, where) => policy('policy', p, str(p, 'name', where), where));
  const vhostLimits: ValidDefinitions['vhostLimits'] = [];
  list('parameters', (p, where) => {
    const component = str(p, 'component', where);
    const value = p['value'];
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new DefinitionsError(`${where}: 'value' must be an object`);
    if (component === 'operator_policy') {
      policies.push(policy('operator_policy', { ...(value as Obj), vhost: p['vhost'] }, str(p, 'name', where), where));
    } else if (component === 'vhost-limits') {
      vhostLimits.push({ vhost: vhostOf(p, where), limits: limitMap('vhost', value as Obj, where) });
    }
    // Other components (shovels, federation upstreams) belong to plugins Warren does not have: ignored.
  });
  return { users, vhosts, permissions, topic_permissions: topicPermissions, queues, exchanges, bindings, policies, vhostLimits, userLimits };
}

function limitMap(kind: 'vhost' | 'user', o: Obj, where: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const [k, v] of Object.entries(o)) {
    const problem = checkLimit(kind, k, v);
    if (problem !== undefined) throw new DefinitionsError(`${where}: ${problem}`);
    out.set(k, v as number);
  }
  return out;
}

function tagsOf(v: unknown, where: string): string[] {
  if (v === undefined || v === null) return [];
  if (Array.isArray(v) && v.every((t) => typeof t === 'string')) return v.map((t) => t.trim()).filter(Boolean);
  if (typeof v === 'string') return v.split(',').map((t) => t.trim()).filter(Boolean);
  throw new DefinitionsError(`${where}: tags must be a string or a list of strings`);
}
