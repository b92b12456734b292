/**
 * The storage under a queue: the ready messages in order. A queue does not care whether they
 * live in memory (MemoryMessageList) or in segment files with only a window in memory (the
 * durable list in src/store/). Unacked messages are held by the queue's consumers' channels as
 * Envelopes and come back through requeue() or leave through settle().
 */
import type { Envelope, Message } from './message.js';

export interface MessageList {
  /** Ready messages (not counting delivered-but-unacked ones). */
  readonly length: number;
  /** Body bytes of the ready messages. */
  readonly bytes: number;
  /** Ready messages only on disk, not in memory (a paged queue's middle), and their body bytes. */
  readonly pagedOut: number;
  readonly pagedOutBytes: number;
  /** Messages written to and read back from disk since the list was opened. */
  readonly diskWrites: number;
  readonly diskReads: number;
  /** Append at the tail. */
  push(message: Message): Envelope;
  /** Take the head (lowest seq) for delivery; the caller later settles or requeues it. */
  shift(): Envelope | undefined;
  /** Look at the head without taking it. */
  peek(): Envelope | undefined;
  /** Put a delivered envelope back at its original position (by seq), marked redelivered. */
  requeue(envelope: Envelope): void;
  /** The envelope was acked (or dropped): forget it for good (a store deletes it from disk). */
  settle(envelope: Envelope): void;
  /**
   * When the broker accepted the oldest ready message (ms since epoch), undefined when none is
   * ready. Known without reading the disk: a paged list keeps its head in memory.
   */
  oldestAcceptedAt(): number | undefined;
  /** The timestamp property (seconds) of the next message to deliver: RabbitMQ's head_message_timestamp. */
  headTimestamp(): number | undefined;
  /** Drop every ready message; returns how many. */
  purge(): number;
  /**
   * Run `callback` once every message pushed so far is on stable storage (fsync). Memory lists
   * call it at once (on the next microtask at the latest). Used for publisher confirms.
   */
  whenDurable(callback: () => void): void;
  /**
   * Set by the queue: messages the list held back became deliverable. Only a cluster leader's
   * durable lists hold any (shift() and peek() return undefined while the head waits for its
   * replication, replicated-message-list.ts); the others never call it.
   */
  onDeliverable?: (() => void) | undefined;
  /** The queue is deleted: remove everything, including files. */
  destroy(): void;
  /** Broker shutdown: flush and close files, keep the data. */
  close(): void;
}
