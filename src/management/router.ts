/**
 * Maps `METHOD /api/...` to handlers. Paths are split on `/` before percent-decoding, so a vhost
 * named `/` travels as `%2F` in one segment, as in RabbitMQ's API. When several routes match, the
 * one with more literal segments wins (`/api/users/without-permissions` over `/api/users/:name`).
 */
import type { IncomingMessage } from 'node:http';
import type { User } from '../auth/users.js';
import type { ManagedBroker } from './managed-broker.js';
import type { AccessLevel } from './access.js';
import { HttpError, badRequest } from './http.js';
import type { StatsCollector } from './stats.js';
import type { Body } from './validate.js';

export interface Ctx {
  readonly broker: ManagedBroker;
  readonly stats: StatsCollector;
  readonly managementPort: number;
  readonly user: User;
  readonly params: Record<string, string>;
  readonly query: URLSearchParams;
  readonly req: IncomingMessage;
  /** The request body as a JSON object ({} when empty); 400 when it is not one. */
  body(): Promise<Body>;
}

export type Handler = (ctx: Ctx) => unknown;

interface Route {
  method: string;
  segments: string[];
  literals: number;
  access: AccessLevel;
  handler: Handler;
}

export interface Match {
  route: { access: AccessLevel; handler: Handler; method: string };
  params: Record<string, string>;
}

export class Router {
  private readonly routes: Route[] = [];

  add(method: string, pattern: string, access: AccessLevel, handler: Handler): this {
    const segments = pattern.split('/').filter(Boolean);
    this.routes.push({ method, segments, literals: segments.filter((s) => !s.startsWith(':')).length, access, handler });
    return this;
  }

  get(pattern: string, access: AccessLevel, handler: Handler): this {
    return this.add('GET', pattern, access, handler);
  }
  put(pattern: string, access: AccessLevel, handler: Handler): this {
    return this.add('PUT', pattern, access, handler);
  }
  post(pattern: string, access: AccessLevel, handler: Handler): this {
    return this.add('POST', pattern, access, handler);
  }
  delete(pattern: string, access: AccessLevel, handler: Handler): this {
    return this.add('DELETE', pattern, access, handler);
  }

  /**
   * undefined: no such path (404); a 405 HttpError when the path exists for other methods, with an
   * empty body and RabbitMQ's `allow` list.
   */
  match(method: string, rawPath: string): Match | undefined {
    const parts = pathSegments(rawPath);
    let best: { route: Route; params: Record<string, string> } | undefined;
    const allowed = new Set<string>();
    for (const route of this.routes) {
      const params = matchSegments(route.segments, parts);
      if (!params) continue;
      if (route.method !== method && !(method === 'HEAD' && route.method === 'GET')) {
        allowed.add(route.method);
        continue;
      }
      if (!best || route.literals > best.route.literals) best = { route, params };
    }
    if (best) return best;
    if (allowed.size > 0) throw new HttpError(405, 'method_not_allowed', 'Method Not Allowed', { allow: allowHeader(allowed) }, '');
    return undefined;
  }

  /**
   * The `allow` header for OPTIONS on a path (CORS preflights and clients probing a resource):
   * its methods, or what RabbitMQ answers for a path it does not route (`HEAD, GET, OPTIONS`).
   */
  allow(rawPath: string): string {
    const parts = pathSegments(rawPath);
    const methods = new Set(this.routes.filter((r) => matchSegments(r.segments, parts)).map((r) => r.method));
    return allowHeader(methods.size > 0 ? methods : new Set(['GET']));
  }
}

/** RabbitMQ's order: HEAD with GET, then PUT, POST, DELETE, and OPTIONS everywhere. */
function allowHeader(methods: Set<string>): string {
  const order = ['HEAD', 'GET', 'PUT', 'POST', 'DELETE', 'OPTIONS'];
  const all = new Set([...methods, 'OPTIONS', ...(methods.has('GET') ? ['HEAD'] : [])]);
  return order.filter((m) => all.has(m)).join(', ');
}

/**
 * The decoded segments of a path. One trailing slash is allowed (`/api/queues/`), as in RabbitMQ;
 * an empty segment elsewhere (`/api//queues`) matches no route.
 */
function pathSegments(rawPath: string): string[] {
  const parts = rawPath.split('/').slice(1);
  if (parts.length > 1 && parts[parts.length - 1] === '') parts.pop();
  return parts.map(decodeSegment);
}

function matchSegments(pattern: string[], parts: string[]): Record<string, string> | undefined {
  if (pattern.length !== parts.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i]!;
    if (p.startsWith(':')) params[p.slice(1)] = parts[i]!;
    else if (p !== parts[i]) return undefined;
  }
  return params;
}

function decodeSegment(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw badRequest(`invalid percent-encoding in path segment '${s}'`);
  }
}
