import type { Message } from '../message.js';
import { Exchange, type Destination } from './exchange.js';

/** Routes to every bound destination, ignoring the routing key. */
export class FanoutExchange extends Exchange {
  readonly type = 'fanout';

  route(_message: Message, out: Set<Destination>): void {
    for (const b of this.bindings.values()) out.add(b.destination);
  }
  protected addToIndex(): void {}
  protected removeFromIndex(): void {}
}
