/**
 * Stream arguments as RabbitMQ reads them: x-max-length-bytes, x-max-age ("7D", "10m": a number and one
 * of Y M D h m s) and x-stream-max-segment-size-bytes. The stream protocol's create command passes
 * the same settings without the `x-` prefix, as strings.
 */
import type { RetentionLimits } from './stream-log.js';

/** RabbitMQ's default x-stream-max-segment-size-bytes. */
export const DEFAULT_MAX_SEGMENT_BYTES = 500_000_000;

const UNIT_MS: Record<string, number> = { Y: 365 * 86_400_000, M: 30 * 86_400_000, D: 86_400_000, h: 3_600_000, m: 60_000, s: 1000 };

/** Milliseconds for a RabbitMQ duration such as "7D" or "10m"; undefined when malformed. */
export function parseDuration(value: string): number | undefined {
  const m = /^(\d+)([YMDhms])$/.exec(value);
  if (!m) return undefined;
  return Number(m[1]) * UNIT_MS[m[2]!]!;
}

export type StreamArguments = Record<string, unknown>;

/** An integer argument as AMQP decodes it: a number, a bigint (long), or a typed value. */
function integer(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isInteger(v) ? v : undefined;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'object' && v !== null && 'value' in v) return integer((v as { value: unknown }).value);
  return undefined;
}

/** Retention limits from x- arguments; a string naming the bad argument when one is invalid. */
export function retentionOf(args: StreamArguments): RetentionLimits | string {
  const out: RetentionLimits = { maxSegmentBytes: DEFAULT_MAX_SEGMENT_BYTES };
  const bytes = args['x-max-length-bytes'];
  if (bytes !== undefined) {
    const n = integer(bytes);
    if (n === undefined || n < 0) return 'x-max-length-bytes';
    out.maxBytes = n;
  }
  const age = args['x-max-age'];
  if (age !== undefined) {
    const ms = typeof age === 'string' ? parseDuration(age) : undefined;
    if (ms === undefined) return 'x-max-age';
    out.maxAgeMs = ms;
  }
  const seg = args['x-stream-max-segment-size-bytes'];
  if (seg !== undefined) {
    const n = integer(seg);
    if (n === undefined || n <= 0) return 'x-stream-max-segment-size-bytes';
    out.maxSegmentBytes = n;
  }
  return out;
}

/** The stream protocol's create arguments (strings, no prefix) as x- arguments. */
export function argumentsFromProtocol(m: Record<string, string>): StreamArguments {
  const out: StreamArguments = {};
  for (const [k, v] of Object.entries(m)) {
    if (k === 'max-length-bytes' || k === 'stream-max-segment-size-bytes' || k === 'initial-cluster-size') {
      const n = Number(v);
      out[`x-${k}`] = /^\d+$/.test(v) ? n : v;
    } else out[`x-${k}`] = v;
  }
  return out;
}
