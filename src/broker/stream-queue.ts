/**
 * A stream queue (x-queue-type: stream) as AMQP 0-9-1 clients see it, RabbitMQ 3.10's semantics:
 * publishes append AMQP 1.0 records to the stream's log (src/stream/), every consumer reads the
 * whole log from its own x-stream-offset without removing anything, acks only give credit back,
 * and each delivery carries an `x-stream-offset` header. A consumer reads one chunk at a time from
 * the segment files and asks for room only between chunks (RabbitMQ's credit is per chunk too), so
 * a consumer of a long backlog costs one chunk of memory.
 */
import { Message, type Envelope } from './message.js';
import type { MessageList } from './message-list.js';
import { Queue, type QueueOptions } from './queue.js';
import type { QueueConsumer } from './queue-consumer.js';
import { streamBadOffset, streamNotSupported, streamPrefetchRequired } from '../protocol/errors.js';
import type { FieldTable, FieldValue } from '../protocol/field-table.js';
import { writePropertyFields } from '../protocol/properties.js';
import { decodeToAmqp091, encodeFromAmqp091 } from '../stream/amqp10.js';
import { forEachEntry } from '../stream/chunk.js';
import { parseDuration } from '../stream/retention.js';
import type { StreamLog } from '../stream/stream-log.js';
import type { Stream } from '../stream/stream-manager.js';

/** The MessageList face of a stream log: counts and confirms; messages never leave it. */
class StreamMessageList implements MessageList {
  constructor(private readonly log: StreamLog) {}
  get length(): number { return this.log.messageCount; }
  get bytes(): number { return this.log.bytes; }
  /** A log is on disk by nature; RabbitMQ reports no paging for streams either. */
  readonly pagedOut = 0;
  readonly pagedOutBytes = 0;
  readonly diskWrites = 0;
  readonly diskReads = 0;
  push(message: Message): Envelope { return { seq: 0, message, redelivered: false }; }
  shift(): Envelope | undefined { return undefined; }
  peek(): Envelope | undefined { return undefined; }
  /** Ages and head timestamps do not apply to a log nothing is removed from. */
  oldestAcceptedAt(): undefined { return undefined; }
  headTimestamp(): undefined { return undefined; }
  requeue(): void {}
  settle(): void {}
  purge(): number { return 0; }
  whenDurable(callback: () => void): void { this.log.whenDurable(callback); }
  destroy(): void {}
  close(): void {}
}

interface Cursor {
  /** Offset of the next chunk to read. */
  next: number;
  /** Records below this offset are skipped (a numeric x-stream-offset inside a chunk). */
  skipBelow: number;
  /** Records of the chunk being delivered. */
  pending: { offset: number; body: Buffer }[];
  index: number;
}

export class StreamQueue extends Queue {
  readonly isStream = true;
  private readonly cursors = new Map<QueueConsumer, Cursor>();
  private readonly unlisten: () => void;
  private pumping = false;

  constructor(vhost: string, name: string, options: QueueOptions, readonly stream: Stream) {
    super(vhost, name, options, new StreamMessageList(stream.log));
    this.unlisten = stream.log.onAppend(() => this.dispatch());
  }

  override get consumerCount(): number {
    return this.cursors.size;
  }

  override allConsumers(): readonly QueueConsumer[] {
    return [...this.cursors.keys()];
  }

  override hasExclusiveConsumer(): boolean {
    for (const c of this.cursors.keys()) if (c.exclusive) return true;
    return false;
  }

  /** x-max-length-bytes means retention here, not a classic length limit. */
  protected override policyArguments(): FieldTable {
    return {};
  }

  /** Policies do not apply to streams yet (RabbitMQ's max-age / max-length-bytes policies). */
  override applyPolicy(): void {}

  override touch(): void {}
  override expireHead(): void {}

  override publish(message: Message): boolean {
    this.stream.log.append(encodeFromAmqp091(message.properties, message.body, message.exchange, message.routingKey));
    this.stats.published++;
    return true;
  }

  /** basic.consume's checks, before consume-ok: manual acks and a prefetch are required. */
  override checkConsumer(noAck: boolean, prefetch: number, args: FieldTable): void {
    if (noAck) throw streamNotSupported('automatic acknowledgement', this.name, this.vhost);
    if (prefetch === 0) throw streamPrefetchRequired(this.name, this.vhost);
    this.startOffset(args['x-stream-offset']);
  }

  /** Where x-stream-offset starts reading: [first chunk offset to read, records to skip below]. */
  private startOffset(spec: FieldValue | undefined): [number, number] {
    const log = this.stream.log;
    if (spec === undefined || spec === 'next') return [log.nextOffsetVisible, 0];
    if (spec === 'first') return [log.firstOffset, 0];
    if (spec === 'last') return [log.lastChunkStart(), 0];
    if (spec instanceof Date) return [log.offsetOfTimestamp(spec.getTime()), 0];
    if (typeof spec === 'string') {
      const ms = parseDuration(spec);
      if (ms === undefined) throw streamBadOffset(spec);
      return [log.offsetOfTimestamp(Date.now() - ms), 0];
    }
    const n = typeof spec === 'number' || typeof spec === 'bigint' ? Number(spec)
      : typeof spec === 'object' && spec !== null && 'value' in spec && typeof spec.value !== 'object' ? Number(spec.value) : NaN;
    if (!Number.isInteger(n) || n < 0) throw streamBadOffset(String(spec));
    if (n >= log.nextOffsetVisible) return [log.nextOffsetVisible, 0];
    return [log.chunkStart(Math.max(n, log.firstOffset)), n];
  }

  override addConsumer(consumer: QueueConsumer): void {
    const args = (consumer as { args?: FieldTable }).args ?? {};
    const [next, skipBelow] = this.startOffset(args['x-stream-offset']);
    this.cursors.set(consumer, { next, skipBelow, pending: [], index: 0 });
    this.stream.consumers++;
    this.dispatch();
  }

  override removeConsumer(consumer: QueueConsumer): void {
    if (this.cursors.delete(consumer)) this.stream.consumers--;
  }

  override dispatch(): void {
    if (this.pumping || this.deleted) return;
    this.pumping = true;
    try {
      for (const [consumer, cursor] of this.cursors) this.pump(consumer, cursor);
    } finally {
      this.pumping = false;
    }
  }

  private pump(consumer: QueueConsumer, cursor: Cursor): void {
    for (;;) {
      if (cursor.index >= cursor.pending.length) {
        if (!consumer.canTake()) return;
        const chunk = this.stream.log.read(cursor.next, 0);
        if (!chunk) return;
        cursor.pending = [];
        cursor.index = 0;
        forEachEntry(chunk.buf, (body, i) => {
          const offset = chunk.firstOffset + i;
          if (offset >= cursor.skipBelow) cursor.pending.push({ offset, body });
        });
        cursor.next = chunk.firstOffset + chunk.records;
        continue;
      }
      // The rest of a started chunk goes out whatever the prefetch, as RabbitMQ delivers whole chunks.
      const record = cursor.pending[cursor.index++]!;
      this.stats.delivered++;
      this.unacked++;
      consumer.deliver({ seq: record.offset, message: toMessage(record.body, record.offset, this.name), redelivered: false });
      if (this.cursors.get(consumer) !== cursor) return; // cancelled while delivering
    }
  }

  override get(): Envelope | undefined {
    throw streamNotSupported('basic.get', this.name, this.vhost);
  }

  override purge(): number {
    throw streamNotSupported('queue.purge', this.name, this.vhost);
  }

  /** An ack only gives the consumer credit: the record stays in the log. */
  override ack(envelope: Envelope): void {
    this.unacked--;
    this.stats.acked++;
    void envelope;
  }

  /** nack and reject are refused by the channel before they get here; a closing channel lands here. */
  override requeue(_envelope: Envelope): void {
    this.unacked--;
  }

  override discard(_envelope: Envelope): void {
    this.unacked--;
  }

  override delete(): number {
    const count = this.stream.log.messageCount;
    this.deleted = true;
    this.unlisten();
    for (const c of [...this.cursors.keys()]) c.cancelledByBroker();
    this.cursors.clear();
    return count;
  }
}

/** A stream record as an AMQP 0-9-1 message, with the x-stream-offset header RabbitMQ adds. */
function toMessage(record: Buffer, offset: number, queue: string): Message {
  let decoded;
  try {
    decoded = decodeToAmqp091(record);
  } catch {
    // Not an AMQP 1.0 message (a stream client may publish anything): the raw bytes are the body.
    decoded = { properties: {}, body: record, exchange: '', routingKey: queue };
  }
  const properties = decoded.properties;
  properties.headers = { ...(properties.headers ?? {}), 'x-stream-offset': offset };
  return new Message(decoded.exchange, decoded.routingKey || queue, writePropertyFields(properties), decoded.body, properties.deliveryMode === 2);
}
