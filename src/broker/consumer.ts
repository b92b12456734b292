/**
 * A subscription of one channel to one queue. The queue asks `canTake()` before handing it a
 * message; the channel owns delivery tags, unacked tracking and the socket.
 */
import type { FieldTable } from '../protocol/field-table.js';
import type { Envelope } from './message.js';
import type { Queue } from './queue.js';
import type { QueueConsumer } from './queue-consumer.js';

/** What a consumer needs from the channel it lives on. */
export interface ConsumerChannel {
  /** False while flow is off, the prefetch window is full or the socket is backed up. */
  canDeliver(consumer: Consumer): boolean;
  deliver(consumer: Consumer, envelope: Envelope): void;
  /** The queue went away (deleted): tell the client with basic.cancel if it asked for that. */
  consumerCancelledByBroker(consumer: Consumer): void;
  readonly connectionId: number;
}

export class Consumer implements QueueConsumer {
  /** Deliveries not yet acked by this consumer (for per-consumer prefetch). */
  unacked = 0;

  constructor(
    readonly tag: string,
    readonly queue: Queue,
    readonly channel: ConsumerChannel,
    readonly noAck: boolean,
    readonly exclusive: boolean,
    /** basic.qos prefetch_count with global=false at the time of consume; 0 = unlimited. */
    readonly prefetch: number,
    readonly args: FieldTable,
    /** x-priority, validated by the channel (consumer-order.ts). */
    readonly priority = 0,
  ) {}

  canTake(): boolean {
    return (this.prefetch === 0 || this.unacked < this.prefetch) && this.channel.canDeliver(this);
  }

  deliver(envelope: Envelope): void {
    this.channel.deliver(this, envelope);
  }

  cancelledByBroker(): void {
    this.channel.consumerCancelledByBroker(this);
  }
}
