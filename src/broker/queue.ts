/**
 * A queue: ready messages in a MessageList (memory or disk), consumers served round-robin, and the
 * count of messages out with consumers. Delivery happens as soon as both a message and a consumer
 * with room exist; a consumer whose channel cannot take more is skipped until it frees up.
 */
import type { FieldTable } from '../protocol/field-table.js';
import type { Consumer } from './consumer.js';
import type { Envelope, Message } from './message.js';
import type { MessageList } from './message-list.js';

export interface QueueOptions {
  durable: boolean;
  autoDelete: boolean;
  /** Id of the connection that owns an exclusive queue; 0 when not exclusive. */
  exclusiveOwner: number;
  arguments: FieldTable;
}

export interface QueueStats {
  published: number;
  delivered: number;
  acked: number;
  redelivered: number;
}

export class Queue {
  readonly kind = 'queue' as const;
  private consumers: Consumer[] = [];
  private nextConsumer = 0;
  private dispatching = false;
  /** Delivered, waiting for ack. */
  unacked = 0;
  unackedBytes = 0;
  /** Ever had a consumer: auto-delete only happens after the first one leaves. */
  private hadConsumer = false;
  deleted = false;
  readonly stats: QueueStats = { published: 0, delivered: 0, acked: 0, redelivered: 0 };
  /** Called when the queue decides to delete itself (auto-delete); the vhost removes it. */
  onAutoDelete: ((queue: Queue) => void) | undefined;

  constructor(
    readonly vhost: string,
    readonly name: string,
    readonly options: QueueOptions,
    readonly messages: MessageList,
  ) {}

  get durable(): boolean {
    return this.options.durable;
  }
  get exclusive(): boolean {
    return this.options.exclusiveOwner !== 0;
  }
  get autoDelete(): boolean {
    return this.options.autoDelete;
  }
  get consumerCount(): number {
    return this.consumers.length;
  }
  get messageCount(): number {
    return this.messages.length;
  }
  allConsumers(): readonly Consumer[] {
    return this.consumers;
  }

  publish(message: Message): Envelope {
    const envelope = this.messages.push(message);
    this.stats.published++;
    if (this.consumers.length > 0) this.dispatch();
    return envelope;
  }

  addConsumer(consumer: Consumer): void {
    this.consumers.push(consumer);
    this.hadConsumer = true;
    this.dispatch();
  }

  removeConsumer(consumer: Consumer): void {
    const i = this.consumers.indexOf(consumer);
    if (i < 0) return;
    this.consumers.splice(i, 1);
    if (this.nextConsumer > i) this.nextConsumer--;
    if (this.consumers.length === 0 && this.hadConsumer && this.options.autoDelete && !this.deleted) {
      this.onAutoDelete?.(this);
    }
  }

  hasExclusiveConsumer(): boolean {
    return this.consumers.some((c) => c.exclusive);
  }

  /** Hand ready messages to consumers with room, round-robin, until one side runs out. */
  dispatch(): void {
    if (this.dispatching || this.deleted) return;
    this.dispatching = true;
    try {
      const consumers = this.consumers;
      while (this.messages.length > 0 && consumers.length > 0) {
        const consumer = this.pickConsumer();
        if (!consumer) break;
        const envelope = this.messages.shift()!;
        this.handOut(envelope, consumer.noAck);
        consumer.channel.deliver(consumer, envelope);
      }
    } finally {
      this.dispatching = false;
    }
  }

  private pickConsumer(): Consumer | undefined {
    const consumers = this.consumers;
    const n = consumers.length;
    for (let tried = 0; tried < n; tried++) {
      if (this.nextConsumer >= n) this.nextConsumer = 0;
      const c = consumers[this.nextConsumer++]!;
      if (c.canTake()) return c;
    }
    return undefined;
  }

  private handOut(envelope: Envelope, noAck: boolean): void {
    this.stats.delivered++;
    if (envelope.redelivered) this.stats.redelivered++;
    if (noAck) this.messages.settle(envelope);
    else {
      this.unacked++;
      this.unackedBytes += envelope.message.body.length;
    }
  }

  /** basic.get: the head message, or undefined when empty. */
  get(noAck: boolean): Envelope | undefined {
    const envelope = this.messages.shift();
    if (envelope) this.handOut(envelope, noAck);
    return envelope;
  }

  /** The consumer (or getter) acked it. */
  ack(envelope: Envelope): void {
    this.unacked--;
    this.unackedBytes -= envelope.message.body.length;
    this.stats.acked++;
    if (!this.deleted) this.messages.settle(envelope);
  }

  /** Back to its original position, marked redelivered (nack/reject with requeue, channel closed). */
  requeue(envelope: Envelope): void {
    this.unacked--;
    this.unackedBytes -= envelope.message.body.length;
    if (this.deleted) return;
    this.messages.requeue(envelope);
  }

  /** Dropped without requeue (reject/nack with requeue=false). */
  discard(envelope: Envelope): void {
    this.unacked--;
    this.unackedBytes -= envelope.message.body.length;
    if (!this.deleted) this.messages.settle(envelope);
  }

  purge(): number {
    return this.messages.purge();
  }

  /** Deleted by the client or the broker: consumers are told, stored data removed. */
  delete(): number {
    const count = this.messages.length;
    this.deleted = true;
    for (const c of this.consumers.splice(0)) c.channel.consumerCancelledByBroker(c);
    this.messages.destroy();
    return count;
  }
}
