/**
 * A published message as the broker holds it. The content header's property bytes are kept raw
 * (exactly as the publisher sent them) so that all 14 properties reach consumers byte-exact and
 * delivery never re-encodes them; the few properties routing needs are decoded on demand.
 */
import { readPropertyFields, writePropertyFields, type BasicProperties } from '../protocol/properties.js';
import { sortedTable } from '../protocol/field-table.js';

export class Message {
  /** Decoded properties, filled the first time something needs them (headers exchange, user_id, TTL). */
  private decoded: BasicProperties | undefined;

  constructor(
    readonly exchange: string,
    readonly routingKey: string,
    /** property-flags + property-list bytes of the content header (not class/weight/body-size). */
    readonly rawProperties: Buffer,
    /** The whole body; for a body split over frames it was assembled once into one buffer. */
    readonly body: Buffer,
    /** delivery_mode == 2. */
    readonly persistent: boolean,
    /** Milliseconds since epoch when the broker accepted it (for TTL and management stats). */
    readonly timestamp: number = Date.now(),
  ) {}

  get bodySize(): number {
    return this.body.length;
  }

  get properties(): BasicProperties {
    return (this.decoded ??= readPropertyFields(this.rawProperties));
  }
}

/** A message's place in one queue: the same Message can sit in many queues (fanout) without copies. */
export interface Envelope {
  /** Position in the queue, strictly increasing in publish order; requeue returns to this place. */
  readonly seq: number;
  readonly message: Message;
  /** Set once the message has been handed to a consumer and came back (requeue, recovery). */
  redelivered: boolean;
  /** Quorum queues: how often it came back, sent to consumers as the x-delivery-count header. */
  deliveryCount?: number;
  /**
   * While out with a consumer awaiting its ack: when it was handed out (ms since epoch), and its
   * neighbours in the queue's list of outstanding deliveries (outstanding-deliveries.ts). Lists
   * that create envelopes on the hot path set all three at creation, so envelopes keep one shape.
   */
  deliveredAt?: number;
  outPrev?: Envelope | undefined;
  outNext?: Envelope | undefined;
}

/**
 * The message as a consumer or basic.get receives it: from a quorum queue with the x-delivery-count
 * header, a long, in a headers table sorted by key with the other headers' types kept (RabbitMQ 3.10
 * adds it to every basic.get, but to a consumer's delivery only once the message came back);
 * otherwise the stored one, untouched.
 */
export function deliveredMessage(envelope: Envelope, forGet: boolean): Message {
  const m = envelope.message;
  const count = envelope.deliveryCount;
  if (count === undefined || (count === 0 && !forGet)) return m;
  const props = readPropertyFields(m.rawProperties, true);
  props.headers = sortedTable({ ...(props.headers ?? {}), 'x-delivery-count': BigInt(count) });
  return new Message(m.exchange, m.routingKey, writePropertyFields(props), m.body, m.persistent, m.timestamp);
}
