/**
 * Users, their tags and per-vhost permissions (configure / write / read regexes, as RabbitMQ).
 * The broker's authorization checks go through `Permissions.check` so every rule has one place.
 */
import { accessRefused } from '../protocol/errors.js';
import { checkPassword, hashPassword, HASHING_ALGORITHM } from './password.js';

export interface User {
  name: string;
  passwordHash: string;
  hashingAlgorithm: string;
  tags: string[];
}

export interface Permission {
  configure: string;
  write: string;
  read: string;
}

export interface TopicPermission {
  exchange: string;
  write: string;
  read: string;
}

export type Access = 'configure' | 'write' | 'read';

interface CompiledPermission extends Permission {
  regex: Record<Access, RegExp>;
}

export class UserStore {
  readonly users = new Map<string, User>();
  /** `${vhost}\0${user}` → permission. */
  private readonly permissions = new Map<string, CompiledPermission>();
  /** `${vhost}\0${user}` → exchange → topic permission. */
  private readonly topicPermissions = new Map<string, Map<string, TopicPermission & { regex: { write: RegExp; read: RegExp } }>>();
  /** User limits (max-connections, max-channels) by user name. */
  readonly limits = new Map<string, Map<string, number>>();
  onChange: () => void = () => {};
  /** Bumped on every change, so callers may cache check results until it moves. */
  generation = 0;

  private changed(): void {
    this.generation++;
    this.onChange();
  }

  addUser(name: string, password: string | undefined, tags: string[] = []): User {
    const user: User = {
      name,
      passwordHash: password === undefined ? '' : hashPassword(password),
      hashingAlgorithm: HASHING_ALGORITHM,
      tags,
    };
    this.users.set(name, user);
    this.changed();
    return user;
  }

  putUser(user: User): void {
    this.users.set(user.name, user);
    this.changed();
  }

  setLimit(user: string, key: string, value: number): void {
    let limits = this.limits.get(user);
    if (!limits) this.limits.set(user, (limits = new Map()));
    limits.set(key, value);
    this.changed();
  }

  clearLimit(user: string, key: string): void {
    const limits = this.limits.get(user);
    if (!limits?.delete(key)) return;
    if (limits.size === 0) this.limits.delete(user);
    this.changed();
  }

  deleteUser(name: string): boolean {
    const existed = this.users.delete(name);
    this.limits.delete(name);
    for (const key of [...this.permissions.keys()]) if (key.endsWith(`\0${name}`)) this.permissions.delete(key);
    for (const key of [...this.topicPermissions.keys()]) if (key.endsWith(`\0${name}`)) this.topicPermissions.delete(key);
    if (existed) this.changed();
    return existed;
  }

  authenticate(name: string, password: string): User | undefined {
    const user = this.users.get(name);
    if (!user || !checkPassword(password, user.passwordHash, user.hashingAlgorithm)) return undefined;
    return user;
  }

  setPermission(vhost: string, user: string, p: Permission): void {
    const regex = { configure: compile(p.configure), write: compile(p.write), read: compile(p.read) };
    this.permissions.set(`${vhost}\0${user}`, { ...p, regex });
    this.changed();
  }

  clearPermission(vhost: string, user: string): boolean {
    const existed = this.permissions.delete(`${vhost}\0${user}`);
    if (existed) this.changed();
    return existed;
  }

  clearVhost(vhost: string): void {
    for (const key of [...this.permissions.keys()]) if (key.startsWith(`${vhost}\0`)) this.permissions.delete(key);
    for (const key of [...this.topicPermissions.keys()]) if (key.startsWith(`${vhost}\0`)) this.topicPermissions.delete(key);
  }

  getPermission(vhost: string, user: string): Permission | undefined {
    const p = this.permissions.get(`${vhost}\0${user}`);
    return p && { configure: p.configure, write: p.write, read: p.read };
  }

  listPermissions(): { vhost: string; user: string; permission: Permission }[] {
    return [...this.permissions.entries()].map(([key, p]) => {
      const [vhost, user] = key.split('\0') as [string, string];
      return { vhost, user, permission: { configure: p.configure, write: p.write, read: p.read } };
    });
  }

  setTopicPermission(vhost: string, user: string, p: TopicPermission): void {
    const key = `${vhost}\0${user}`;
    let m = this.topicPermissions.get(key);
    if (!m) this.topicPermissions.set(key, (m = new Map()));
    m.set(p.exchange, { ...p, regex: { write: compile(p.write), read: compile(p.read) } });
    this.changed();
  }

  clearTopicPermission(vhost: string, user: string, exchange?: string): void {
    const key = `${vhost}\0${user}`;
    if (exchange === undefined) this.topicPermissions.delete(key);
    else this.topicPermissions.get(key)?.delete(exchange);
    this.changed();
  }

  listTopicPermissions(): { vhost: string; user: string; permission: TopicPermission }[] {
    const out: { vhost: string; user: string; permission: TopicPermission }[] = [];
    for (const [key, m] of this.topicPermissions) {
      const [vhost, user] = key.split('\0') as [string, string];
      for (const p of m.values()) out.push({ vhost, user, permission: { exchange: p.exchange, write: p.write, read: p.read } });
    }
    return out;
  }

  hasVhostAccess(vhost: string, user: string): boolean {
    return this.permissions.has(`${vhost}\0${user}`);
  }

  /**
   * Throws RabbitMQ's ACCESS_REFUSED unless `user` may `access` the resource. The default exchange
   * is called `amq.default` for permission purposes, as in RabbitMQ (so `^amq\.default$` grants
   * publishing to it, and the refusal names it).
   */
  check(user: string, vhost: string, access: Access, kind: 'queue' | 'exchange', name: string): void {
    if (kind === 'exchange' && name === '') name = 'amq.default';
    const p = this.permissions.get(`${vhost}\0${user}`);
    if (p && p.regex[access].test(name)) return;
    throw accessRefused(`access to ${kind} '${name}' in vhost '${vhost}' refused for user '${user}'`);
  }

  /**
   * Topic permissions (topic exchanges only): checked only when some are set for this
   * user/vhost/exchange. `{username}` and `{vhost}` in a pattern expand to the connection's values
   * (RabbitMQ's variable expansion), so one pattern can confine every user to their own subtree.
   */
  checkTopic(user: string, vhost: string, access: 'write' | 'read', exchange: string, routingKey: string): void {
    const p = this.topicPermissions.get(`${vhost}\0${user}`)?.get(exchange);
    if (!p) return;
    const pattern = p[access];
    const regex = pattern.includes('{') ? expanded(pattern, user, vhost) : p.regex[access];
    if (regex.test(routingKey)) return;
    throw accessRefused(
      `access to topic '${routingKey}' in exchange '${exchange}' in vhost '${vhost}' refused for user '${user}'`,
    );
  }

  getTopicPermissions(vhost: string, user: string): TopicPermission[] {
    const m = this.topicPermissions.get(`${vhost}\0${user}`);
    return m ? [...m.values()].map((p) => ({ exchange: p.exchange, write: p.write, read: p.read })) : [];
  }
}

/** Expanded topic patterns, compiled once per (pattern, user, vhost). */
const expandedCache = new Map<string, RegExp>();

function expanded(pattern: string, user: string, vhost: string): RegExp {
  const key = `${pattern}\0${user}\0${vhost}`;
  let regex = expandedCache.get(key);
  if (!regex) {
    if (expandedCache.size > 10_000) expandedCache.clear();
    const source = pattern.replaceAll('{username}', escapeRegex(user)).replaceAll('{vhost}', escapeRegex(vhost));
    regex = compileOrNever(source);
    expandedCache.set(key, regex);
  }
  return regex;
}

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function compileOrNever(source: string): RegExp {
  try {
    return compile(source);
  } catch {
    return /(?!)/;
  }
}

/** RabbitMQ matches permission regexes anywhere unless anchored; "" matches nothing. */
function compile(pattern: string): RegExp {
  if (pattern === '') return /(?!)/;
  return new RegExp(pattern);
}

export function validateRegex(pattern: string): string | undefined {
  try {
    new RegExp(pattern);
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}
