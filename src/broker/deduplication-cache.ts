/**
 * Message deduplication (beyond RabbitMQ, as LavinMQ and the rabbitmq-message-deduplication plugin):
 * a queue or exchange declared with `x-message-deduplication: true` remembers the last `x-cache-size`
 * values of the messages' `x-deduplication-header` (each for `x-cache-ttl` ms when given) and drops a
 * message whose value it still remembers. Messages without the header are never duplicates.
 *
 * Memory is bounded by x-cache-size: the cache is FIFO (a Map keeps insertion order), the oldest key
 * goes when a new one needs room. A duplicate does not extend its key's window, so every key has the
 * same lifetime and the oldest entries are always the first to expire: expiry only looks at the head.
 */
import { deduplicationCacheSizeInvalid, deduplicationCacheTtlInvalid, deduplicationFlagInvalid } from '../protocol/errors.js';
import { amqpTypeName, TypedValue, type FieldTable, type FieldValue } from '../protocol/field-table.js';
import { hasProperty, PropertyFlag } from '../protocol/properties.js';
import type { Message } from './message.js';
import { integerArg } from './queue-arguments.js';

export const DEDUPLICATION_HEADER = 'x-deduplication-header';
const HEADER_BYTES = Buffer.from(DEDUPLICATION_HEADER);

export class DeduplicationCache {
  /** Key → when it stops counting (ms since epoch; Infinity without a TTL), oldest first. */
  private readonly seen = new Map<string, number>();

  constructor(
    readonly maxSize: number,
    /** ms; undefined = keys stay until evicted by newer ones. */
    readonly ttl: number | undefined,
  ) {}

  get size(): number {
    return this.seen.size;
  }

  /**
   * True when `message` repeats a key still in the cache (drop it); otherwise records its key (when
   * it has one) and answers false.
   */
  isDuplicate(message: Message, now = Date.now()): boolean {
    const key = deduplicationKey(message);
    if (key === undefined) return false;
    this.expire(now);
    if (this.seen.has(key)) return true;
    if (this.seen.size >= this.maxSize) this.seen.delete(this.seen.keys().next().value as string);
    this.seen.set(key, this.ttl === undefined ? Infinity : now + this.ttl);
    return false;
  }

  private expire(now: number): void {
    if (this.ttl === undefined) return;
    for (const [key, until] of this.seen) {
      if (until > now) return;
      this.seen.delete(key);
    }
  }
}

/** The message's x-deduplication-header value as a string key; undefined without one. */
function deduplicationKey(message: Message): string | undefined {
  const raw = message.rawProperties;
  // Most messages carry no such header: skip decoding their properties.
  if (!hasProperty(raw, PropertyFlag.headers) || raw.indexOf(HEADER_BYTES) < 0) return undefined;
  const v = message.properties.headers?.[DEDUPLICATION_HEADER];
  return v === undefined ? undefined : keyText(v);
}

function keyText(v: FieldValue): string {
  if (typeof v === 'string') return v;
  if (v instanceof Buffer) return v.toString('utf8');
  if (v instanceof TypedValue) return String(v.toJSON());
  if (typeof v === 'object' && v !== null) return JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? String(x) : x));
  return String(v);
}

/**
 * The cache a queue's or exchange's x-arguments ask for, or undefined when deduplication is off.
 * `what` names the resource in error texts ("queue 'q' in vhost '/'").
 */
export function deduplicationFromArguments(args: FieldTable, what: string): DeduplicationCache | undefined {
  const on = args['x-message-deduplication'];
  if (on === undefined || on === false) return undefined;
  if (on !== true) throw deduplicationFlagInvalid(what, amqpTypeName(on));
  const sizeArg = args['x-cache-size'];
  const size = sizeArg === undefined ? undefined : integerArg(sizeArg);
  if (size === undefined || size < 1) {
    throw deduplicationCacheSizeInvalid(what);
  }
  const ttlArg = args['x-cache-ttl'];
  const ttl = ttlArg === undefined ? undefined : integerArg(ttlArg);
  if (ttlArg !== undefined && (ttl === undefined || ttl < 1)) {
    throw deduplicationCacheTtlInvalid(what);
  }
  return new DeduplicationCache(size, ttl);
}
