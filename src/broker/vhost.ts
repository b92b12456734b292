/**
 * A virtual host: its exchanges, queues and bindings, and the rules for declaring, binding and
 * deleting them (RabbitMQ's reply codes and texts). `publish()` routes a message into the queues it
 * reaches and reports a PublishOutcome; publishing channels, management and dead-lettering all use it.
 */
import { NodeCounters } from '../metrics/counters.js';
import { randomBytes } from 'node:crypto';
import {
  AmqpError, accessRefused, describeResource, notFound, preconditionFailed, queueLimitReached, quorumDeleteFlagRefused, resourceLocked,
} from '../protocol/errors.js';
import { amqpTypeName, erlangFloat, TypedValue, type FieldTable, type FieldValue } from '../protocol/field-table.js';
import { DelayedMessageExchange, bindingId, createExchange, isExchangeType, type Binding, type Destination, type Exchange } from './exchange/index.js';
import { Message } from './message.js';
import type { MessageList } from './message-list.js';
import { MemoryMessageList } from './memory-message-list.js';
import { DirectReplyTo, REPLY_TO_PREFIX } from './direct-reply-to.js';
import { PublishOutcome } from './publish-outcome.js';
import { TRACE_EXCHANGE, type Firehose } from './firehose.js';
import { Queue } from './queue.js';
import { deadLetteredMessage, isDeadLetterCycle, type DeadLetterReason } from './dead-letter.js';
import { VhostPolicies, type Policy, type PolicyKind } from './policies.js';
import { limitOf, type Limits } from './limits.js';
import { PriorityMessageList, priorityLevelName } from './priority-message-list.js';
import { senderSelected, type SenderSelected } from './sender-selected.js';
import { argumentsRefusedBy, checkServerNamedAllowed, queueTypeOf, validateQueueType } from './queue-types.js';
import { checkDeclareArguments } from './declare-arguments.js';

/** The store name of a delayed-message exchange's held messages (cannot clash with a queue name). */
const delayedListName = (exchange: string) => `\u0000delayed\u0000${exchange}`;
import { parseMaxPriority, parseSingleActiveConsumer } from './queue-arguments.js';
import { StreamQueue } from './stream-queue.js';
import { checkStreamDeclaration, isStreamDeclaration } from './stream-declaration.js';
import type { Stream } from '../stream/stream-manager.js';

export interface ExchangeDeclaration {
  name: string;
  type: string;
  passive: boolean;
  durable: boolean;
  autoDelete: boolean;
  internal: boolean;
  arguments: FieldTable;
}

export interface QueueDeclaration {
  name: string;
  passive: boolean;
  durable: boolean;
  exclusive: boolean;
  autoDelete: boolean;
  arguments: FieldTable;
  /**
   * A stored definition coming back at start-up: the rules for what clients may declare (the
   * reserved `amq.` prefix) do not apply, since the broker itself named server-named queues so.
   */
  recovered?: boolean;
}

/** A durable queue, exchange or binding added or removed (removed: it is already out of the vhost). */
export type DefinitionChange =
  | { readonly kind: 'queue'; readonly vhost: string; readonly removed: boolean; readonly queue: Queue }
  | { readonly kind: 'exchange'; readonly vhost: string; readonly removed: boolean; readonly exchange: Exchange }
  | { readonly kind: 'binding'; readonly vhost: string; readonly removed: boolean; readonly binding: Binding };

/** Hooks the broker gives a vhost: where durable queues' messages live and when definitions change. */
export interface VirtualHostStorage {
  /**
   * `keepsEveryMessage`: a quorum queue's list, which recovers transient messages too (RabbitMQ's
   * quorum queues store every message in their log, whatever its delivery mode).
   */
  createMessageList(vhost: string, queue: string, durable: boolean, keepsEveryMessage?: boolean): MessageList;
  /** Whether stored messages exist under this list name (a durable priority queue's levels at start). */
  hasStoredList(vhost: string, queue: string): boolean;
  /**
   * Durable definitions changed: `changes` says which queues, exchanges and bindings (the store
   * appends just those); without it, anything else (policies, limits) changed.
   */
  definitionsChanged(changes?: readonly DefinitionChange[]): void;
  /** The log of a stream queue (created, or recovered from disk), and its removal with the queue. */
  openStream(vhost: string, name: string, args: FieldTable): Stream;
  deleteStream(vhost: string, name: string): void;
}

export const memoryStorage: VirtualHostStorage = {
  createMessageList: () => new MemoryMessageList(),
  hasStoredList: () => false,
  definitionsChanged: () => {},
  openStream: () => {
    throw new Error('streams need a data dir');
  },
  deleteStream: () => {},
};

const PREDECLARED: [string, string][] = [
  ['amq.direct', 'direct'],
  ['amq.fanout', 'fanout'],
  ['amq.topic', 'topic'],
  ['amq.headers', 'headers'],
  ['amq.match', 'headers'],
];

/** Queue arguments whose value RabbitMQ compares on redeclare (others are ignored there). */
const EQUIVALENCE_CHECKED_ARGS = [
  'x-expires', 'x-message-ttl', 'x-max-length', 'x-max-length-bytes', 'x-max-priority', 'x-overflow',
  'x-dead-letter-exchange', 'x-dead-letter-routing-key', 'x-queue-type', 'x-queue-mode', 'x-queue-version', 'x-single-active-consumer',
  'x-max-in-memory-length', 'x-max-in-memory-bytes', 'x-quorum-initial-group-size', 'x-max-age',
  'x-stream-max-segment-size-bytes', 'x-initial-cluster-size', 'x-queue-leader-locator', 'x-dead-letter-strategy',
  'x-delivery-limit',
];

export class VirtualHost {
  readonly exchanges = new Map<string, Exchange>();
  readonly queues = new Map<string, Queue>();
  /** Bindings whose destination is a queue, by queue name, for cleanup when the queue goes. */
  private readonly bindingsTo = new Map<string, Set<Binding>>();
  /** Reused by every publish that is not nested in another (dead letters of a publish are). */
  private readonly routeScratch = new Set<Destination>();
  private readonly outcomeScratch = new PublishOutcome();
  private publishDepth = 0;
  readonly directReplyTo = new DirectReplyTo();
  /** The firehose tracer while tracing is on for this vhost (rabbitmqctl trace_on). */
  firehose: Firehose | undefined;
  readonly policies = new VhostPolicies();
  /** max-connections, max-queues (limits.ts). */
  readonly limits: Limits = new Map();

  constructor(
    readonly name: string,
    private readonly storage: VirtualHostStorage = memoryStorage,
    /** Node totals this vhost adds its queue deletions to. */
    private readonly counters: NodeCounters = new NodeCounters(),
  ) {
    const base = { durable: true, autoDelete: false, internal: false, arguments: {} };
    this.exchanges.set('', createExchange('direct', name, '', base));
    for (const [n, t] of PREDECLARED) this.exchanges.set(n, createExchange(t, name, n, base));
    // The firehose tracer's exchange: internal, so only the broker publishes to it.
    this.exchanges.set(TRACE_EXCHANGE, createExchange('topic', name, TRACE_EXCHANGE, { ...base, internal: true }));
  }

  private describe(kind: 'queue' | 'exchange', name: string): string {
    return describeResource(kind, name, this.name);
  }

  getExchange(name: string): Exchange {
    const ex = this.exchanges.get(name);
    if (!ex) throw notFound(`no ${this.describe('exchange', name)}`);
    return ex;
  }

  getQueue(name: string): Queue {
    const q = this.queues.get(name);
    if (!q) throw notFound(`no ${this.describe('queue', name)}`);
    return q;
  }

  /** A queue usable by `connectionId`: exclusive queues only by their owner. */
  getQueueFor(name: string, connectionId: number): Queue {
    const q = this.getQueue(name);
    this.checkExclusiveAccess(q, connectionId);
    return q;
  }

  private checkExclusiveAccess(q: Queue, connectionId: number): void {
    if (q.exclusive && q.options.exclusiveOwner !== connectionId) throw this.lockedError(q.name);
  }

  private lockedError(name: string): AmqpError {
    return resourceLocked(
      `cannot obtain exclusive access to locked ${this.describe('queue', name)}. It could be originally ` +
        'declared on another connection or the exclusive property value does not match that of the original declaration.',
    );
  }

  declareExchange(d: ExchangeDeclaration): Exchange {
    // An unknown type is RabbitMQ's first check, before the name is even looked up.
    if (!d.passive && !isExchangeType(d.type)) {
      // createExchange raises RabbitMQ's COMMAND_INVALID for unknown types.
      createExchange(d.type, this.name, d.name, d);
    }
    if (d.name === '') {
      if (d.passive) return this.exchanges.get('')!;
      throw accessRefused('operation not permitted on the default exchange');
    }
    const existing = this.exchanges.get(d.name);
    if (d.passive) {
      if (!existing) throw notFound(`no ${this.describe('exchange', d.name)}`);
      return existing;
    }
    if (existing) {
      // Redeclaring with equal properties is fine, the predeclared amq.* ones included.
      this.checkExchangeEquivalent(existing, d);
      return existing;
    }
    if (d.name.startsWith('amq.')) {
      throw accessRefused(`exchange name '${d.name}' contains reserved prefix 'amq.*'`);
    }
    const ae = d.arguments['alternate-exchange'];
    if (ae !== undefined && typeof ae !== 'string') {
      throw preconditionFailed(`invalid type '${amqpTypeName(ae)}' for arg 'alternate-exchange' in ${this.describe('exchange', d.name)}`);
    }
    const ex = createExchange(d.type, this.name, d.name, {
      durable: d.durable, autoDelete: d.autoDelete, internal: d.internal, arguments: d.arguments,
    });
    this.exchanges.set(d.name, ex);
    ex.appliedPolicy = this.policies.applied('exchange', ex.name);
    if (ex instanceof DelayedMessageExchange) {
      const list = this.storage.createMessageList(this.name, delayedListName(ex.name), ex.durable);
      ex.attach(list, (m) => this.publishNow(ex, m));
    }
    if (ex.durable) this.storage.definitionsChanged([{ kind: 'exchange', vhost: this.name, removed: false, exchange: ex }]);
    return ex;
  }

  private checkExchangeEquivalent(ex: Exchange, d: ExchangeDeclaration): void {
    const what = this.describe('exchange', ex.name);
    const check = (arg: string, received: unknown, current: unknown) => checkEquivalent(what, arg, received, current);
    check('type', d.type, ex.type);
    check('durable', d.durable, ex.durable);
    check('auto_delete', d.autoDelete, ex.autoDelete);
    check('internal', d.internal, ex.internal);
    const ae = 'alternate-exchange';
    if (argString(d.arguments[ae]) !== argString(ex.options.arguments[ae])) {
      throw inequivalentArg(ae, what, d.arguments[ae], ex.options.arguments[ae]);
    }
  }

  deleteExchange(name: string, ifUnused: boolean): void {
    if (name === '') throw accessRefused('operation not permitted on the default exchange');
    // amq.default names the default exchange too (RabbitMQ refuses its deletion as a system exchange).
    if (name.startsWith('amq.') && (this.exchanges.has(name) || name === 'amq.default')) {
      throw accessRefused(`deletion of system ${this.describe('exchange', name)} not allowed`);
    }
    const ex = this.exchanges.get(name);
    if (!ex) return; // RabbitMQ: deleting a missing exchange succeeds.
    // In use means being the source of a binding; being only a destination does not count (RabbitMQ).
    if (ifUnused && ex.bindingCount > 0) {
      throw preconditionFailed(`${this.describe('exchange', name)} in use`);
    }
    this.saveChanges(this.removeExchange(ex, []));
  }

  /** Removes the exchange and its bindings; returns `changes` with the durable ones added. */
  private removeExchange(ex: Exchange, changes: DefinitionChange[]): DefinitionChange[] {
    this.exchanges.delete(ex.name);
    if (ex instanceof DelayedMessageExchange) ex.destroy();
    for (const b of [...ex.allBindings()]) this.forgetBinding(ex, b, changes);
    // Bindings where this exchange is the destination (exchange-to-exchange).
    for (const src of this.exchanges.values()) {
      for (const b of [...src.allBindings()]) {
        if (b.destination.kind === 'exchange' && b.destination.name === ex.name) this.forgetBinding(src, b, changes);
      }
    }
    if (ex.durable) changes.push({ kind: 'exchange', vhost: this.name, removed: true, exchange: ex });
    return changes;
  }

  private saveChanges(changes: readonly DefinitionChange[]): void {
    if (changes.length > 0) this.storage.definitionsChanged(changes);
  }

  declareQueue(declared: QueueDeclaration, connectionId: number): Queue {
    let name = declared.name;
    const stream = !declared.passive && isStreamDeclaration(declared.arguments);
    // RabbitMQ's channel makes every exclusive queue transient, whatever the durable flag said.
    const d = stream || !declared.exclusive ? declared : { ...declared, durable: false };
    // A type that refuses server-named queues is refused before anything else (RabbitMQ).
    if (stream && name === '') checkStreamDeclaration(d, this.name);
    if (!d.passive && name === '') checkServerNamedAllowed(d.arguments);
    if (name === '') {
      if (d.passive) throw notFound(`no ${this.describe('queue', '')}`);
      name = `amq.gen-${randomBytes(16).toString('base64url').slice(0, 22)}`;
    }
    const existing = this.queues.get(name);
    if (d.passive) {
      if (!existing) throw notFound(`no ${this.describe('queue', name)}`);
      this.checkExclusiveAccess(existing, connectionId);
      return existing;
    }
    // Even an existing server-named queue may only be redeclared passively (RabbitMQ).
    if (d.name.startsWith('amq.') && d.recovered !== true) {
      throw accessRefused(`queue name '${name}' contains reserved prefix 'amq.*'`);
    }
    if (existing) {
      this.checkExclusiveAccess(existing, connectionId);
      // Redeclaring with the other exclusivity is refused as locked, from the owner too (RabbitMQ).
      if (d.exclusive !== existing.exclusive) throw this.lockedError(existing.name);
      this.checkQueueEquivalent(existing, d);
      existing.touch();
      return existing;
    }
    // A definition the broker stored itself passed these checks when it was first declared.
    if (d.recovered !== true) {
      checkDeclareArguments(d.arguments, this.describe('queue', name), argumentsRefusedBy(queueTypeOf(d.arguments)));
    }
    if (stream) checkStreamDeclaration(d, this.name);
    else if (d.recovered !== true) validateQueueType({ ...d, name }, this.describe('queue', name));
    const maxPriority = stream ? undefined : parseMaxPriority(d.arguments, this.describe('queue', name));
    if (!stream) parseSingleActiveConsumer(d.arguments, this.describe('queue', name));
    const maxQueues = limitOf(this.limits, 'max-queues');
    if (maxQueues !== undefined && this.queues.size >= maxQueues) throw queueLimitReached(name, this.name, maxQueues);
    if (stream) {
      const options = { durable: true, autoDelete: false, exclusiveOwner: 0, arguments: d.arguments };
      const sq = new StreamQueue(this.name, name, options, this.storage.openStream(this.name, name, d.arguments));
      this.wireQueue(sq);
      this.storage.definitionsChanged([{ kind: 'queue', vhost: this.name, removed: false, queue: sq }]);
      return sq;
    }
    const queue = new Queue(this.name, name, {
      durable: d.durable,
      autoDelete: d.autoDelete,
      exclusiveOwner: d.exclusive ? connectionId : 0,
      arguments: d.arguments,
    }, this.createMessageList(name, d.durable && !d.exclusive, maxPriority, queueTypeOf(d.arguments) === 'quorum'));
    this.wireQueue(queue);
    queue.applyPolicy(this.policies.applied('queue', name));
    if (queue.durable && !queue.exclusive) this.storage.definitionsChanged([{ kind: 'queue', vhost: this.name, removed: false, queue }]);
    return queue;
  }

  /** A plain queue's list, or for x-max-priority one list per priority level (priority-message-list.ts). */
  private createMessageList(name: string, durable: boolean, maxPriority: number | undefined, keepsEveryMessage: boolean): MessageList {
    if (maxPriority === undefined) return this.storage.createMessageList(this.name, name, durable, keepsEveryMessage);
    const levelName = (p: number) => priorityLevelName(name, p);
    const stored: number[] = [];
    if (durable) for (let p = 0; p <= maxPriority; p++) if (this.storage.hasStoredList(this.name, levelName(p))) stored.push(p);
    return new PriorityMessageList(maxPriority, (p) => this.storage.createMessageList(this.name, levelName(p), durable), stored);
  }

  /** Storage lists the vhost's exchanges hold (delayed messages): the store keeps their files. */
  exchangeLists(): MessageList[] {
    const out: MessageList[] = [];
    for (const ex of this.exchanges.values()) if (ex instanceof DelayedMessageExchange && ex.storage) out.push(ex.storage);
    return out;
  }

  /** Adds or replaces a (operator) policy; it applies to existing queues and exchanges at once. */
  setPolicy(kind: PolicyKind, policy: Policy): void {
    this.policies.of(kind).set(policy.name, policy);
    this.applyPolicies();
    this.storage.definitionsChanged();
  }

  clearPolicy(kind: PolicyKind, name: string): boolean {
    if (!this.policies.of(kind).delete(name)) return false;
    this.applyPolicies();
    this.storage.definitionsChanged();
    return true;
  }

  /** Sets (value) or clears (undefined) a vhost limit. */
  setLimit(key: string, value: number | undefined): void {
    if (value === undefined) this.limits.delete(key);
    else this.limits.set(key, value);
    this.storage.definitionsChanged();
  }

  private applyPolicies(): void {
    for (const q of [...this.queues.values()]) q.applyPolicy(this.policies.applied('queue', q.name));
    for (const ex of this.exchanges.values()) {
      if (ex.name !== '') ex.appliedPolicy = this.policies.applied('exchange', ex.name);
    }
  }

  private wireQueue(queue: Queue): void {
    queue.onAutoDelete = (q) => this.removeQueue(q);
    queue.onDeadLetter = (q, m, reason) => this.deadLetter(q, m, reason);
    this.queues.set(queue.name, queue);
  }

  /** Republish to the queue's dead-letter exchange; silently dropped when it has none (as RabbitMQ). */
  private deadLetter(from: Queue, message: Message, reason: DeadLetterReason): void {
    const dlx = from.policy.deadLetterExchange;
    // Counted as RabbitMQ counts it: also when there is no dead-letter exchange (strategy "disabled").
    this.counters.messageDeadLettered(reason, from.type, dlx === undefined ? 'disabled' : 'at_most_once');
    if (dlx === undefined) return;
    const exchange = this.exchanges.get(dlx);
    if (!exchange) return;
    const { message: dead, deaths } = deadLetteredMessage(message, from.name, reason, dlx, from.policy.deadLetterRoutingKey);
    // A message that would go round a loop of queues with no rejection in it is dropped (RabbitMQ),
    // its own queue included: such a loop would never end by itself.
    this.publish(exchange, dead, reason === 'rejected' ? undefined : (q) => isDeadLetterCycle(deaths, q.name));
  }

  private checkQueueEquivalent(q: Queue, d: QueueDeclaration): void {
    const what = this.describe('queue', q.name);
    const check = (arg: string, received: boolean, current: boolean) => checkEquivalent(what, arg, received, current);
    check('durable', d.durable, q.durable);
    check('exclusive', d.exclusive, q.exclusive);
    check('auto_delete', d.autoDelete, q.autoDelete);
    for (const arg of EQUIVALENCE_CHECKED_ARGS) {
      const received = d.arguments[arg];
      const current = q.options.arguments[arg];
      if (!equivalentArg(arg, received, current)) throw inequivalentArg(arg, what, received, current);
    }
  }

  deleteQueue(name: string, connectionId: number, ifUnused: boolean, ifEmpty: boolean): number {
    const q = this.queues.get(name);
    if (!q) return 0; // RabbitMQ: deleting a missing queue succeeds with 0.
    this.checkExclusiveAccess(q, connectionId);
    if (q.type === 'quorum' && (ifUnused || ifEmpty)) throw quorumDeleteFlagRefused(ifUnused ? 'if-unused' : 'if-empty', this.describe('queue', name));
    if (ifUnused && q.consumerCount > 0) throw preconditionFailed(`${this.describe('queue', name)} in use`);
    if (ifEmpty && q.messageCount > 0) throw preconditionFailed(`${this.describe('queue', name)} not empty`);
    return this.removeQueue(q);
  }

  /** Remove a queue with its bindings; auto-delete exchanges left without bindings go too. */
  removeQueue(q: Queue): number {
    if (this.queues.get(q.name) !== q) return 0;
    this.queues.delete(q.name);
    const changes: DefinitionChange[] = [];
    const bindings = this.bindingsTo.get(q.name);
    if (bindings) {
      for (const b of [...bindings]) {
        const src = this.exchanges.get(b.source);
        if (src) this.forgetBinding(src, b, changes);
      }
    }
    const count = q.delete();
    this.counters.queuesDeleted++;
    if (q instanceof StreamQueue) this.storage.deleteStream(this.name, q.name);
    if (q.durable && !q.exclusive) changes.push({ kind: 'queue', vhost: this.name, removed: true, queue: q });
    this.saveChanges(changes);
    return count;
  }

  bind(source: string, destination: Destination, routingKey: string, args: FieldTable, connectionId: number): void {
    this.checkBindable(source, destination, connectionId);
    // Routing hands out the destination itself, so a queue binding must point at the Queue object.
    if (destination.kind === 'queue') destination = this.getQueue(destination.name);
    const src = this.getExchange(source);
    const b: Binding = { source, destination, routingKey, arguments: args, id: bindingId(destination, routingKey, args) };
    if (!src.bind(b)) return;
    if (destination.kind === 'queue') {
      let set = this.bindingsTo.get(destination.name);
      if (!set) this.bindingsTo.set(destination.name, (set = new Set()));
      set.add(b);
    }
    if (src.durable && this.isDurableDestination(destination) && isStoredDestination(destination)) {
      this.storage.definitionsChanged([{ kind: 'binding', vhost: this.name, removed: false, binding: b }]);
    }
  }

  /** Idempotent as in RabbitMQ: unbind-ok even when the binding, source or destination is missing. */
  unbind(source: string, destination: Destination, routingKey: string, args: FieldTable, connectionId: number): void {
    if (source === '' || (destination.kind === 'exchange' && destination.name === '')) {
      throw accessRefused('operation not permitted on the default exchange');
    }
    const src = this.exchanges.get(source);
    if (!src) return;
    const id = bindingId(destination, routingKey, args);
    const b = [...src.allBindings()].find((x) => x.id === id);
    if (!b) return;
    // Only an existing binding to another connection's exclusive queue is refused (RabbitMQ).
    const q = destination.kind === 'queue' ? this.queues.get(destination.name) : undefined;
    if (q) this.checkExclusiveAccess(q, connectionId);
    this.saveChanges(this.forgetBinding(src, b, []));
  }

  private checkBindable(source: string, destination: Destination, connectionId: number): void {
    if (source === '' || (destination.kind === 'exchange' && destination.name === '')) {
      throw accessRefused('operation not permitted on the default exchange');
    }
    // A missing source is reported before a missing destination (RabbitMQ).
    this.getExchange(source);
    if (destination.kind === 'queue') this.getQueueFor(destination.name, connectionId);
    else this.getExchange(destination.name);
  }

  private isDurableDestination(d: Destination): boolean {
    return d.kind === 'queue' ? (this.queues.get(d.name)?.durable ?? false) : (this.exchanges.get(d.name)?.durable ?? false);
  }

  /** Removes the binding (and an auto-delete source left without any); returns `changes` with the durable ones added. */
  private forgetBinding(src: Exchange, b: Binding, changes: DefinitionChange[]): DefinitionChange[] {
    src.unbind(b.id);
    if (b.destination.kind === 'queue') this.bindingsTo.get(b.destination.name)?.delete(b);
    if (src.durable && isStoredDestination(b.destination)) changes.push({ kind: 'binding', vhost: this.name, removed: true, binding: b });
    if (src.autoDelete && src.bindingCount === 0 && this.exchanges.get(src.name) === src) this.removeExchange(src, changes);
    return changes;
  }

  /**
   * Route a message published to `exchange` and enqueue it on every queue it reaches (on the default
   * exchange, a direct reply-to address reaches its consumer). Queues `skip` names are left out
   * (dead letters that would cycle). The outcome object is reused by the next publish: read
   * it before publishing again. A publish nested in another one (a queue dead-lettering while it
   * takes the message) gets its own set and outcome, so the outer loop is not disturbed.
   */
  publish(exchange: Exchange, message: Message, skip?: (queue: Queue) => boolean): PublishOutcome {
    // A duplicate goes nowhere, yet counts as routed: confirmed, and no basic.return when mandatory.
    if (exchange.deduplication !== undefined && exchange.deduplication.isDuplicate(message)) return this.takenByExchange();
    if (exchange instanceof DelayedMessageExchange && exchange.hold(message)) {
      // Held for its x-delay: "routed" (no basic.return), confirmed once the exchange's list has it on disk.
      const outcome = this.takenByExchange();
      if (message.persistent && exchange.durable) outcome.durableQueues.push({ messages: exchange });
      return outcome;
    }
    return this.publishNow(exchange, message, skip);
  }

  /** The outcome of a message the exchange itself took care of: routed, in no queue (yet). */
  private takenByExchange(): PublishOutcome {
    const outcome = this.publishDepth > 0 ? new PublishOutcome() : this.outcomeScratch.reset();
    outcome.routed = 1;
    return outcome;
  }

  /** Routes and enqueues now (a delayed message whose time has come starts here). */
  private publishNow(exchange: Exchange, message: Message, skip?: (queue: Queue) => boolean): PublishOutcome {
    const nested = this.publishDepth > 0;
    const outcome = nested ? new PublishOutcome() : this.outcomeScratch.reset();
    if (exchange.name === '' && message.routingKey.startsWith(REPLY_TO_PREFIX)) {
      if (this.directReplyTo.deliver(message.routingKey, message)) outcome.routed = 1;
      return outcome;
    }
    const selected = senderSelected(message);
    if (exchange.name === '' && !selected) {
      // The default exchange reaches at most one queue: no destination set to clear and walk
      // (Set.clear() allocates a new table each time).
      const queue = this.queues.get(message.routingKey);
      if (queue) this.enqueueGuarded(queue, message, outcome, skip);
      return outcome;
    }
    const routed = nested ? new Set<Destination>() : this.routeScratch;
    this.route(exchange, message, routed);
    if (selected) message = this.routeSenderSelected(exchange, message, selected, routed);
    this.publishDepth++;
    try {
      for (const d of routed) this.enqueue(d as Queue, message, outcome, skip);
    } finally {
      this.publishDepth--;
    }
    return outcome;
  }

  private enqueueGuarded(queue: Queue, message: Message, outcome: PublishOutcome, skip: ((queue: Queue) => boolean) | undefined): void {
    this.publishDepth++;
    try {
      this.enqueue(queue, message, outcome, skip);
    } finally {
      this.publishDepth--;
    }
  }

  /** One routed queue takes the message (or skips it as a duplicate); the outcome records it. */
  private enqueue(queue: Queue, message: Message, outcome: PublishOutcome, skip: ((queue: Queue) => boolean) | undefined): void {
    if (skip?.(queue)) return;
    outcome.routed++;
    // A duplicate for this queue only: the others still get it, and it is confirmed.
    if (queue.deduplication !== undefined && queue.deduplication.isDuplicate(message)) return;
    outcome.queues.push(queue);
    if (!queue.publish(message)) outcome.rejected = true;
    // A stream writes every message to disk: its confirms wait for the fsync, transient or not.
    else if (!queue.droppedOnArrival && ((message.persistent && queue.durable) || queue.syncsEveryMessage)) outcome.durableQueues.push(queue);
  }

  /** Adds the queues the CC/BCC routing keys reach; returns the message to deliver (without BCC). */
  private routeSenderSelected(exchange: Exchange, message: Message, selected: SenderSelected, routed: Set<Destination>): Message {
    const extra = new Set<Destination>();
    for (const key of selected.keys) {
      this.route(exchange, new Message(message.exchange, key, message.rawProperties, message.body, message.persistent), extra);
      for (const d of extra) routed.add(d);
    }
    return selected.message;
  }

  /** The queues a message published to `exchange` reaches, following e2e bindings and alternate exchanges. */
  private route(exchange: Exchange, message: Message, out: Set<Destination>): void {
    out.clear();
    if (exchange.name === '') {
      const q = this.queues.get(message.routingKey);
      if (q) out.add(q);
      return;
    }
    this.routeFrom(exchange, message, out, undefined);
  }

  private routeFrom(exchange: Exchange, message: Message, out: Set<Destination>, visited: Set<string> | undefined): void {
    const before = out.size;
    exchange.route(message, out);
    let hasExchanges = false;
    for (const d of out) if (d.kind === 'exchange') { hasExchanges = true; break; }
    if (hasExchanges) {
      visited ??= new Set([exchange.name]);
      for (const d of [...out]) {
        if (d.kind !== 'exchange') continue;
        out.delete(d);
        if (visited.has(d.name)) continue;
        visited.add(d.name);
        const next = this.exchanges.get(d.name);
        if (next) this.routeFrom(next, message, out, visited);
      }
    }
    if (out.size === before) {
      const ae = exchange.alternateExchange;
      if (ae !== undefined) {
        visited ??= new Set([exchange.name]);
        const alt = this.exchanges.get(ae);
        if (alt && !visited.has(ae)) {
          visited.add(ae);
          this.routeFrom(alt, message, out, visited);
        }
      }
    }
  }

  /** Exclusive queues of a closing connection die with it. */
  connectionClosed(connectionId: number): void {
    for (const q of [...this.queues.values()]) if (q.options.exclusiveOwner === connectionId) this.removeQueue(q);
  }

  allBindings(): Binding[] {
    const out: Binding[] = [];
    for (const ex of this.exchanges.values()) for (const b of ex.allBindings()) out.push(b);
    return out;
  }

  close(): void {
    for (const q of this.queues.values()) q.messages.close();
    for (const ex of this.exchanges.values()) if (ex instanceof DelayedMessageExchange) ex.close();
  }
}

function argString(v: FieldValue | undefined): string | undefined {
  if (v === undefined) return undefined;
  if (v instanceof Buffer) return v.toString('utf8');
  if (v instanceof TypedValue && (v.type === 'd' || v.type === 'f')) return erlangFloat(v.value as number);
  if (typeof v === 'object' && v !== null && 'toJSON' in v) return String((v as { toJSON(): unknown }).toJSON());
  return String(v);
}

/**
 * RabbitMQ's equivalence of a redeclared queue argument: the same value of the same type, where all
 * integer types count as one ('5' is not 5, a long 5 is a signedint 5), and an absent x-queue-type
 * is the same as 'classic'.
 */
function equivalentArg(arg: string, received: FieldValue | undefined, current: FieldValue | undefined): boolean {
  if (arg === 'x-queue-type' && (received ?? 'classic') === (current ?? 'classic')) return true;
  if (received === undefined || current === undefined) return received === current;
  return argString(received) === argString(current) && typeClass(received) === typeClass(current);
}

const INTEGER_TYPES = new Set(['byte', 'short', 'signedint', 'long', 'unsignedbyte', 'unsignedshort', 'unsignedint']);
const typeClass = (v: FieldValue) => {
  const name = amqpTypeName(v);
  return INTEGER_TYPES.has(name) ? 'integer' : name;
};

/** A declare property that must match the existing resource's (durable, type, ...). */
function checkEquivalent(what: string, arg: string, received: unknown, current: unknown): void {
  if (received !== current) {
    throw preconditionFailed(`inequivalent arg '${arg}' for ${what}: received '${received}' but current is '${current}'`);
  }
}

function fmtArg(v: string | undefined): string {
  return v === undefined ? 'none' : `'${v}'`;
}

/** RabbitMQ names the type only when the other side is missing: "the value '60000' of type 'signedint'". */
function describeArg(v: FieldValue | undefined): string {
  if (v === undefined) return 'none';
  return `the value '${argString(v)}' of type '${amqpTypeName(v)}'`;
}


function inequivalentArg(arg: string, what: string, received: FieldValue | undefined, current: FieldValue | undefined): AmqpError {
  const r = argString(received);
  const c = argString(current);
  const text = r === undefined || c === undefined
    ? `received ${describeArg(received)} but current is ${describeArg(current)}`
    : `received ${fmtArg(r)} but current is ${fmtArg(c)}`;
  return preconditionFailed(`inequivalent arg '${arg}' for ${what}: ${text}`);
}

/**
 * Whether bindings of a durable source to `d` are stored definitions: not those to transient or
 * exclusive queues (a queue binding's destination is the Queue itself). An exchange destination
 * counts whatever it is: it may be gone already when its bindings are removed, and removing a
 * binding that was never stored changes nothing.
 */
function isStoredDestination(d: Destination): boolean {
  return !(d instanceof Queue) || (d.durable && !d.exclusive);
}
