/**
 * One channel's per-exchange and per-queue counters (RabbitMQ's channel_exchange_metrics and
 * channel_queue_metrics), next to the node totals they also feed. The last exchange and queue
 * looked up are remembered, so a channel publishing to one exchange or consuming from one queue
 * pays one string comparison per message, not a map lookup.
 */
import { ChannelExchangeCounters, ChannelQueueCounters, type NodeCounters } from './counters.js';

export class ChannelCounters {
  readonly exchanges = new Map<string, ChannelExchangeCounters>();
  readonly queues = new Map<string, ChannelQueueCounters>();
  private lastExchange: ChannelExchangeCounters | undefined;
  private lastQueue: ChannelQueueCounters | undefined;

  constructor(readonly node: NodeCounters) {}

  exchange(name: string): ChannelExchangeCounters {
    const last = this.lastExchange;
    if (last !== undefined && last.exchange === name) return last;
    let c = this.exchanges.get(name);
    if (c === undefined) this.exchanges.set(name, (c = new ChannelExchangeCounters(name)));
    this.lastExchange = c;
    return c;
  }

  /** One message handed out from `queue` by basic.get or to a consumer. */
  delivered(queue: string, get: boolean, noAck: boolean, redelivered: boolean): void {
    const q = this.queue(queue);
    const node = this.node;
    if (get) {
      if (noAck) {
        q.getAutoAck++;
        node.deliveredGetAutoAck++;
      } else {
        q.getManualAck++;
        node.deliveredGetManualAck++;
      }
    } else if (noAck) {
      q.deliveredAutoAck++;
      node.deliveredConsumeAutoAck++;
    } else {
      q.deliveredManualAck++;
      node.deliveredConsumeManualAck++;
    }
    if (redelivered) {
      q.redelivered++;
      node.redelivered++;
    }
  }

  queue(name: string): ChannelQueueCounters {
    const last = this.lastQueue;
    if (last !== undefined && last.queue === name) return last;
    let c = this.queues.get(name);
    if (c === undefined) this.queues.set(name, (c = new ChannelQueueCounters(name)));
    this.lastQueue = c;
    return c;
  }
}
