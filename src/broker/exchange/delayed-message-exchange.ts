import { delayedTypeInvalid } from '../../protocol/errors.js';
import { numericValue, stringValue } from '../../protocol/field-table.js';
import { hasProperty, PropertyFlag } from '../../protocol/properties.js';
import type { Envelope, Message } from '../message.js';
import type { MessageList } from '../message-list.js';
import { Exchange, type Binding, type Destination, type ExchangeOptions } from './exchange.js';

type ExchangeFactory = (type: string, vhost: string, name: string, options: ExchangeOptions) => Exchange;

interface Held {
  readonly due: number;
  readonly envelope: Envelope;
}

/**
 * x-delayed-message (the rabbitmq_delayed_message_exchange plugin, built in): routes as its
 * `x-delayed-type` does, but a message with an `x-delay` header (ms) is held and routed only when the
 * delay has passed. Held messages live in a MessageList: for a durable exchange a durable one, so
 * persistent delayed messages survive a restart or a crash (each is due at its publish time plus
 * its delay). One timer, armed for the earliest message.
 */
export class DelayedMessageExchange extends Exchange {
  readonly type: string = 'x-delayed-message';
  private readonly inner: Exchange;
  /** Held messages, sorted by due time (then arrival). */
  private held: Held[] = [];
  private list: MessageList | undefined;
  private release: ((message: Message) => void) | undefined;
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Infinity;

  constructor(vhost: string, name: string, options: ExchangeOptions, create: ExchangeFactory) {
    super(vhost, name, options);
    const delayedType = stringValue(options.arguments['x-delayed-type']);
    if (delayedType === undefined || delayedType === 'x-delayed-message') throw delayedTypeInvalid();
    try {
      this.inner = create(delayedType, vhost, name, options);
    } catch {
      throw delayedTypeInvalid();
    }
  }

  /** Messages waiting for their delay (management shows the count). */
  get delayedCount(): number {
    return this.held.length;
  }

  /** The list holding delayed messages (the store keeps its files while it is in use). */
  get storage(): MessageList | undefined {
    return this.list;
  }

  /**
   * Wires storage and the way out; messages already in `list` (recovered after a restart) are held
   * again until their due time.
   */
  attach(list: MessageList, release: (message: Message) => void): void {
    this.list = list;
    this.release = release;
    for (let e = list.shift(); e; e = list.shift()) this.insert({ due: e.message.timestamp + delayOf(e.message), envelope: e });
    this.arm();
  }

  /** True when the message is delayed (held here instead of routed now). */
  hold(message: Message): boolean {
    if (!this.list || delayOf(message) <= 0) return false;
    const list = this.list;
    const pushed = list.push(message);
    // Take it out of the list's ready set at once: the store keeps it (and redelivers after a crash) until settled.
    const envelope = list.shift() ?? pushed;
    this.insert({ due: message.timestamp + delayOf(message), envelope });
    this.arm();
    return true;
  }

  /** Runs `callback` once held messages are on disk (publisher confirms for delayed messages). */
  whenDurable(callback: () => void): void {
    if (this.list) this.list.whenDurable(callback);
    else queueMicrotask(callback);
  }

  route(message: Message, out: Set<Destination>): void {
    this.inner.route(message, out);
  }

  override bind(binding: Binding): boolean {
    if (!super.bind(binding)) return false;
    this.inner.bind(binding);
    return true;
  }

  override unbind(id: string): boolean {
    if (!super.unbind(id)) return false;
    this.inner.unbind(id);
    return true;
  }

  protected addToIndex(): void {}
  protected removeFromIndex(): void {}

  /** The exchange is deleted: held messages are dropped with it. */
  destroy(): void {
    clearTimeout(this.timer);
    this.held = [];
    this.list?.destroy();
  }

  close(): void {
    clearTimeout(this.timer);
    this.list?.close();
  }

  private insert(h: Held): void {
    const held = this.held;
    let i = held.length;
    while (i > 0 && held[i - 1]!.due > h.due) i--;
    held.splice(i, 0, h);
  }

  private arm(): void {
    const first = this.held[0];
    if (!first || first.due >= this.timerAt) return;
    clearTimeout(this.timer);
    this.timerAt = first.due;
    this.timer = setTimeout(() => this.releaseDue(), Math.max(0, first.due - Date.now()));
    this.timer.unref();
  }

  private releaseDue(): void {
    this.timer = undefined;
    this.timerAt = Infinity;
    const now = Date.now();
    while (this.held.length > 0 && this.held[0]!.due <= now) {
      const { envelope } = this.held.shift()!;
      this.release?.(envelope.message);
      this.list?.settle(envelope);
    }
    this.arm();
  }
}

/** The x-delay header in ms; 0 when absent or not a positive number. */
function delayOf(message: Message): number {
  if (!hasProperty(message.rawProperties, PropertyFlag.headers)) return 0;
  const v = numericValue(message.properties.headers?.['x-delay']);
  return v !== undefined && Number.isFinite(v) && v > 0 ? v : 0;
}
