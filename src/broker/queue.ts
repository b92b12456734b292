/**
 * A queue: ready messages in a MessageList (memory or disk), consumers served round-robin, and the
 * count of messages out with consumers. Delivery happens as soon as both a message and a consumer
 * with room exist; a consumer whose channel cannot take more is skipped until it frees up.
 */
import type { FieldTable } from '../protocol/field-table.js';
import { hasProperty, PropertyFlag } from '../protocol/properties.js';
import type { Envelope, Message } from './message.js';
import type { MessageList } from './message-list.js';
import { describeResource } from '../protocol/errors.js';
import { deduplicationFromArguments, type DeduplicationCache } from './deduplication-cache.js';
import { parseQueuePolicy, withPolicy, type QueuePolicy } from './queue-arguments.js';
import { parseExpiration } from './message-expiration.js';
import { NO_POLICY, type AppliedPolicy } from './policies.js';
import type { DeadLetterReason } from './dead-letter.js';
import type { QueueConsumer } from './queue-consumer.js';
import { insertByPriority, pickByPriority } from './consumer-order.js';
import { queueTypeOf } from './queue-types.js';
import { OutstandingDeliveries } from './outstanding-deliveries.js';
import { memoryReleased } from './memory-reclaimer.js';

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
  /** Deliveries of messages that had been delivered before (redelivered=true). */
  redelivered: number;
  /** Deliveries that came back unsettled: nack/reject with requeue, basic.recover, a closed channel, a consumer timeout. */
  requeued: number;
  /**
   * Of `delivered`: basic.get with manual ack and with no-ack, and consumer deliveries with no-ack
   * (RabbitMQ's per-queue get, get_no_ack and deliver_no_ack; the rest is its deliver).
   */
  getManualAck: number;
  getAutoAck: number;
  deliveredAutoAck: number;
  /** basic.get calls that found no message (get_empty). */
  getEmpty: number;
}

/** What became of a message offered to a queue's length limits (see Queue.makeRoomFor). */
type Room = 'stored' | 'refused' | 'dropped';

export class Queue {
  readonly kind = 'queue' as const;
  private consumers: QueueConsumer[] = [];
  private nextConsumer = 0;
  /** Some consumer has a non-zero x-priority: consumers are kept sorted and picked by consumer-order.ts. */
  private prioritized = false;
  private readonly priorityCursors = new Map<number, number>();
  /**
   * Every message is stored durably (quorum queues, streams): publisher confirms wait for the fsync
   * even for transient ones. A field, not a getter: it is read per queue per routed message.
   */
  readonly syncsEveryMessage: boolean;
  /** x-single-active-consumer: only the first consumer receives. */
  readonly singleActive: boolean;
  /** The last publish() was dropped by drop-head overflow as it arrived (nothing stored, still acked). */
  droppedOnArrival = false;
  /** x-queue-type: classic or quorum (queue-types.ts). */
  readonly type: string;
  /** Quorum queues: returns per message seq (x-delivery-count), forgotten once settled. */
  private readonly deliveryCounts: Map<number, number> | undefined;
  private dispatching = false;
  /** Delivered, waiting for ack. */
  unacked = 0;
  unackedBytes = 0;
  /**
   * Ready and unacked messages a restart keeps, and their body bytes (RabbitMQ's messages_persistent,
   * message_bytes_persistent): persistent ones in a durable queue, every one in a quorum queue.
   */
  persistentCount = 0;
  persistentBytes = 0;
  /** Which messages count in persistentCount: none (transient queue), the persistent ones, or all (quorum). */
  private readonly keeps: 'none' | 'persistent' | 'all';
  /** Ever had a consumer: auto-delete only happens after the first one leaves. */
  private hadConsumer = false;
  deleted = false;
  readonly stats: QueueStats = {
    published: 0, delivered: 0, acked: 0, redelivered: 0, requeued: 0, getManualAck: 0, getAutoAck: 0, deliveredAutoAck: 0, getEmpty: 0,
  };
  /** Deliveries out with consumers awaiting their ack, oldest first (for the oldest one's age). */
  private readonly outstanding = new OutstandingDeliveries();
  /** Called when the queue decides to delete itself (auto-delete, x-expires); the vhost removes it. */
  onAutoDelete: ((queue: Queue) => void) | undefined;
  /** Republishes a message to the dead-letter exchange (set by the vhost). */
  onDeadLetter: ((queue: Queue, message: Message, reason: DeadLetterReason) => void) | undefined;
  /** The settings in force: x-arguments resolved against the applied policies. */
  policy: QueuePolicy;
  /** The settings from the x-arguments alone (validated at declare). */
  private readonly argSettings: QueuePolicy;
  /** The policy and operator policy matching this queue (management shows them). */
  appliedPolicy: AppliedPolicy = NO_POLICY;
  /** Some message may carry a TTL: only then does the head need expiry checks. */
  private mayExpire: boolean;
  private expiryTimer: NodeJS.Timeout | undefined;
  private expiryTimerAt = 0;
  private unusedTimer: NodeJS.Timeout | undefined;
  /** x-message-deduplication: the vhost skips this queue for messages repeating a cached key. */
  readonly deduplication: DeduplicationCache | undefined;

  constructor(
    readonly vhost: string,
    readonly name: string,
    readonly options: QueueOptions,
    readonly messages: MessageList,
  ) {
    this.argSettings = this.policy = parseQueuePolicy(this.policyArguments(options.arguments));
    this.singleActive = options.arguments['x-single-active-consumer'] === true;
    this.type = queueTypeOf(options.arguments);
    this.deduplication = deduplicationFromArguments(options.arguments, describeResource('queue', name, vhost));
    this.deliveryCounts = this.type === 'quorum' ? new Map() : undefined;
    this.mayExpire = this.policy.messageTtl !== undefined;
    this.syncsEveryMessage = this.type === 'quorum' || this.type === 'stream';
    this.keeps = this.type === 'quorum' ? 'all' : options.durable && options.exclusiveOwner === 0 ? 'persistent' : 'none';
    // A durable list recovered at start holds only messages a restart keeps.
    if (this.keeps !== 'none') {
      this.persistentCount = messages.length;
      this.persistentBytes = messages.bytes;
    }
    messages.onDeliverable = () => this.heldMessagesReady();
    this.touch();
  }

  /**
   * Cluster leader: messages the list held until their replication may go now. The length limits
   * are applied (drop-head could not drop a held head), then consumers get them before their TTL
   * is looked at, as publish() does.
   */
  private heldMessagesReady(): void {
    if (this.deleted) return;
    this.trimToLimits();
    if (this.consumers.length > 0) this.dispatch(false);
    if (this.mayExpire) this.expireHead();
  }

  /** The arguments the classic policy reads (a stream's x-max-length-bytes means retention instead). */
  protected policyArguments(args: FieldTable): FieldTable {
    return args;
  }

  /** basic.consume checks a queue type adds before consume-ok (streams: manual acks, a prefetch, x-stream-offset). */
  checkConsumer(_noAck: boolean, _prefetch: number, _args: FieldTable): void {}

  /**
   * A policy was set, changed or cleared: new limits apply at once (RabbitMQ trims a queue over a
   * new max-length and expires messages past a new TTL straight away).
   */
  applyPolicy(applied: AppliedPolicy): void {
    if (applied === this.appliedPolicy || (applied === NO_POLICY && this.appliedPolicy === NO_POLICY)) return;
    const before = this.policy;
    this.appliedPolicy = applied;
    this.policy = withPolicy(this.argSettings, applied.definition);
    if (this.policy.messageTtl !== undefined) this.mayExpire = true;
    if (this.policy.expires !== before.expires) this.touch();
    if (this.deleted) return;
    if (this.mayExpire) this.expireHead();
    this.trimToLimits();
  }

  /** Drop (dead-letter) head messages while the queue is over its length limits (drop-head or not). */
  private trimToLimits(): void {
    const p = this.policy;
    if (p.maxLength === undefined && p.maxLengthBytes === undefined) return;
    const over = () => (p.maxLength !== undefined && this.messages.length > p.maxLength) ||
      (p.maxLengthBytes !== undefined && this.messages.bytes > p.maxLengthBytes);
    while (this.messages.length > 0 && over()) {
      const head = this.messages.shift();
      if (!head) return; // held (cluster leader): trimmed once it may go
      this.forget(head);
      this.onDeadLetter?.(this, head.message, 'maxlen');
    }
  }

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
  allConsumers(): readonly QueueConsumer[] {
    return this.consumers;
  }

  /** Milliseconds since the oldest ready message was published, undefined when none is ready. */
  oldestReadyAge(now: number): number | undefined {
    const at = this.messages.oldestAcceptedAt();
    return at === undefined ? undefined : Math.max(0, now - at);
  }

  /** Milliseconds since the oldest delivery still awaiting its ack went out, undefined when none. */
  oldestUnackedAge(now: number): number | undefined {
    const at = this.outstanding.oldestAt;
    return at === undefined ? undefined : Math.max(0, now - at);
  }

  /** The head message's timestamp property in seconds (RabbitMQ's head_message_timestamp). */
  get headMessageTimestamp(): number | undefined {
    return this.messages.headTimestamp();
  }

  /**
   * Enqueue; false when a length limit with reject-publish overflow refused it (the publisher gets a
   * nack). True with `droppedOnArrival` set when drop-head overflow dropped the message itself at
   * once, alone over the limit: the publisher gets its ack, as from RabbitMQ, with nothing to store.
   */
  publish(message: Message): boolean {
    const p = this.policy;
    this.droppedOnArrival = false;
    if (p.maxLength !== undefined || p.maxLengthBytes !== undefined) {
      const room = this.makeRoomFor(message);
      if (room === 'refused') return false;
      if (room === 'dropped') {
        this.droppedOnArrival = true;
        return true;
      }
    }
    // Older messages that expired go first, so that the new one is not handed out behind them ...
    if (this.mayExpire) this.expireHead();
    else if (hasProperty(message.rawProperties, PropertyFlag.expiration)) this.mayExpire = true;
    this.messages.push(message);
    if (this.kept(message)) {
      this.persistentCount++;
      this.persistentBytes += message.body.length;
    }
    this.stats.published++;
    // ... and a waiting consumer gets it before its own TTL is looked at: RabbitMQ delivers even a
    // message with TTL 0 when a consumer can take it at once.
    if (this.consumers.length > 0) this.dispatch(false);
    if (this.mayExpire) this.expireHead();
    return true;
  }

  private isFull(extraBytes: number): boolean {
    const p = this.policy;
    return (p.maxLength !== undefined && this.messages.length + 1 > p.maxLength) ||
      (p.maxLengthBytes !== undefined && this.messages.bytes + extraBytes > p.maxLengthBytes);
  }

  private makeRoomFor(message: Message): Room {
    if (!this.isFull(message.body.length)) return 'stored';
    if (this.policy.overflow !== 'drop-head') {
      if (this.policy.overflow === 'reject-publish-dlx') this.onDeadLetter?.(this, message, 'maxlen');
      return 'refused';
    }
    while (this.messages.length > 0 && this.isFull(message.body.length)) {
      const head = this.messages.shift();
      // Held until replicated (cluster leader): the queue is over its limit until it may go.
      if (!head) return 'stored';
      this.forget(head);
      this.onDeadLetter?.(this, head.message, 'maxlen');
    }
    // A message alone bigger than x-max-length-bytes (or x-max-length 0) is dropped itself.
    if (this.isFull(message.body.length)) {
      this.onDeadLetter?.(this, message, 'maxlen');
      return 'dropped';
    }
    return 'stored';
  }

  /** When the envelope's message expires (ms since epoch), or Infinity. */
  private expiresAt(envelope: Envelope): number {
    const m = envelope.message;
    let ttl = this.policy.messageTtl;
    if (hasProperty(m.rawProperties, PropertyFlag.expiration)) {
      let own: number | undefined;
      try {
        own = parseExpiration(m.properties.expiration ?? '');
      } catch {
        own = undefined;
      }
      if (own !== undefined) ttl = ttl === undefined ? own : Math.min(ttl, own);
    }
    return ttl === undefined ? Infinity : m.timestamp + ttl;
  }

  /** Drop (dead-letter) expired messages at the head, and arm a timer for the next one. */
  expireHead(): void {
    if (!this.mayExpire || this.deleted) return;
    const now = Date.now();
    for (;;) {
      const head = this.messages.peek();
      if (!head) return;
      const at = this.expiresAt(head);
      if (at > now) {
        if (at !== Infinity) this.armExpiry(at);
        return;
      }
      this.messages.shift();
      this.forget(head);
      this.onDeadLetter?.(this, head.message, 'expired');
    }
  }

  private armExpiry(at: number): void {
    if (this.expiryTimer && this.expiryTimerAt <= at) return;
    clearTimeout(this.expiryTimer);
    this.expiryTimerAt = at;
    this.expiryTimer = setTimeout(() => {
      this.expiryTimer = undefined;
      this.expiryTimerAt = 0;
      this.expireHead();
    }, Math.max(0, at - Date.now()));
    this.expiryTimer.unref();
  }

  /** Activity that resets x-expires (declare, consume, get). */
  touch(): void {
    const expires = this.policy.expires;
    if (expires === undefined && this.unusedTimer === undefined) return;
    clearTimeout(this.unusedTimer);
    this.unusedTimer = undefined;
    if (expires === undefined) return;
    this.unusedTimer = setTimeout(() => {
      if (this.consumers.length === 0 && !this.deleted) this.onAutoDelete?.(this);
      else this.touch();
    }, expires);
    this.unusedTimer.unref();
  }

  addConsumer(consumer: QueueConsumer): void {
    this.touch();
    if (!this.singleActive && (this.prioritized || consumer.priority !== 0)) {
      this.prioritized = true;
      insertByPriority(this.consumers, consumer);
      this.priorityCursors.clear();
    } else {
      this.consumers.push(consumer);
    }
    this.hadConsumer = true;
    this.dispatch();
  }

  removeConsumer(consumer: QueueConsumer): void {
    const i = this.consumers.indexOf(consumer);
    if (i < 0) return;
    this.consumers.splice(i, 1);
    if (this.nextConsumer > i) this.nextConsumer--;
    if (this.prioritized) {
      this.priorityCursors.clear();
      this.prioritized = this.consumers.some((c) => c.priority !== 0);
    }
    // The next single active consumer takes over at once.
    if (this.singleActive && i === 0) queueMicrotask(() => this.dispatch());
    this.touch();
    if (this.consumers.length === 0 && this.hadConsumer && this.options.autoDelete && !this.deleted) {
      this.onAutoDelete?.(this);
    }
  }

  hasExclusiveConsumer(): boolean {
    return this.consumers.some((c) => c.exclusive);
  }

  /** Hand ready messages to consumers with room, round-robin, until one side runs out. */
  dispatch(expireFirst = true): void {
    if (this.dispatching || this.deleted) return;
    if (expireFirst && this.mayExpire) this.expireHead();
    this.dispatching = true;
    try {
      const consumers = this.consumers;
      while (this.messages.length > 0 && consumers.length > 0) {
        const consumer = this.pickConsumer();
        if (!consumer) break;
        const envelope = this.messages.shift();
        if (!envelope) break; // held until replicated (cluster leader)
        this.handOut(envelope, consumer.noAck);
        if (consumer.noAck) this.stats.deliveredAutoAck++;
        consumer.deliver(envelope);
      }
    } finally {
      this.dispatching = false;
    }
  }

  /** The consumer x-single-active-consumer gives messages to (management shows it). */
  get activeConsumer(): QueueConsumer | undefined {
    return this.singleActive ? this.consumers[0] : undefined;
  }

  private pickConsumer(): QueueConsumer | undefined {
    if (this.singleActive) {
      const c = this.consumers[0];
      return c?.canTake() ? c : undefined;
    }
    if (this.prioritized) return pickByPriority(this.consumers, this.priorityCursors);
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
    if (this.deliveryCounts) envelope.deliveryCount = this.deliveryCounts.get(envelope.seq) ?? 0;
    this.stats.delivered++;
    if (envelope.redelivered) this.stats.redelivered++;
    if (noAck) this.forget(envelope);
    else {
      this.unacked++;
      this.unackedBytes += envelope.message.body.length;
      // The one clock read per delivery: the channel's books reuse it (UnackedDeliveries.add).
      this.outstanding.add(envelope, Date.now());
    }
  }

  /** basic.get: the head message, or undefined when empty. */
  get(noAck: boolean): Envelope | undefined {
    this.touch();
    if (this.mayExpire) this.expireHead();
    const envelope = this.messages.shift();
    if (!envelope) this.stats.getEmpty++;
    else {
      this.handOut(envelope, noAck);
      if (noAck) this.stats.getAutoAck++;
      else this.stats.getManualAck++;
    }
    // Expired messages now at the head go before get-ok counts the rest (RabbitMQ drops them after a fetch).
    if (envelope && this.mayExpire) this.expireHead();
    return envelope;
  }

  /** A delivered envelope is no longer out with a consumer (acked, requeued or discarded). */
  private release(envelope: Envelope): void {
    this.unacked--;
    this.unackedBytes -= envelope.message.body.length;
    this.outstanding.remove(envelope);
  }

  /** The consumer (or getter) acked it. */
  ack(envelope: Envelope): void {
    this.release(envelope);
    this.deliveryCounts?.delete(envelope.seq);
    this.stats.acked++;
    if (!this.deleted) this.forget(envelope);
  }

  /**
   * Back to its original position, marked redelivered (nack/reject with requeue, basic.recover, its
   * channel closed). `rejected` (nack, reject, recover): a quorum queue puts it at the back instead, as
   * RabbitMQ 3.10's quorum queues do; there only a closed channel returns it to its place.
   */
  requeue(envelope: Envelope, rejected = false): void {
    this.release(envelope);
    this.stats.requeued++;
    if (this.deleted) return;
    if (this.deliveryCounts && this.overDeliveryLimit(envelope)) return;
    if (rejected && this.deliveryCounts) this.requeueAtBack(envelope);
    else this.messages.requeue(envelope);
    if (this.mayExpire) this.expireHead();
  }

  /**
   * A quorum queue's rejected message goes behind the others: stored again at the tail (a new seq,
   * keeping its delivery count and the redelivered flag), then the old copy is let go — in that order,
   * so a crash in between leaves a duplicate rather than nothing.
   */
  private requeueAtBack(envelope: Envelope): void {
    const counts = this.deliveryCounts!;
    const again = this.messages.push(envelope.message);
    again.redelivered = true;
    const count = counts.get(envelope.seq);
    counts.delete(envelope.seq);
    if (count !== undefined) counts.set(again.seq, count);
    this.messages.settle(envelope);
  }

  /**
   * Quorum queues count every return (nack/reject with requeue, a consumer's channel closing); past
   * the delivery limit the message is dropped or dead-lettered with reason delivery_limit.
   */
  private overDeliveryLimit(envelope: Envelope): boolean {
    const counts = this.deliveryCounts!;
    const count = (counts.get(envelope.seq) ?? 0) + 1;
    const limit = this.policy.deliveryLimit;
    if (limit === undefined || count <= limit) {
      counts.set(envelope.seq, count);
      return false;
    }
    counts.delete(envelope.seq);
    this.forget(envelope);
    this.onDeadLetter?.(this, envelope.message, 'delivery_limit');
    return true;
  }

  /** Dropped without requeue (reject/nack with requeue=false). */
  discard(envelope: Envelope): void {
    this.release(envelope);
    this.deliveryCounts?.delete(envelope.seq);
    if (this.deleted) return;
    this.forget(envelope);
    this.onDeadLetter?.(this, envelope.message, 'rejected');
  }

  purge(): number {
    this.deliveryCounts?.clear();
    // What stays is out with consumers (counted here rather than on every delivery and ack: purges are rare).
    this.persistentCount = this.persistentBytes = 0;
    this.outstanding.forEach((envelope) => {
      if (this.kept(envelope.message)) {
        this.persistentCount++;
        this.persistentBytes += envelope.message.body.length;
      }
    });
    memoryReleased(this.messagesInMemoryBytes());
    return this.messages.purge();
  }

  /** Whether a restart keeps the message (it counts in persistentCount). */
  private kept(message: Message): boolean {
    return this.keeps === 'all' || (this.keeps === 'persistent' && message.persistent);
  }

  /** The message leaves the queue for good (acked, dropped, expired, dead-lettered): the list lets it go. */
  private forget(envelope: Envelope): void {
    this.messages.settle(envelope);
    if (this.kept(envelope.message)) {
      this.persistentCount--;
      this.persistentBytes -= envelope.message.body.length;
    }
  }

  /** Body bytes of the ready messages held in memory (the rest are paged out to disk). */
  private messagesInMemoryBytes(): number {
    return this.messages.bytes - this.messages.pagedOutBytes;
  }

  /** Deleted by the client or the broker: consumers are told, stored data removed. */
  delete(): number {
    const count = this.messages.length;
    this.deleted = true;
    clearTimeout(this.expiryTimer);
    clearTimeout(this.unusedTimer);
    for (const c of this.consumers.splice(0)) c.cancelledByBroker();
    memoryReleased(this.messagesInMemoryBytes());
    this.messages.destroy();
    return count;
  }
}
