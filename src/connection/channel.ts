/**
 * One AMQP channel: assembles published content (method → header → body frames) into a Message,
 * routes it through the vhost into queues, delivers to its consumers, and tracks what they have not
 * acked yet. Publisher confirms and transactions live here too because both are per-channel modes.
 */
import { randomBytes } from 'node:crypto';
import { Consumer, type ConsumerChannel } from '../broker/consumer.js';
import { integerArgument } from '../broker/queue-arguments.js';
import type { Exchange } from '../broker/exchange/index.js';
import { Message, deliveredMessage, type Envelope } from '../broker/message.js';
import type { DurableTarget } from '../broker/publish-outcome.js';
import type { Queue } from '../broker/queue.js';
import type { VirtualHost } from '../broker/vhost.js';
import {
  AmqpError, NO_ROUTE_RETURN, accessRefused, channelError, commandInvalid, describeResource, notAllowed, notFound,
  PAYLOAD_TOO_SHORT, cannotDecode, deliveryAckTimeout, invalidArg, malformedProperties, notImplemented, unknownDeliveryMode, preconditionFailed, streamNotSupported, unexpectedFrame,
} from '../protocol/errors.js';
import { StreamQueue } from '../broker/stream-queue.js';
import type { FrameReader } from '../protocol/frame-reader.js';
import {
  FRAME_BODY, FRAME_HEADER, FRAME_METHOD, Method,
  decodeBasicPublish,
  type BasicCancel, type BasicConsume, type BasicGet, type BasicPublish, type BasicQos,
  type ChannelClose, type ChannelFlow, type ConfirmSelect, type ExchangeBind, type ExchangeDeclare,
  type ExchangeDelete, type ExchangeUnbind, type MethodArgs, type MethodId, type QueueBind,
  type QueueDeclare, type QueueDelete, type QueuePurge, type QueueUnbind,
} from '../protocol/generated.js';
import { hasProperty, PropertyFlag, propertyFieldsWellFormed, readDeliveryMode, readPropertyFields } from '../protocol/properties.js';
import { decodeMethodArguments } from '../protocol/method-arguments.js';
import { amqpTypeName, stringValue, type FieldTable } from '../protocol/field-table.js';
import { replaceShortstrProperty } from '../protocol/property-rewrite.js';
import { REPLY_TO_QUEUE, type ReplyReceiver } from '../broker/direct-reply-to.js';
import type { FrameWriter } from '../protocol/frame-writer.js';
import type { Socket } from 'node:net';
import type { BrokerContext } from './broker-context.js';
import { parseExpiration } from '../broker/message-expiration.js';
import type { TraceSource } from '../broker/firehose.js';
import type { PublishOutcome } from '../broker/publish-outcome.js';
import { PublisherConfirms } from './publisher-confirms.js';
import { ConsumerTimeout } from './consumer-timeout.js';
import { ContentAssembler, type PublishedContent } from './content-assembler.js';
import { UnackedDeliveries, type Settlement, type Unacked } from './unacked-deliveries.js';
import { ChannelCounters } from '../metrics/channel-counters.js';
import type { ChannelExchangeCounters } from '../metrics/counters.js';

/** What a channel needs from the connection it runs on (Connection implements it). */
export interface ChannelHost {
  readonly id: number;
  /** RabbitMQ's connection name, "peer -> local"; with `socket`, what management shows for a channel. */
  readonly name: string;
  readonly socket: Socket;
  readonly broker: BrokerContext;
  readonly vhost: VirtualHost | undefined;
  readonly username: string;
  readonly capabilities: FieldTable;
  readonly frameMax: number;
  readonly channels: Map<number, Channel>;
  readonly writer: FrameWriter;
  /** Deliveries go out only while the socket keeps up and the connection is not closing (flushes the writer when it is full). */
  flushIfFullAndMayDeliver(): boolean;
  sendMethod<K extends MethodId>(channel: number, id: K, args: MethodArgs[K]): void;
  scheduleFlush(): void;
  /** Closes the channel (soft error) or the connection (hard error) with `e`. */
  handleError(e: unknown, channelId: number): void;
  /** Called on each publish (resource alarms block only publishing connections). */
  notePublish(): void;
}

export class Channel implements ConsumerChannel, ReplyReceiver {
  private readonly content: ContentAssembler;
  private readonly unacked = new UnackedDeliveries();
  private readonly consumerTimeout: ConsumerTimeout;
  readonly consumers = new Map<string, Consumer>();
  /** basic.qos global=false: applies to consumers created afterwards. */
  private consumerPrefetch = 0;
  /** basic.qos global=true: unacked limit over the whole channel. */
  private channelPrefetch = 0;
  private confirms: PublisherConfirms | undefined;
  /** tx mode: publishes and acks held until commit; acked deliveries go back to unacked on rollback. */
  private tx: { publishes: PublishedContent[]; settles: { taken: Unacked[]; apply: () => void }[] } | undefined;
  /** AMQP's "current queue": the last one declared, used when a method names queue ''. */
  private lastQueue = '';
  private closed = false;
  /** Exchanges this channel's user may publish to, valid while users.generation stays the same. */
  private readonly writeAllowed = new Set<string>();
  private writeAllowedGeneration = -1;
  /** Direct reply-to: this channel's consumer tag on amq.rabbitmq.reply-to and its reply address. */
  private replyConsumer: { tag: string; address: string } | undefined;
  readonly stats = { published: 0, delivered: 0, acked: 0 };
  /** Prometheus counters: per exchange and queue, and the node totals. */
  readonly counters: ChannelCounters;

  constructor(
    readonly connection: ChannelHost,
    readonly id: number,
  ) {
    this.content = new ContentAssembler(connection.broker.config.maxMessageSize);
    this.consumerTimeout = new ConsumerTimeout(this.unacked, connection.broker.config.consumerTimeoutMs, (u, ms) => this.consumerTimedOut(u, ms));
    this.counters = new ChannelCounters(connection.broker.counters);
    this.counters.node.channelsOpened++;
  }

  get connectionId(): number {
    return this.connection.id;
  }
  private get vhost(): VirtualHost {
    return this.connection.vhost!;
  }
  get unackedCount(): number {
    return this.unacked.count;
  }
  get prefetchCount(): number {
    return this.consumerPrefetch;
  }
  get globalPrefetchCount(): number {
    return this.channelPrefetch;
  }
  get confirmMode(): boolean {
    return this.confirms !== undefined;
  }
  get transactional(): boolean {
    return this.tx !== undefined;
  }
  /** Published in confirm mode, not yet confirmed. */
  get unconfirmedCount(): number {
    return this.confirms?.pending ?? 0;
  }
  /** Publishes held by an open transaction. */
  get uncommittedCount(): number {
    return this.tx?.publishes.length ?? 0;
  }
  /** Acks held by an open transaction. */
  get uncommittedAcks(): number {
    let n = 0;
    for (const s of this.tx?.settles ?? []) n += s.taken.length;
    return n;
  }

  onFrame(type: number, payload: Buffer, r: FrameReader): void {
    if (type === FRAME_METHOD) {
      if (this.content.inProgress) throw this.content.interruptedByMethod();
      r.reset(payload, 0, payload.length);
      const id = r.u32();
      try {
        this.onMethod(id, r);
      } catch (e) {
        // Arguments cut short: RabbitMQ's "cannot decode <<...>>" with the argument bytes.
        if (e instanceof AmqpError && e.detail === PAYLOAD_TOO_SHORT) throw cannotDecode(payload.subarray(4)).inMethod(id);
        throw e instanceof AmqpError ? e.inMethod(id) : e;
      }
      return;
    }
    if (type === FRAME_HEADER || type === FRAME_BODY) {
      const done = type === FRAME_HEADER ? this.content.header(payload) : this.content.bodyFrame(payload);
      if (!done) return;
      // Checked whole once, so that no malformed property list ever reaches a consumer.
      if (!propertyFieldsWellFormed(done.rawProperties)) throw malformedProperties();
      try {
        this.contentComplete(done);
      } catch (e) {
        // The error belongs to the basic.publish this content completes (RabbitMQ names 60/40).
        throw e instanceof AmqpError ? e.inMethod(Method.basicPublish) : e;
      }
      return;
    }
    throw unexpectedFrame(`unexpected frame type ${type}`);
  }

  private onMethod(id: number, r: FrameReader): void {
    // The two hottest methods skip the generic table lookup.
    if (id === Method.basicPublish) return this.onPublish(decoded(r, decodeBasicPublish(r)));
    // basic.ack's two fields read in place (delivery-tag, then the multiple bit): no arguments object per ack.
    if (id === Method.basicAck) {
      const tag = r.u64();
      return this.onAck(tag, (decoded(r, r.u8()) & 1) !== 0);
    }
    const m = decoded(r, decodeMethodArguments(id, r));
    switch (m.id) {
      case Method.channelClose: return this.onClose(m.args);
      case Method.channelFlow: return this.onFlow(m.args);
      case Method.channelOpen: throw channelError("second 'channel.open' seen");
      case Method.accessRequest: return this.send(Method.accessRequestOk, { ticket: 1 });
      case Method.exchangeDeclare: return this.onExchangeDeclare(withoutCrLf(m.args, 'exchange'));
      case Method.exchangeDelete: return this.onExchangeDelete(withoutCrLf(m.args, 'exchange'));
      case Method.exchangeBind: return this.onExchangeBind(m.args, true);
      case Method.exchangeUnbind: return this.onExchangeBind(m.args, false);
      case Method.queueDeclare: return this.onQueueDeclare(withoutCrLf(m.args, 'queue'));
      case Method.queueBind: return this.onQueueBind(m.args, true, m.args.nowait);
      case Method.queueUnbind: return this.onQueueBind(m.args, false, false);
      case Method.queuePurge: return this.onQueuePurge(m.args);
      case Method.queueDelete: return this.onQueueDelete(withoutCrLf(m.args, 'queue'));
      case Method.basicQos: return this.onQos(m.args);
      case Method.basicConsume: return this.onConsume(m.args);
      case Method.basicCancel: return this.onCancel(m.args);
      case Method.basicGet: return this.onGet(m.args);
      case Method.basicNack: return this.onNack(m.args.deliveryTag, m.args.multiple, m.args.requeue);
      case Method.basicReject: return this.onNack(m.args.deliveryTag, false, m.args.requeue);
      case Method.basicRecover: return this.onRecover(m.args.requeue, true);
      case Method.basicRecoverAsync: return this.onRecover(m.args.requeue, false);
      case Method.confirmSelect: return this.onConfirmSelect(m.args);
      case Method.txSelect: return this.onTxSelect();
      case Method.txCommit: return this.onTxCommit();
      case Method.txRollback: return this.onTxRollback();
    }
    // A method only the server sends (qos-ok, deliver, a stray channel.close-ok or flow-ok...): RabbitMQ's 503.
    throw commandInvalid('unimplemented method');
  }

  private send<K extends MethodId>(id: K, args: MethodArgs[K]): void {
    if (this.held) this.held.push({ ready: true, send: () => this.connection.sendMethod(this.id, id, args) });
    else this.connection.sendMethod(this.id, id, args);
  }

  /**
   * What this channel sent, in order, behind a reply that waits for the disk (or the cluster's
   * followers); undefined while none waits, which is nearly always. A client may pipeline its
   * methods (lapin does): a qos-ok, consume-ok or delivery must not overtake the declare-ok before it.
   */
  private held: HeldOutput[] | undefined;

  /** A place in the output for a reply sent later (release). */
  private hold(): HeldOutput {
    const slot: HeldOutput = { ready: false, send: undefined };
    (this.held ??= []).push(slot);
    return slot;
  }

  private release<K extends MethodId>(slot: HeldOutput, id: K, args: MethodArgs[K]): void {
    const held = this.held;
    // The channel closed meanwhile: nothing may follow its close.
    if (!held || this.closed) return;
    slot.send = () => this.connection.sendMethod(this.id, id, args);
    slot.ready = true;
    let sent = 0;
    while (sent < held.length && held[sent]!.ready) held[sent++]!.send!();
    held.splice(0, sent);
    if (held.length === 0) this.held = undefined;
  }

  /** What the durable state stood at before a method: its reply waits for what the method changed. */
  private changeMarks(): ChangeMarks {
    const broker = this.connection.broker;
    return { position: broker.replication?.position ?? 0, definitions: broker.definitionsWritten };
  }

  /**
   * The reply to a method that may change durable definitions goes out once they are on disk (the
   * definitions log's group commit: one fdatasync for every change made meanwhile, on any channel)
   * and, on a cluster leader, once the followers have what the method wrote
   * since `since` (a declare-ok then means every node that may be elected has the definition). A
   * (re)declare of a durable object waits for everything saved so far, its own write or not (a
   * redeclare writes nothing, yet the first declare's reply may still be waiting). A passive declare
   * is answered at once, as RabbitMQ answers it from its tables: it changes nothing, and monitors
   * count messages with it, also while a follower lags. Otherwise it is
   * sent at once. Either way it keeps its place among the channel's output.
   */
  private replyWhenStored<K extends MethodId>(since: ChangeMarks, durable: boolean, id: K, args: MethodArgs[K]): void {
    const broker = this.connection.broker;
    const changes = broker.replication;
    const awaitsStore = durable || broker.definitionsWritten !== since.definitions;
    const awaitsFollowers = changes !== undefined && (durable || changes.position !== since.position);
    if (!awaitsStore && !awaitsFollowers) return this.send(id, args);
    const slot = this.hold();
    const replicated = (): void => {
      if (!changes || !awaitsFollowers) return this.release(slot, id, args);
      changes.whenReplicated(changes.position, () => this.release(slot, id, args));
    };
    if (awaitsStore) broker.whenDefinitionsStored(replicated);
    else replicated();
  }

  private check(access: 'configure' | 'write' | 'read', kind: 'queue' | 'exchange', name: string): void {
    this.connection.broker.users.check(this.connection.username, this.vhost.name, access, kind, name);
  }

  /** Topic permissions apply to binding keys on topic exchanges (read), as to routing keys on publish (write). */
  private checkTopicBinding(source: string, routingKey: string): void {
    if (this.vhost.exchanges.get(source)?.type !== 'topic') return;
    this.connection.broker.users.checkTopic(this.connection.username, this.vhost.name, 'read', source, routingKey);
  }

  private queueName(name: string): string {
    if (name !== '') return name;
    if (this.lastQueue === '') throw notFound('no previously declared queue');
    return this.lastQueue;
  }

  // ---- publishing ------------------------------------------------------------------------------

  private onPublish(m: BasicPublish): void {
    if (m.immediate) throw notImplemented('immediate=true');
    this.connection.notePublish();
    this.content.start(m);
  }

  private contentComplete(c: PublishedContent): void {
    if (this.tx) {
      // Checked now so that errors surface at publish time, as in RabbitMQ.
      this.resolvePublishTarget(c.method);
      this.tx.publishes.push(c);
      return;
    }
    this.publish(c);
  }

  private resolvePublishTarget(m: BasicPublish): Exchange {
    const vhost = this.vhost;
    // Permission first, as RabbitMQ: a refused user learns nothing about which exchanges exist.
    // Granted checks are remembered until users/permissions change (every publish asks).
    const users = this.connection.broker.users;
    if (this.writeAllowedGeneration !== users.generation) {
      this.writeAllowed.clear();
      this.writeAllowedGeneration = users.generation;
    }
    if (!this.writeAllowed.has(m.exchange)) {
      this.check('write', 'exchange', m.exchange);
      this.writeAllowed.add(m.exchange);
    }
    const exchange = vhost.exchanges.get(m.exchange);
    if (!exchange) throw notFound(`no ${describeResource('exchange', m.exchange, vhost.name)}`);
    if (exchange.internal) throw accessRefused(`cannot publish to internal ${describeResource('exchange', m.exchange, vhost.name)}`);
    if (exchange.type === 'topic') {
      this.connection.broker.users.checkTopic(this.connection.username, vhost.name, 'write', m.exchange, m.routingKey);
    }
    return exchange;
  }

  /**
   * Publish through the vhost and turn its outcome into a basic.return (unroutable, mandatory) and a
   * confirm (once every durable copy is synced) or a nack (a queue refused it). In a transaction,
   * durable queues that got a persistent copy are added to `durableTargets`.
   */
  /** Returns whether a queue refused the message (reject-publish overflow). */
  private publish(c: PublishedContent, durableTargets?: Set<DurableTarget>): boolean {
    const m = c.method;
    const exchange = this.resolvePublishTarget(m);
    const deliveryMode = readDeliveryMode(c.rawProperties);
    const persistent = deliveryMode === 2;
    let rawProperties = c.rawProperties;
    if (hasProperty(rawProperties, PropertyFlag.replyTo)) {
      rawProperties = this.rewriteReplyTo(rawProperties);
    }
    const message = new Message(m.exchange, m.routingKey, rawProperties, c.body, persistent);
    const userId = hasProperty(message.rawProperties, PropertyFlag.userId) ? message.properties.userId : undefined;
    if (userId !== undefined && userId !== this.connection.username) {
      throw preconditionFailed(`user_id property set to '${userId}' but authenticated user was '${this.connection.username}'`);
    }
    if (hasProperty(message.rawProperties, PropertyFlag.expiration)) parseExpiration(message.properties.expiration ?? '');
    // A delivery_mode that is there must be 1 or 2 (readDeliveryMode says 0 when it is absent).
    if (deliveryMode !== 1 && deliveryMode !== 2 && hasProperty(rawProperties, PropertyFlag.deliveryMode)) {
      throw unknownDeliveryMode(deliveryMode);
    }
    this.stats.published++;
    const node = this.counters.node;
    const ex = this.counters.exchange(m.exchange);
    ex.published++;
    node.received++;
    const outcome = this.vhost.publish(exchange, message);
    if (outcome.routed === 0) {
      this.countUnroutable(ex, m.mandatory);
      if (m.mandatory) this.returnMessage(message, m);
    } else {
      node.routed++;
      node.queueMessagesPublished += outcome.routed;
    }
    if (durableTargets) for (const q of outcome.durableQueues) durableTargets.add(q);
    if (this.confirms) {
      this.confirmPublish(outcome, ex);
      if (outcome.routed === 0 && m.mandatory) this.confirms.flushNow();
    }
    // Last: tracing publishes into the vhost again, which reuses the outcome object.
    const refused = outcome.rejected;
    const firehose = this.vhost.firehose;
    if (firehose) firehose.published(message, outcome.queues.map((q) => q.name), this.traceSource());
    return refused;
  }

  private traceSource(): TraceSource {
    return { connectionName: this.connection.name, channel: this.id, user: this.connection.username };
  }

  /** The publish's confirm once every durable copy is synced, or a nack if a queue refused it. */
  private confirmPublish(outcome: PublishOutcome, ex: ChannelExchangeCounters): void {
    const confirms = this.confirms!;
    const node = this.counters.node;
    node.receivedConfirm++;
    const seq = confirms.nextSeq();
    // reject-publish overflow: the publisher learns through a nack (RabbitMQ's behaviour).
    if (outcome.rejected) return confirms.reject(seq);
    const durableWrites = outcome.durableQueues.length;
    if (durableWrites > 0) {
      outcome.whenDurable(() => {
        if (confirms.durable(seq)) this.countConfirmed(ex);
      });
    }
    if (confirms.expect(seq, durableWrites)) this.countConfirmed(ex);
  }

  private countUnroutable(ex: ChannelExchangeCounters, mandatory: boolean): void {
    if (mandatory) {
      ex.unroutableReturned++;
      this.counters.node.unroutableReturned++;
    } else {
      ex.unroutableDropped++;
      this.counters.node.unroutableDropped++;
    }
  }

  private countConfirmed(ex: ChannelExchangeCounters): void {
    ex.confirmed++;
    this.counters.node.confirmed++;
  }

  private returnMessage(message: Message, m: BasicPublish): void {
    this.sendContent(Method.basicReturn, { ...NO_ROUTE_RETURN, exchange: m.exchange, routingKey: m.routingKey }, message);
  }

  /** The one way a message leaves towards the client: deliver, get-ok, return, direct reply. */
  private sendContent<K extends MethodId>(methodId: K, args: MethodArgs[K], message: Message): void {
    if (this.held) {
      this.held.push({ ready: true, send: () => this.writeContent(methodId, args, message) });
      return;
    }
    this.writeContent(methodId, args, message);
  }

  private writeContent<K extends MethodId>(methodId: K, args: MethodArgs[K], message: Message): void {
    const conn = this.connection;
    conn.writer.method(this.id, methodId, args);
    conn.writer.content(this.id, message.rawProperties, message.body, conn.frameMax);
    conn.scheduleFlush();
  }

  /** reply_to = amq.rabbitmq.reply-to becomes this channel's reply address (RabbitMQ's direct reply-to). */
  private rewriteReplyTo(raw: Buffer): Buffer {
    // Cheap pre-check on the raw bytes before decoding anything.
    if (raw.indexOf(REPLY_TO_QUEUE) < 0) return raw;
    const props = readPropertyFields(raw);
    if (props.replyTo !== REPLY_TO_QUEUE) return raw;
    if (!this.replyConsumer) throw preconditionFailed('fast reply consumer does not exist');
    return replaceShortstrProperty(raw, PropertyFlag.replyTo, this.replyConsumer.address);
  }

  deliverReply(consumerTag: string, message: Message): void {
    this.sendContent(Method.basicDeliver, {
      consumerTag, deliveryTag: this.unacked.nextTag(), redelivered: false, exchange: message.exchange, routingKey: message.routingKey,
    }, message);
  }

  private consumeReplyTo(a: BasicConsume): void {
    if (!a.noAck) throw preconditionFailed('reply consumer cannot acknowledge');
    if (this.replyConsumer) throw preconditionFailed('reply consumer already set');
    const tag = a.consumerTag === '' ? `amq.ctag-${randomBytes(16).toString('base64url').slice(0, 22)}` : a.consumerTag;
    const address = this.vhost.directReplyTo.register(this, tag);
    this.replyConsumer = { tag, address };
    if (!a.nowait) this.send(Method.basicConsumeOk, { consumerTag: tag });
  }

  private cancelReplyTo(): void {
    if (!this.replyConsumer) return;
    this.vhost.directReplyTo.unregister(this.replyConsumer.address);
    this.replyConsumer = undefined;
  }

  // ---- confirms and transactions -------------------------------------------------------------

  private onConfirmSelect(a: ConfirmSelect): void {
    if (this.tx) throw preconditionFailed('cannot switch from tx to confirm mode');
    this.confirms ??= new PublisherConfirms(
      (tag, multiple) => this.send(Method.basicAck, { deliveryTag: tag, multiple }),
      // RabbitMQ's publisher nacks carry requeue=true (the field's default in its method record).
      (tag) => this.send(Method.basicNack, { deliveryTag: tag, multiple: false, requeue: true }),
    );
    if (!a.nowait) this.send(Method.confirmSelectOk, {});
  }

  private onTxSelect(): void {
    if (this.confirms) throw preconditionFailed('cannot switch from confirm to tx mode');
    this.tx ??= { publishes: [], settles: [] };
    this.send(Method.txSelectOk, {});
  }

  private onTxCommit(): void {
    const tx = this.tx;
    if (!tx) throw preconditionFailed('channel is not transactional');
    const queues = new Set<DurableTarget>();
    let refused = false;
    for (const p of tx.publishes.splice(0)) refused = this.publish(p, queues) || refused;
    for (const s of tx.settles.splice(0)) s.apply();
    // A queue refused a publish (reject-publish): the rest is committed, the channel closes (RabbitMQ).
    if (refused) throw preconditionFailed('partial tx completion');
    // Commit-ok only once the committed persistent messages are on disk.
    let waiting = queues.size + 1;
    const done = () => {
      if (--waiting === 0 && !this.closed) this.send(Method.txCommitOk, {});
    };
    for (const q of queues) q.messages.whenDurable(done);
    done();
  }

  private onTxRollback(): void {
    const tx = this.tx;
    if (!tx) throw preconditionFailed('channel is not transactional');
    tx.publishes.length = 0;
    // Rolled-back acks: the deliveries are unacked again.
    this.unacked.restore(tx.settles.splice(0).flatMap((s) => s.taken));
    this.send(Method.txRollbackOk, {});
  }

  // ---- exchanges, queues, bindings -----------------------------------------------------------

  private onExchangeDeclare(a: ExchangeDeclare): void {
    if (!a.passive) {
      this.check('configure', 'exchange', a.exchange);
      // An alternate exchange receives this exchange's messages: write on it, read on this one.
      const ae = stringValue(a.arguments['alternate-exchange']);
      if (ae !== undefined) {
        this.check('write', 'exchange', ae);
        this.check('read', 'exchange', a.exchange);
      }
    }
    const since = this.changeMarks();
    this.vhost.declareExchange({
      name: a.exchange, type: a.type, passive: a.passive, durable: a.durable,
      autoDelete: a.autoDelete, internal: a.internal, arguments: a.arguments,
    });
    if (!a.nowait) this.replyWhenStored(since, a.durable && !a.passive, Method.exchangeDeclareOk, {});
  }

  private onExchangeDelete(a: ExchangeDelete): void {
    this.check('configure', 'exchange', a.exchange);
    const since = this.changeMarks();
    this.vhost.deleteExchange(a.exchange, a.ifUnused);
    if (!a.nowait) this.replyWhenStored(since, false, Method.exchangeDeleteOk, {});
  }

  private onExchangeBind(a: ExchangeBind | ExchangeUnbind, bind: boolean): void {
    this.check('write', 'exchange', a.destination);
    this.check('read', 'exchange', a.source);
    this.checkTopicBinding(a.source, a.routingKey);
    const dest = { kind: 'exchange' as const, name: a.destination };
    const since = this.changeMarks();
    if (bind) this.vhost.bind(a.source, dest, a.routingKey, a.arguments, this.connectionId);
    else this.vhost.unbind(a.source, dest, a.routingKey, a.arguments, this.connectionId);
    if (!a.nowait) this.replyWhenStored(since, false, bind ? Method.exchangeBindOk : Method.exchangeUnbindOk, {});
  }

  private onQueueDeclare(a: QueueDeclare): void {
    // RabbitMQ answers any declare of the pseudo-queue or of a live reply address, passive or not,
    // with 0 messages and 1 consumer; another reply address is not found.
    if (a.queue.startsWith(REPLY_TO_QUEUE)) {
      if (a.queue !== REPLY_TO_QUEUE && !this.vhost.directReplyTo.has(a.queue)) {
        throw notFound(`no ${describeResource('queue', a.queue, this.vhost.name)}`);
      }
      if (!a.nowait) this.send(Method.queueDeclareOk, { queue: a.queue, messageCount: 0, consumerCount: 1 });
      return;
    }
    if (!a.passive && a.queue !== '') this.check('configure', 'queue', a.queue);
    // A dead-letter exchange receives this queue's messages: write on it, read on the queue.
    const dlx = a.passive ? undefined : stringValue(a.arguments['x-dead-letter-exchange']);
    if (dlx !== undefined) {
      this.check('write', 'exchange', dlx);
      if (a.queue !== '') this.check('read', 'queue', a.queue);
    }
    const isNew = !a.passive && !this.vhost.queues.has(a.queue);
    const since = this.changeMarks();
    const q = this.vhost.declareQueue({
      name: a.queue, passive: a.passive, durable: a.durable, exclusive: a.exclusive,
      autoDelete: a.autoDelete, arguments: a.arguments,
    }, this.connectionId);
    if (!a.passive && a.queue === '') {
      // A server-named queue needs configure on the name it got (RabbitMQ checks amq.gen-…).
      try {
        this.check('configure', 'queue', q.name);
        if (dlx !== undefined) this.check('read', 'queue', q.name);
      } catch (e) {
        if (isNew) this.vhost.removeQueue(q);
        throw e;
      }
    }
    if (!a.passive) {
      this.counters.node.queuesDeclared++;
      if (isNew) this.counters.node.queuesCreated++;
    }
    this.lastQueue = q.name;
    if (!a.nowait) {
      this.replyWhenStored(since, q.durable && !a.passive, Method.queueDeclareOk, { queue: q.name, messageCount: q.messageCount, consumerCount: q.consumerCount });
    }
  }

  private onQueueBind(a: QueueBind | QueueUnbind, bind: boolean, nowait: boolean): void {
    const queue = this.queueName(a.queue);
    // The spec's shortcut, as RabbitMQ: no queue name and no routing key bind with the queue's name as key.
    if (a.queue === '' && a.routingKey === '') a = { ...a, routingKey: queue };
    this.check('write', 'queue', queue);
    this.check('read', 'exchange', a.exchange);
    this.checkTopicBinding(a.exchange, a.routingKey);
    const dest = { kind: 'queue' as const, name: queue };
    const since = this.changeMarks();
    if (bind) this.vhost.bind(a.exchange, dest, a.routingKey, a.arguments, this.connectionId);
    else this.vhost.unbind(a.exchange, dest, a.routingKey, a.arguments, this.connectionId);
    if (!nowait) this.replyWhenStored(since, false, bind ? Method.queueBindOk : Method.queueUnbindOk, {});
  }

  private onQueuePurge(a: QueuePurge): void {
    const name = this.queueName(a.queue);
    this.check('read', 'queue', name);
    const count = this.vhost.getQueueFor(name, this.connectionId).purge();
    if (!a.nowait) this.send(Method.queuePurgeOk, { messageCount: count });
  }

  private onQueueDelete(a: QueueDelete): void {
    const name = this.queueName(a.queue);
    this.check('configure', 'queue', name);
    const since = this.changeMarks();
    const count = this.vhost.deleteQueue(name, this.connectionId, a.ifUnused, a.ifEmpty);
    if (!a.nowait) this.replyWhenStored(since, false, Method.queueDeleteOk, { messageCount: count });
  }

  // ---- consuming -------------------------------------------------------------------------------

  private onQos(a: BasicQos): void {
    if (a.prefetchSize !== 0) throw notImplemented(`prefetch_size!=0 (${a.prefetchSize})`);
    if (a.global) this.channelPrefetch = a.prefetchCount;
    else this.consumerPrefetch = a.prefetchCount;
    this.send(Method.basicQosOk, {});
    if (a.global) this.resumeDeliveries();
  }

  private onConsume(a: BasicConsume): void {
    if (a.queue === REPLY_TO_QUEUE) return this.consumeReplyTo(a);
    const name = this.queueName(a.queue);
    this.check('read', 'queue', name);
    const queue = this.vhost.getQueueFor(name, this.connectionId);
    const tag = a.consumerTag === '' ? `amq.ctag-${randomBytes(16).toString('base64url').slice(0, 22)}` : a.consumerTag;
    if (this.consumers.has(tag)) throw notAllowed(`attempt to reuse consumer tag '${tag}'`);
    // RabbitMQ's order: the consumer arguments, what the queue's type allows, then exclusivity.
    const what = describeResource('queue', queue.name, this.vhost.name);
    const priority = integerArgument(a.arguments, 'x-priority', what) ?? 0;
    const cancelOnFailover = a.arguments['x-cancel-on-ha-failover'];
    if (cancelOnFailover !== undefined && typeof cancelOnFailover !== 'boolean') {
      throw invalidArg('x-cancel-on-ha-failover', what, `{unacceptable_type,${amqpTypeName(cancelOnFailover)}}`);
    }
    if (queue.type !== 'stream' && 'x-stream-offset' in a.arguments) {
      throw preconditionFailed(`invalid arg 'x-stream-offset' for ${what} of queue type rabbit_${queue.type}_queue`);
    }
    queue.checkConsumer(a.noAck, this.consumerPrefetch, a.arguments);
    if (queue.type === 'quorum' && this.channelPrefetch !== 0) throw notImplemented(`${what} does not support global qos`);
    // A single-active-consumer queue takes no exclusive consumer at all (RabbitMQ).
    if (queue.hasExclusiveConsumer() || (a.exclusive && (queue.consumerCount > 0 || queue.singleActive))) {
      throw accessRefused(`${what} in exclusive use`);
    }
    const consumer = new Consumer(tag, queue, this, a.noAck, a.exclusive, this.consumerPrefetch, a.arguments, priority);
    this.consumers.set(tag, consumer);
    if (!a.nowait) this.send(Method.basicConsumeOk, { consumerTag: tag });
    queue.addConsumer(consumer);
  }

  private onCancel(a: BasicCancel): void {
    if (this.replyConsumer?.tag === a.consumerTag) this.cancelReplyTo();
    const consumer = this.consumers.get(a.consumerTag);
    if (consumer) {
      this.consumers.delete(a.consumerTag);
      consumer.queue.removeConsumer(consumer);
    }
    if (!a.nowait) this.send(Method.basicCancelOk, { consumerTag: a.consumerTag });
  }

  private onGet(a: BasicGet): void {
    const name = this.queueName(a.queue);
    this.check('read', 'queue', name);
    const queue = this.vhost.getQueueFor(name, this.connectionId);
    const envelope = queue.get(a.noAck);
    if (!envelope) {
      this.counters.queue(queue.name).getEmpty++;
      this.counters.node.getEmpty++;
      return this.send(Method.basicGetEmpty, { clusterId: '' });
    }
    this.counters.delivered(queue.name, true, a.noAck, envelope.redelivered);
    const tag = this.unacked.nextTag();
    if (!a.noAck) this.unacked.add(tag, envelope, queue, undefined);
    const m = deliveredMessage(envelope, true);
    this.sendContent(Method.basicGetOk, {
      deliveryTag: tag, redelivered: envelope.redelivered, exchange: m.exchange, routingKey: m.routingKey,
      messageCount: queue.messageCount,
    }, m);
    this.vhost.firehose?.delivered(queue.name, m, envelope.redelivered, this.traceSource());
  }

  canDeliver(_consumer: Consumer): boolean {
    return this.connection.flushIfFullAndMayDeliver() &&
      (this.channelPrefetch === 0 || this.unacked.count < this.channelPrefetch);
  }

  deliver(consumer: Consumer, envelope: Envelope): void {
    const tag = this.unacked.nextTag();
    if (!consumer.noAck) {
      this.consumerTimeout.delivered(consumer.queue, this.unacked.add(tag, envelope, consumer.queue, consumer));
    }
    this.stats.delivered++;
    this.counters.delivered(consumer.queue.name, false, consumer.noAck, envelope.redelivered);
    const m = deliveredMessage(envelope, false);
    this.sendContent(Method.basicDeliver, {
      consumerTag: consumer.tag, deliveryTag: tag, redelivered: envelope.redelivered,
      exchange: m.exchange, routingKey: m.routingKey,
    }, m);
    this.vhost.firehose?.delivered(consumer.queue.name, m, envelope.redelivered, this.traceSource());
  }

  /**
   * A delivery of `u.consumer` stayed unacked past its timeout. With consumer_cancel_notify the
   * consumer is cancelled and its deliveries requeued (RabbitMQ 4.x); otherwise the channel closes
   * with 406, as RabbitMQ 3.10 does.
   */
  private consumerTimedOut(u: Unacked, timeoutMs: number): void {
    const consumer = u.consumer!;
    if (this.closed) return;
    if (this.connection.capabilities['consumer_cancel_notify'] !== true) {
      this.connection.handleError(deliveryAckTimeout(this.id, timeoutMs), this.id);
      return;
    }
    if (this.consumers.get(consumer.tag) === consumer) {
      this.consumers.delete(consumer.tag);
      consumer.queue.removeConsumer(consumer);
      this.send(Method.basicCancel, { consumerTag: consumer.tag, nowait: true });
    }
    this.unacked.requeueConsumer(consumer);
    this.connection.broker.log('warn', 'consumer timed out: cancelled, deliveries requeued', {
      consumerTag: consumer.tag, queue: consumer.queue.name, timeoutMs,
    });
  }

  consumerCancelledByBroker(consumer: Consumer): void {
    if (this.consumers.get(consumer.tag) !== consumer) return;
    this.consumers.delete(consumer.tag);
    if (this.connection.capabilities['consumer_cancel_notify'] === true) {
      // After the reply to what caused it (queue.delete-ok comes first in RabbitMQ).
      queueMicrotask(() => {
        if (!this.closed) this.send(Method.basicCancel, { consumerTag: consumer.tag, nowait: true });
      });
    }
  }

  /** Something that held deliveries back (socket, flow, prefetch) let go: let queues push again. */
  resumeDeliveries(): void {
    const seen = new Set<Queue>();
    for (const c of this.consumers.values()) {
      if (seen.has(c.queue)) continue;
      seen.add(c.queue);
      c.queue.dispatch();
    }
  }

  /** RabbitMQ 3.x accepts only active=true from clients; pausing deliveries is what basic.qos is for. */
  private onFlow(a: ChannelFlow): void {
    if (!a.active) throw notImplemented('active=false');
    this.send(Method.channelFlowOk, { active: true });
  }

  // ---- acknowledgements ------------------------------------------------------------------------

  private onAck(tag: number, multiple: boolean): void {
    if (this.tx) {
      const taken = this.unacked.take(tag, multiple);
      this.tx.settles.push({ taken, apply: () => this.settle(taken, 'ack') });
      return;
    }
    if (multiple) return this.settle(this.unacked.take(tag, true), 'ack');
    this.countAck(this.unacked.ackOne(tag));
    this.stats.acked++;
    if (this.channelPrefetch !== 0) this.resumeDeliveries();
  }

  private countAck(queue: Queue): void {
    this.counters.queue(queue.name).acked++;
    this.counters.node.acknowledged++;
  }

  private onNack(tag: number, multiple: boolean, requeue: boolean): void {
    const taken = this.unacked.take(tag, multiple);
    // Streams refuse nack and reject with a connection error (540), as RabbitMQ 3.10.
    const stream = taken.find((u) => u.queue instanceof StreamQueue);
    if (stream) throw streamNotSupported('basic.nack and basic.reject', stream.queue.name, this.vhost.name);
    const apply = () => this.settle(taken, requeue ? 'requeue' : 'discard');
    if (this.tx) this.tx.settles.push({ taken, apply });
    else apply();
  }

  private settle(entries: Unacked[], how: Settlement): void {
    this.unacked.settle(entries, how);
    if (how === 'ack') for (const u of entries) this.countAck(u.queue);
    this.stats.acked += entries.length;
    if (this.channelPrefetch !== 0) this.resumeDeliveries();
  }

  private onRecover(requeue: boolean, sync: boolean): void {
    // RabbitMQ only implements requeue=true (redelivery to the same consumer is not offered).
    if (!requeue) throw notImplemented('requeue=false');
    // recover-ok goes out before the redeliveries, as RabbitMQ orders them.
    if (sync) this.send(Method.basicRecoverOk, {});
    this.settle(this.unacked.takeAll(), 'requeue');
  }

  // ---- closing ---------------------------------------------------------------------------------

  private onClose(_a: ChannelClose): void {
    this.close();
    this.connection.channels.delete(this.id);
    this.send(Method.channelCloseOk, {});
  }

  /** Channel gone (either side closed it, or the connection went): consumers off, unacked requeued. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    // Replies still waiting for the disk are dropped (a client discards all but close-ok once it closes).
    this.held = undefined;
    this.counters.node.channelsClosed++;
    this.consumerTimeout.stop();
    // Confirms due now go out before the close; the rest are dropped: nothing may follow close-ok.
    this.confirms?.close();
    this.content.reset();
    this.cancelReplyTo();
    for (const c of this.consumers.values()) c.queue.removeConsumer(c);
    this.consumers.clear();
    // Acks of an uncommitted transaction never happened: those deliveries come back too.
    this.unacked.requeueAll(this.tx ? this.tx.settles.splice(0).flatMap((t) => t.taken) : []);
  }
}

/** A place in a channel's output (Channel.held): ready once its frames may go. */
interface HeldOutput {
  ready: boolean;
  send: (() => void) | undefined;
}

/** Where the durable state stood before a method (Channel.changeMarks). */
interface ChangeMarks {
  /** The cluster leader's change feed position (0 on a single node). */
  readonly position: number;
  /** BrokerContext.definitionsWritten. */
  readonly definitions: number;
}

/** RabbitMQ drops CR and LF from the name in exchange and queue declares and deletes ("q\r\n" is "q"). */
function withoutCrLf<T extends Record<F, string>, F extends string>(args: T, field: F): T {
  const name = args[field];
  return name.includes('\r') || name.includes('\n') ? { ...args, [field]: name.replace(/[\r\n]/g, '') } : args;
}

/** A method's decoded arguments, once no byte is left over (RabbitMQ cannot decode a longer frame). */
function decoded<T>(r: FrameReader, args: T): T {
  if (r.remaining !== 0) throw cannotDecode(r.buf.subarray(4, r.end));
  return args;
}
