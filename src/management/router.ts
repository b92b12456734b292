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

  /** undefined: no such path (404); a 405 HttpError when the path exists for other methods. */
  match(method: string, rawPath: string): Match | undefined {
    const parts = rawPath.split('/').filter(Boolean).map(decodeSegment);
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
    if (allowed.size > 0) {
      throw new HttpError(405, 'method_not_allowed', 'Method Not Allowed', { allow: [...allowed].join(', ') });
    }
    return undefined;
  }
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
