/**
 * RabbitMQ's direct reply-to: an RPC client consumes the pseudo-queue `amq.rabbitmq.reply-to`
 * (no-ack) and publishes requests with reply_to set to that name; the broker rewrites it to a
 * per-channel address, and replies published to that address go straight to the client's
 * consumer, with no queue in between.
 */
import { randomBytes } from 'node:crypto';
import type { Message } from './message.js';

export const REPLY_TO_QUEUE = 'amq.rabbitmq.reply-to';
export const REPLY_TO_PREFIX = 'amq.rabbitmq.reply-to.';

export interface ReplyReceiver {
  deliverReply(consumerTag: string, message: Message): void;
}

interface Registration {
  receiver: ReplyReceiver;
  consumerTag: string;
}

export class DirectReplyTo {
  private readonly byAddress = new Map<string, Registration>();

  /** A new consumer on the pseudo-queue; returns the address replies should be sent to. */
  register(receiver: ReplyReceiver, consumerTag: string): string {
    const address = REPLY_TO_PREFIX + randomBytes(18).toString('base64url');
    this.byAddress.set(address, { receiver, consumerTag });
    return address;
  }

  unregister(address: string): void {
    this.byAddress.delete(address);
  }

  /** Whether a consumer still waits at this reply address. */
  has(address: string): boolean {
    return this.byAddress.has(address);
  }

  /** Deliver a reply; false when nobody waits at that address any more. */
  deliver(address: string, message: Message): boolean {
    const r = this.byAddress.get(address);
    if (!r) return false;
    r.receiver.deliverReply(r.consumerTag, message);
    return true;
  }
}
