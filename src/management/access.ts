/**
 * Who may use the management API and see what, following RabbitMQ's tags:
 *   - no management tag: nothing (401 "Not management user");
 *   - management / policymaker: their own connections, and vhosts they have permissions in;
 *   - monitoring: additionally every connection, channel and consumer, every vhost's name, nodes;
 *   - administrator: everything, including users, permissions and definitions.
 */
import type { User } from '../auth/users.js';
import type { ManagedBroker } from './managed-broker.js';
import { HttpError, notAuthorised, objectNotFound } from './http.js';
import { isStrictBase64 } from './validate.js';

/** `public`: answered without credentials (RabbitMQ's /api/auth, read by login pages). */
export type AccessLevel = 'public' | 'management' | 'monitoring' | 'policymaker' | 'administrator';

const MANAGEMENT_TAGS = new Set(['management', 'policymaker', 'monitoring', 'administrator']);

export function isAdministrator(user: User): boolean {
  return user.tags.includes('administrator');
}

export function isMonitor(user: User): boolean {
  return user.tags.includes('monitoring') || isAdministrator(user);
}

export function isManagementUser(user: User): boolean {
  return user.tags.some((t) => MANAGEMENT_TAGS.has(t));
}

const CHALLENGE = { 'www-authenticate': 'Basic realm="RabbitMQ Management"' };
const LOGIN_FAILED = () => new HttpError(401, 'not_authorized', 'Login failed', CHALLENGE);
/** No credentials at all: RabbitMQ answers the bare challenge, with an empty body. */
const NO_CREDENTIALS = () => new HttpError(401, 'not_authorized', 'Login failed', CHALLENGE, '');
/**
 * An Authorization header that cannot be parsed (empty, `Basic` without credentials, not base64,
 * no colon): RabbitMQ's HTTP server rejects the request itself, 400 with an empty body and no challenge.
 */
const MALFORMED_AUTHORIZATION = () => new HttpError(400, 'bad_request', 'malformed authorization header', {}, '');

/**
 * Checks HTTP basic credentials. The realm matters: LWP-based tools (the Nagios plugins) only send
 * credentials for the realm RabbitMQ announces.
 */
export function authenticate(broker: ManagedBroker, authorization: string | undefined, remoteAddress: string): User {
  if (authorization === undefined) throw NO_CREDENTIALS();
  const basic = /^Basic(?:\s+(.*?))?\s*$/i.exec(authorization);
  // Another scheme (Bearer without OAuth 2, …) is a failed login; an unreadable header a bad request.
  if (!basic) throw authorization.trim() === '' ? MALFORMED_AUTHORIZATION() : LOGIN_FAILED();
  const encoded = basic[1] ?? '';
  if (encoded === '' || !isStrictBase64(encoded)) throw MALFORMED_AUTHORIZATION();
  const decoded = Buffer.from(encoded, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) throw MALFORMED_AUTHORIZATION();
  const name = decoded.slice(0, colon);
  const password = decoded.slice(colon + 1);
  const user = broker.users.authenticate(name, password);
  if (!user) throw LOGIN_FAILED();
  if (broker.options.loopbackUsers.includes(name) && !isLoopback(remoteAddress)) {
    throw notAuthorised('User can only log in via localhost');
  }
  return user;
}

/** Who calls a public route without credentials. */
export const ANONYMOUS: User = { name: '', passwordHash: '', hashingAlgorithm: '', tags: [] };

export function requireLevel(user: User, level: AccessLevel): void {
  if (level === 'public') return;
  if (!isManagementUser(user)) throw notAuthorised('Not management user');
  if (level === 'administrator' && !isAdministrator(user)) throw notAuthorised('Not administrator user');
  if (level === 'monitoring' && !isMonitor(user)) throw notAuthorised('Not monitor user');
  if (level === 'policymaker' && !user.tags.includes('policymaker') && !isAdministrator(user)) {
    // RabbitMQ's words for policies and parameters (it has no "Not policymaker user").
    throw notAuthorised('User not authorised to access object');
  }
}

/** Vhosts whose queues, exchanges and bindings the user sees in lists. */
export function visibleVhosts(broker: ManagedBroker, user: User): Set<string> {
  const all = [...broker.vhosts.keys()];
  if (isAdministrator(user)) return new Set(all);
  return new Set(all.filter((v) => broker.users.hasVhostAccess(v, user.name)));
}

/** The vhost list itself: monitoring users see every name. */
export function listableVhosts(broker: ManagedBroker, user: User): Set<string> {
  if (isMonitor(user)) return new Set(broker.vhosts.keys());
  return visibleVhosts(broker, user);
}

/** A vhost named in the path: 404 when it does not exist, 401 when the user has no access to it. */
export function requireVhost(broker: ManagedBroker, user: User, name: string): void {
  if (!broker.vhosts.has(name)) throw objectNotFound();
  if (!isAdministrator(user) && !broker.users.hasVhostAccess(name, user.name)) {
    throw notAuthorised('User not authorised to access virtual host');
  }
}

/** Whether the user sees a connection (or its channels and consumers). */
export function seesConnectionOf(user: User, owner: string): boolean {
  return isMonitor(user) || owner === user.name;
}

function isLoopback(addr: string): boolean {
  return addr === '::1' || addr.startsWith('127.') || addr.startsWith('::ffff:127.');
}
