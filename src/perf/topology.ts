// Which exchange, queues and bindings a run uses, and declaring/deleting them from the main thread.
import type { PerfConnection } from './client.js';
import type { PerfOptions } from './options.js';

export interface Topology {
  /** '' = the default exchange */
  exchange: string;
  exchangeType: string;
  declareExchange: boolean;
  queues: string[];
  bindings: { queue: string; key: string }[];
  /** publishers cycle through these, each starting at its own index */
  routingKeys: string[];
  /** queue copies one publish becomes (fanout: every queue); used for backlog and drain accounting */
  copies: number;
}

export function planTopology(o: PerfOptions, prefix: string): Topology {
  const queuePrefix = o.queuePrefix || prefix;
  const queues = o.queue !== null ? [o.queue] : Array.from({ length: o.queues }, (_, i) => `${queuePrefix}-${i}`);
  const exchange = o.exchange ?? (o.exchangeType === 'direct' ? '' : `${prefix}.${o.exchangeType}`);
  const isDefault = exchange === '';
  const declareExchange = !isDefault && !exchange.startsWith('amq.');
  let bindings: { queue: string; key: string }[] = [];
  let routingKeys = o.routingKeys;
  if (o.exchangeType === 'fanout') {
    bindings = queues.map((queue) => ({ queue, key: '' }));
    if (routingKeys.length === 0) routingKeys = [''];
  } else if (o.exchangeType === 'topic') {
    const keys = o.bindingKeys.length > 0 ? o.bindingKeys : queues.map((_, i) => `perf.q${i}.#`);
    bindings = keys.map((key, j) => ({ queue: queues[j % queues.length]!, key }));
    if (routingKeys.length === 0) routingKeys = queues.map((_, i) => `perf.q${i}.x`);
  } else {
    if (!isDefault) {
      const keys = o.bindingKeys.length > 0 ? o.bindingKeys : queues;
      bindings = keys.map((key, j) => ({ queue: queues[j % queues.length]!, key }));
    }
    if (routingKeys.length === 0) routingKeys = queues;
  }
  return {
    exchange,
    exchangeType: o.exchangeType,
    declareExchange,
    queues,
    bindings,
    routingKeys,
    copies: o.exchangeType === 'fanout' ? queues.length : 1,
  };
}

export async function declareTopology(conn: PerfConnection, t: Topology, durable: boolean): Promise<void> {
  const ch = await conn.openChannel();
  if (t.declareExchange) await conn.declareExchange(ch, t.exchange, t.exchangeType, durable);
  for (const q of t.queues) await conn.declareQueue(ch, q, { durable });
  for (const b of t.bindings) await conn.bindQueue(ch, b.queue, t.exchange, b.key);
  await conn.closeChannel(ch);
}

/** Deletes what `declareTopology` made; returns the messages left in the queues. */
export async function deleteTopology(conn: PerfConnection, t: Topology): Promise<number> {
  const ch = await conn.openChannel();
  let left = 0;
  for (const q of t.queues) left += await conn.deleteQueue(ch, q);
  if (t.declareExchange) await conn.deleteExchange(ch, t.exchange);
  await conn.closeChannel(ch);
  return left;
}
