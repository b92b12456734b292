import { preconditionFailed } from '../../protocol/errors.js';
import { stringValue, type FieldValue } from '../../protocol/field-table.js';
import type { Message } from '../message.js';
import { Exchange, type Binding, type Destination, type ExchangeOptions } from './exchange.js';

/** Message properties the plugin can hash instead of the routing key. */
const HASH_PROPERTIES = ['message_id', 'correlation_id', 'timestamp'] as const;
type HashProperty = (typeof HASH_PROPERTIES)[number];

/**
 * x-consistent-hash (RabbitMQ's rabbitmq_consistent_hash_exchange plugin, built in): the binding key
 * is a weight, each binding owns that many buckets, and a message goes to the owner of the bucket
 * that jump consistent hashing picks for the hash of its routing key (or of the `hash-header`
 * header, or the `hash-property` property). Equal keys always reach the same queue while the
 * bindings stay, a queue's share of keys follows its weight closely (as the plugin's does), and
 * adding a binding moves only the keys that now belong to it.
 */
export class ConsistentHashExchange extends Exchange {
  readonly type: string = 'x-consistent-hash';
  /** One entry per bucket: a binding appears `weight` times, in binding order. */
  private buckets: Binding[] = [];
  private readonly hashHeader: string | undefined;
  private readonly hashProperty: HashProperty | undefined;

  constructor(vhost: string, name: string, options: ExchangeOptions) {
    super(vhost, name, options);
    this.hashHeader = stringValue(options.arguments['hash-header']);
    const property = stringValue(options.arguments['hash-property']);
    if (this.hashHeader !== undefined && property !== undefined) {
      throw preconditionFailed('hash-header and hash-property are mutually exclusive');
    }
    if (property !== undefined && !(HASH_PROPERTIES as readonly string[]).includes(property)) {
      throw preconditionFailed(`Unsupported property: ${property}`);
    }
    this.hashProperty = property as HashProperty | undefined;
  }

  override bind(binding: Binding): boolean {
    if (!/^\d+$/.test(binding.routingKey)) {
      throw preconditionFailed(`The binding key must be an integer: <<"${binding.routingKey}">>`);
    }
    return super.bind(binding);
  }

  route(message: Message, out: Set<Destination>): void {
    const n = this.buckets.length;
    if (n === 0) return;
    const key = this.keyOf(message);
    if (key === undefined) return;
    out.add(this.buckets[jumpHash(hash32(key), n)]!.destination);
  }

  private keyOf(message: Message): string | undefined {
    if (this.hashHeader !== undefined) {
      const v: FieldValue | undefined = message.properties.headers?.[this.hashHeader];
      return v === undefined ? undefined : v instanceof Buffer ? v.toString('utf8') : String(v);
    }
    if (this.hashProperty !== undefined) {
      const p = message.properties;
      const v = this.hashProperty === 'message_id' ? p.messageId : this.hashProperty === 'correlation_id' ? p.correlationId : p.timestamp;
      return v === undefined ? undefined : String(v);
    }
    return message.routingKey;
  }

  protected addToIndex(b: Binding): void {
    for (let i = Number(b.routingKey); i > 0; i--) this.buckets.push(b);
  }

  protected removeFromIndex(b: Binding): void {
    this.buckets = this.buckets.filter((x) => x !== b);
  }
}

/** Lamping and Veach's jump consistent hash: a bucket in [0, n) for a key, moving few keys when n grows. */
function jumpHash(key32: number, n: number): number {
  let key = BigInt(key32) * 0x9e3779b97f4a7c15n & 0xffffffffffffffffn;
  let b = -1;
  let j = 0;
  while (j < n) {
    b = j;
    key = (key * 2862933555777941757n + 1n) & 0xffffffffffffffffn;
    j = Math.floor((b + 1) * (2 ** 31 / (Number(key >> 33n) + 1)));
  }
  return b;
}

/** FNV-1a over the UTF-16 code units, then an avalanche step: spreads similar keys over the ring. */
function hash32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
