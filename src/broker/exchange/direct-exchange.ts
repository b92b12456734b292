import type { Message } from '../message.js';
import { Exchange, type Binding, type Destination } from './exchange.js';

/** Routes on exact routing-key equality: one hash lookup per message. */
export class DirectExchange extends Exchange {
  readonly type: string = 'direct';
  private readonly byKey = new Map<string, Map<string, Destination>>();

  route(message: Message, out: Set<Destination>): void {
    const dests = this.byKey.get(message.routingKey);
    if (dests) for (const d of dests.values()) out.add(d);
  }
  protected addToIndex(b: Binding): void {
    let dests = this.byKey.get(b.routingKey);
    if (!dests) this.byKey.set(b.routingKey, (dests = new Map()));
    dests.set(b.id, b.destination);
  }
  protected removeFromIndex(b: Binding): void {
    const dests = this.byKey.get(b.routingKey);
    if (!dests) return;
    dests.delete(b.id);
    if (dests.size === 0) this.byKey.delete(b.routingKey);
  }
}
