/**
 * What a queue needs from a subscriber: whether it has room, and the hand-over itself. The queue
 * knows nothing else about consumers (channels, tags in flight, sockets live above it).
 */
import type { Envelope } from './message.js';

export interface QueueConsumer {
  readonly tag: string;
  readonly exclusive: boolean;
  /** No ack expected: the queue settles the message as soon as it is handed over. */
  readonly noAck: boolean;
  /** x-priority: higher-priority consumers get messages while they have room (0 by default). */
  readonly priority: number;
  /** Room for one more delivery now (prefetch window, channel and socket state). */
  canTake(): boolean;
  /** Take the message; the queue has already counted it as out with a consumer (unless noAck). */
  deliver(envelope: Envelope): void;
  /** The queue went away (deleted): the subscriber is gone without the client asking. */
  cancelledByBroker(): void;
}
