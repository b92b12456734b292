/**
 * Checks on request bodies, failing with RabbitMQ's 400 reasons (`[{key_missing,write}]`,
 * `["not_boolean","yes"]`) so scripts that parse them keep working.
 */
import { validateRegex } from '../auth/users.js';
import { badRequest } from './http.js';

export type Body = Record<string, unknown>;

/** Base64 as Erlang's base64:decode accepts it: whole 4-character groups, padding only at the end. */
export function isStrictBase64(s: string): boolean {
  return /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(s);
}

/** 400 listing every missing key at once, as RabbitMQ does. */
export function requireKeys(body: Body, keys: string[]): void {
  const missing = keys.filter((k) => body[k] === undefined);
  if (missing.length > 0) throw badRequest(`[${missing.map((k) => `{key_missing,${k}}`).join(',')}]`);
}

export function optionalBool(body: Body, key: string, fallback: boolean): boolean {
  const v = body[key];
  if (v === undefined || v === null) return fallback;
  if (typeof v === 'boolean') return v;
  if (v === 'true') return true;
  if (v === 'false') return false;
  throw badRequest(['not_boolean', v]);
}

export function requireString(body: Body, key: string): string {
  const v = body[key];
  if (typeof v !== 'string') {
    if (v === undefined) throw badRequest(`[{key_missing,${key}}]`);
    throw badRequest(`${key} must be a string`);
  }
  return v;
}

export function optionalString(body: Body, key: string, fallback: string): string {
  const v = body[key];
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'string') throw badRequest(`${key} must be a string`);
  return v;
}

export function optionalObject(body: Body, key: string): Record<string, unknown> {
  const v = body[key];
  if (v === undefined || v === null) return {};
  // RabbitMQ's own UI sends [] for "no arguments".
  if (Array.isArray(v) && v.length === 0) return {};
  if (typeof v !== 'object' || Array.isArray(v)) throw badRequest(`${key} must be an object`);
  return v as Record<string, unknown>;
}

/** A permission pattern; an invalid one is a 400 naming it. */
export function requireRegex(body: Body, key: string): string {
  const pattern = requireString(body, key);
  const problem = validateRegex(pattern);
  if (problem !== undefined) throw badRequest(`invalid regular expression '${pattern}' for ${key}: ${problem}`);
  return pattern;
}

/** Tags arrive as "a,b" (rabbitmqadmin, old UIs) or ["a","b"] (3.10 exports). */
export function parseTags(v: unknown): string[] {
  if (v === undefined || v === null) return [];
  if (Array.isArray(v)) {
    if (!v.every((t) => typeof t === 'string')) throw badRequest('tags must be strings');
    return v.map((t) => t.trim()).filter(Boolean);
  }
  if (typeof v !== 'string') throw badRequest('tags must be a string or a list of strings');
  return v.split(',').map((t) => t.trim()).filter(Boolean);
}

/** A query-string flag such as `if-empty=true`. */
export function queryFlag(query: URLSearchParams, key: string): boolean {
  const v = query.get(key);
  return v === 'true' || v === '1';
}
