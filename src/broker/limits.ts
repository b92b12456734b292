/**
 * Vhost limits (max-connections, max-queues) and user limits (max-connections, max-channels), as
 * RabbitMQ 3.10 keeps them: a negative value means "no limit", a missing key too. The refusals
 * themselves are raised where the counted thing is created (connection.open, channel.open,
 * queue.declare) with RabbitMQ's texts from src/protocol/errors.ts.
 */
import { erlangTerm } from './policy-validation.js';

export const VHOST_LIMIT_KEYS = ['max-connections', 'max-queues'] as const;
export const USER_LIMIT_KEYS = ['max-connections', 'max-channels'] as const;

export type Limits = Map<string, number>;

/** The limit in force for `key`, or undefined when unlimited. */
export function limitOf(limits: Limits | undefined, key: string): number | undefined {
  const v = limits?.get(key);
  return v === undefined || v < 0 ? undefined : v;
}

/** RabbitMQ's 400 reason for a bad limit, or undefined when `value` is acceptable for `key`. */
export function checkLimit(kind: 'vhost' | 'user', key: string, value: unknown): string | undefined {
  const keys: readonly string[] = kind === 'vhost' ? VHOST_LIMIT_KEYS : USER_LIMIT_KEYS;
  if (!keys.includes(key)) {
    return kind === 'vhost'
      ? `Validation failed\n\nUnrecognised terms [{<<"${key}">>,${erlangTerm(value)}}] in limits\n`
      : `Unrecognised terms [{<<"${key}">>,${erlangTerm(value)}}] in user-limits`;
  }
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    // User limits are checked without the runtime-parameter validation wrapper vhost limits get.
    const problem = `${key} should be a number, actually was ${erlangTerm(value)}`;
    return kind === 'vhost' ? `Validation failed\n\n${problem}\n` : problem;
  }
  return undefined;
}

export function limitsJson(limits: Limits): Record<string, number> {
  return Object.fromEntries([...limits.entries()].sort(([a], [b]) => a.localeCompare(b)));
}
