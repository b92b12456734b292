/**
 * Cumulative counters behind the Prometheus endpoint, in RabbitMQ's groupings. They are plain
 * integer fields incremented on the hot paths (no maps, no allocation per message); the collector
 * reads them when scraped. One NodeCounters per broker, so brokers embedded side by side in one
 * process keep separate counts.
 */

/**
 * Node-wide totals (connection_churn_metrics and the global_* counters). Login attempts are counted
 * by the login service alone (auth/login.ts), which both the API and the metrics read.
 */
export class NodeCounters {
  connectionsOpened = 0;
  connectionsClosed = 0;
  channelsOpened = 0;
  channelsClosed = 0;
  queuesDeclared = 0;
  queuesCreated = 0;
  queuesDeleted = 0;
  /** basic.publish received (any channel mode). */
  received = 0;
  /** Received on a channel in confirm mode. */
  receivedConfirm = 0;
  /** Routed to at least one queue. */
  routed = 0;
  unroutableDropped = 0;
  unroutableReturned = 0;
  confirmed = 0;
  deliveredConsumeAutoAck = 0;
  deliveredConsumeManualAck = 0;
  deliveredGetAutoAck = 0;
  deliveredGetManualAck = 0;
  getEmpty = 0;
  redelivered = 0;
  acknowledged = 0;
  /** Messages enqueued into queues by publishes (one per queue a message reached). */
  queueMessagesPublished = 0;
  /**
   * Messages dead-lettered, by `deadLetteredKey(reason, queue type, strategy)`: `disabled` when the
   * queue has no dead-letter exchange (the message is dropped), `at_most_once` when it has one.
   */
  readonly deadLettered = new Map<string, number>();

  /** Messages published, delivered or acked so far: moves whenever a client exchanges messages. */
  get messagesMoved(): number {
    return this.received + this.deliveredConsumeAutoAck + this.deliveredConsumeManualAck + this.deliveredGetAutoAck + this.deliveredGetManualAck + this.acknowledged;
  }

  messageDeadLettered(reason: string, queueType: string, strategy: DeadLetterStrategy): void {
    const key = deadLetteredKey(reason, queueType, strategy);
    this.deadLettered.set(key, (this.deadLettered.get(key) ?? 0) + 1);
  }
}

export type DeadLetterStrategy = 'disabled' | 'at_most_once' | 'at_least_once';

export function deadLetteredKey(reason: string, queueType: string, strategy: DeadLetterStrategy): string {
  return `${reason} ${queueType} ${strategy}`;
}

/** What one channel published into one exchange (channel_exchange_metrics). */
export class ChannelExchangeCounters {
  published = 0;
  confirmed = 0;
  unroutableReturned = 0;
  unroutableDropped = 0;
  constructor(readonly exchange: string) {}
}

/** What one channel took from one queue (channel_queue_metrics). */
export class ChannelQueueCounters {
  getManualAck = 0;
  getAutoAck = 0;
  deliveredManualAck = 0;
  deliveredAutoAck = 0;
  redelivered = 0;
  acked = 0;
  getEmpty = 0;
  constructor(readonly queue: string) {}
}
