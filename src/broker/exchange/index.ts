import { commandInvalid } from '../../protocol/errors.js';
import { DirectExchange } from './direct-exchange.js';
import type { Exchange, ExchangeOptions } from './exchange.js';
import { FanoutExchange } from './fanout-exchange.js';
import { HeadersExchange } from './headers-exchange.js';
import { TopicExchange } from './topic-exchange.js';
import { ConsistentHashExchange } from './consistent-hash-exchange.js';
import { DelayedMessageExchange } from './delayed-message-exchange.js';

export { DelayedMessageExchange } from './delayed-message-exchange.js';

export { Exchange, bindingId, type Binding, type Destination, type ExchangeOptions } from './exchange.js';

const TYPES: Record<string, new (vhost: string, name: string, o: ExchangeOptions) => Exchange> = {
  direct: DirectExchange,
  fanout: FanoutExchange,
  topic: TopicExchange,
  headers: HeadersExchange,
  'x-consistent-hash': ConsistentHashExchange,
};

export function isExchangeType(type: string): boolean {
  return type in TYPES || type === 'x-delayed-message';
}

/** RabbitMQ's words for a type it does not know (AMQP: 503 COMMAND_INVALID; the management API: 400). */
export function unknownExchangeTypeText(type: string): string {
  return type === '' ? "invalid exchange type ''" : `unknown exchange type '${type}'`;
}

export function createExchange(type: string, vhost: string, name: string, options: ExchangeOptions): Exchange {
  if (type === 'x-delayed-message') return new DelayedMessageExchange(vhost, name, options, createExchange);
  const Type = TYPES[type];
  if (!Type) throw commandInvalid(unknownExchangeTypeText(type));
  return new Type(vhost, name, options);
}
