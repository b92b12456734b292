/**
 * What became of one published message, as the vhost reports it: how many queues (or a direct
 * reply-to consumer) it reached, whether a queue refused it, and its durability ticket: the
 * durable queues that took a persistent copy. The channel turns this into a basic.return, a
 * confirm or a nack; dead-lettering uses the same path and ignores the answer.
 */
/** Something that took a persistent copy: a durable queue, or a durable delayed-message exchange. */
export interface DurableTarget {
  readonly messages: { whenDurable(callback: () => void): void };
}

export class PublishOutcome {
  /** Destinations the message was routed to; 0 = unroutable (mandatory publishes come back). */
  routed = 0;
  /** A queue refused it (x-overflow reject-publish): a confirm becomes a nack. */
  rejected = false;
  /** Durable queues holding a persistent copy; the message is safe once each has synced. */
  readonly durableQueues: DurableTarget[] = [];
  /** Every queue the message was routed to (the firehose tracer names them). */
  readonly queues: { readonly name: string }[] = [];

  reset(): this {
    this.routed = 0;
    this.rejected = false;
    emptyKeepingCapacity(this.durableQueues);
    emptyKeepingCapacity(this.queues);
    return this;
  }

  /** Run `callback` once per durable copy as it reaches the disk (durableQueues.length calls). */
  whenDurable(callback: () => void): void {
    for (const q of this.durableQueues) q.messages.whenDurable(callback);
  }
}

/**
 * Empties a reused array without giving up its backing store: `length = 0` makes V8 drop it, so the
 * next push allocates a new one (a runtime call and ~150 bytes of garbage per publish); pop() keeps it.
 */
function emptyKeepingCapacity(a: unknown[]): void {
  while (a.length > 0) a.pop();
}
