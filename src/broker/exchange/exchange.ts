/**
 * An exchange routes a message to destinations (queues or, for exchange-to-exchange bindings,
 * other exchanges). Each type keeps its bindings in the structure that makes its matching fast.
 */
import { amqpTypeName, type FieldTable } from '../../protocol/field-table.js';
import type { Message } from '../message.js';
import { describeResource } from '../../protocol/errors.js';
import { deduplicationFromArguments, type DeduplicationCache } from '../deduplication-cache.js';
import { NO_POLICY, type AppliedPolicy } from '../policies.js';

/** What a binding points at: a queue or an exchange. Both have a name and a kind. */
export interface Destination {
  readonly kind: 'queue' | 'exchange';
  readonly name: string;
}

export interface Binding {
  readonly source: string;
  readonly destination: Destination;
  readonly routingKey: string;
  readonly arguments: FieldTable;
  /** Identity of the binding among the source's bindings (key + arguments, as RabbitMQ). */
  readonly id: string;
}

export interface ExchangeOptions {
  durable: boolean;
  autoDelete: boolean;
  internal: boolean;
  arguments: FieldTable;
}

export abstract class Exchange {
  abstract readonly type: string;
  protected readonly bindings = new Map<string, Binding>();
  /** The policy and operator policy matching this exchange (alternate-exchange may come from it). */
  appliedPolicy: AppliedPolicy = NO_POLICY;
  /** x-message-deduplication: messages repeating a cached key are not routed at all. */
  readonly deduplication: DeduplicationCache | undefined;

  constructor(
    readonly vhost: string,
    readonly name: string,
    readonly options: ExchangeOptions,
  ) {
    this.deduplication = deduplicationFromArguments(options.arguments, describeResource('exchange', name, vhost));
  }

  get kind(): 'exchange' {
    return 'exchange';
  }
  get durable(): boolean {
    return this.options.durable;
  }
  get autoDelete(): boolean {
    return this.options.autoDelete;
  }
  get internal(): boolean {
    return this.options.internal;
  }
  /** The x-argument wins over a policy's alternate-exchange (RabbitMQ 3.10). */
  get alternateExchange(): string | undefined {
    const arg = this.options.arguments['alternate-exchange'];
    if (arg !== undefined) return arg instanceof Buffer ? arg.toString('utf8') : typeof arg === 'string' ? arg : undefined;
    const p = this.appliedPolicy.definition['alternate-exchange'];
    return typeof p === 'string' ? p : undefined;
  }
  get bindingCount(): number {
    return this.bindings.size;
  }
  allBindings(): IterableIterator<Binding> {
    return this.bindings.values();
  }

  /** Adds the binding; false when an identical one exists already (bind is idempotent). */
  bind(binding: Binding): boolean {
    if (this.bindings.has(binding.id)) return false;
    this.bindings.set(binding.id, binding);
    this.addToIndex(binding);
    return true;
  }

  unbind(id: string): boolean {
    const binding = this.bindings.get(id);
    if (!binding) return false;
    this.bindings.delete(id);
    this.removeFromIndex(binding);
    return true;
  }

  /** Adds every matching destination to `out` (a Set, so a queue bound twice gets one copy). */
  abstract route(message: Message, out: Set<Destination>): void;
  protected abstract addToIndex(binding: Binding): void;
  protected abstract removeFromIndex(binding: Binding): void;
}

/**
 * A binding's identity. As in RabbitMQ the arguments compare as a table sorted by key, each value
 * with its type: {a: 1, b: 2} unbinds {b: 2, a: 1}, but a string '1' is not the integer 1.
 */
export function bindingId(destination: Destination, routingKey: string, args: FieldTable): string {
  const argKeys = Object.keys(args).sort();
  const argPart = argKeys.length === 0 ? ''
    : JSON.stringify(argKeys.map((k) => [k, amqpTypeName(args[k]!), args[k]]), (_k, v) => (typeof v === 'bigint' ? v.toString() : v));
  return `${destination.kind[0]}\u0000${destination.name}\u0000${routingKey}\u0000${argPart}`;
}
