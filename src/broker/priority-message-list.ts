/**
 * The ready messages of a priority queue (x-max-priority): one ordinary MessageList per priority
 * level, as RabbitMQ's priority queue keeps one backing queue per priority. The highest non-empty
 * level is served first and each level is FIFO, so "higher first, FIFO within a priority" and
 * "requeue to the original position" come from the levels themselves. Durable queues get a durable
 * list per level (each recovers its own order and delivered marks after a restart or crash); plain
 * queues never pay for any of this, since only a queue declared with x-max-priority gets this list.
 */
import { hasProperty, PropertyFlag } from '../protocol/properties.js';
import type { Envelope, Message } from './message.js';
import type { MessageList } from './message-list.js';

/** Opens (or re-opens, after a restart) the list of one priority level. */
export type LevelFactory = (priority: number) => MessageList;

/** The storage name of a level: level 0 keeps the queue's own name. */
export function priorityLevelName(queue: string, priority: number): string {
  return priority === 0 ? queue : `${queue}\u0000priority ${priority}`;
}

/** A message's priority in a queue with this maximum: missing = 0, above the maximum = the maximum. */
export function messagePriority(message: Message, maxPriority: number): number {
  if (!hasProperty(message.rawProperties, PropertyFlag.priority)) return 0;
  const p = message.properties.priority ?? 0;
  return p > maxPriority ? maxPriority : p;
}

export class PriorityMessageList implements MessageList {
  /** Index = priority; created on first use (or at start when stored messages exist for it). */
  private readonly levels: (MessageList | undefined)[];
  /** The created levels, highest priority first: what shift() scans. */
  private active: MessageList[] = [];
  onDeliverable: (() => void) | undefined;

  constructor(
    readonly maxPriority: number,
    private readonly createLevel: LevelFactory,
    /** Levels with stored messages (durable queues after a restart): opened at once. */
    existing: Iterable<number> = [],
  ) {
    this.levels = new Array(maxPriority + 1).fill(undefined);
    for (const p of existing) this.level(p);
  }

  /** Every list in use, for the store's check of which files belong to a queue. */
  levelLists(): readonly MessageList[] {
    return this.active;
  }

  private level(priority: number): MessageList {
    let list = this.levels[priority];
    if (!list) {
      list = this.createLevel(priority);
      list.onDeliverable = () => this.onDeliverable?.();
      this.levels[priority] = list;
      this.active = this.levels.filter((l): l is MessageList => l !== undefined).reverse();
    }
    return list;
  }

  private levelOf(envelope: Envelope): MessageList {
    return this.level(messagePriority(envelope.message, this.maxPriority));
  }

  get length(): number {
    let n = 0;
    for (const l of this.active) n += l.length;
    return n;
  }

  get bytes(): number {
    let n = 0;
    for (const l of this.active) n += l.bytes;
    return n;
  }

  get pagedOut(): number {
    return this.sum((l) => l.pagedOut);
  }

  get pagedOutBytes(): number {
    return this.sum((l) => l.pagedOutBytes);
  }

  get diskWrites(): number {
    return this.sum((l) => l.diskWrites);
  }

  get diskReads(): number {
    return this.sum((l) => l.diskReads);
  }

  private sum(of: (l: MessageList) => number): number {
    let n = 0;
    for (const l of this.active) n += of(l);
    return n;
  }

  push(message: Message): Envelope {
    return this.level(messagePriority(message, this.maxPriority)).push(message);
  }

  shift(): Envelope | undefined {
    for (const l of this.active) if (l.length > 0) return l.shift();
    return undefined;
  }

  peek(): Envelope | undefined {
    for (const l of this.active) if (l.length > 0) return l.peek();
    return undefined;
  }

  /** The oldest over every level: a low-priority message can wait longer than the head. */
  oldestAcceptedAt(): number | undefined {
    let oldest: number | undefined;
    for (const l of this.active) {
      const at = l.oldestAcceptedAt();
      if (at !== undefined && (oldest === undefined || at < oldest)) oldest = at;
    }
    return oldest;
  }

  /** The head is the highest non-empty level's (RabbitMQ 3.10 reports that one too). */
  headTimestamp(): number | undefined {
    for (const l of this.active) if (l.length > 0) return l.headTimestamp();
    return undefined;
  }

  requeue(envelope: Envelope): void {
    this.levelOf(envelope).requeue(envelope);
  }

  settle(envelope: Envelope): void {
    this.levelOf(envelope).settle(envelope);
  }

  purge(): number {
    let n = 0;
    for (const l of this.active) n += l.purge();
    return n;
  }

  whenDurable(callback: () => void): void {
    let waiting = this.active.length;
    if (waiting === 0) {
      queueMicrotask(callback);
      return;
    }
    for (const l of this.active) l.whenDurable(() => {
      if (--waiting === 0) callback();
    });
  }

  destroy(): void {
    for (const l of this.active) l.destroy();
  }

  close(): void {
    for (const l of this.active) l.close();
  }
}
