/**
 * RabbitMQ's firehose tracer: while tracing is on for a vhost, every message published in it and
 * every message delivered from it is copied to the vhost's `amq.rabbitmq.trace` topic exchange, as
 * `publish.<exchange>` and `deliver.<queue>`. A copy carries the original body and, as headers, what
 * rabbit_trace puts there: the exchange and routing keys, the original properties as a table, the
 * node, then vhost, connection, channel and user (plus routed_queues on publish, redelivered on
 * deliver). Messages of the trace exchange itself are never traced, so a consumer of the trace
 * does not trace forever.
 */
import type { FieldTable, FieldValue } from '../protocol/field-table.js';
import { writePropertyFields, type BasicProperties } from '../protocol/properties.js';
import type { Exchange } from './exchange/index.js';
import { Message } from './message.js';

export const TRACE_EXCHANGE = 'amq.rabbitmq.trace';

/** The vhost a firehose publishes into (its trace exchange). */
export interface TraceTarget {
  readonly name: string;
  readonly exchanges: ReadonlyMap<string, Exchange>;
  publish(exchange: Exchange, message: Message): unknown;
}

/** Who published or received the message: the connection's name, channel number and user. */
export interface TraceSource {
  readonly connectionName: string;
  readonly channel: number;
  readonly user: string;
}

/** RabbitMQ's field names for the basic properties, in P_basic order. */
const PROPERTY_NAMES: Array<[keyof BasicProperties, string]> = [
  ['contentType', 'content_type'], ['contentEncoding', 'content_encoding'], ['headers', 'headers'],
  ['deliveryMode', 'delivery_mode'], ['priority', 'priority'], ['correlationId', 'correlation_id'],
  ['replyTo', 'reply_to'], ['expiration', 'expiration'], ['messageId', 'message_id'], ['timestamp', 'timestamp'],
  ['type', 'type'], ['userId', 'user_id'], ['appId', 'app_id'], ['clusterId', 'cluster_id'],
];

export class Firehose {
  constructor(
    private readonly vhost: TraceTarget,
    private readonly nodeName: string,
  ) {}

  /** A client published `message`; `queues` are the names of the queues it went to. */
  published(message: Message, queues: readonly string[], source: TraceSource): void {
    if (message.exchange === TRACE_EXCHANGE) return;
    this.emit(`publish.${message.exchange}`, message, {
      vhost: this.vhost.name, connection: source.connectionName, channel: source.channel, user: source.user,
      routed_queues: [...queues],
    });
  }

  /** `message` went out from `queue` to a consumer or a basic.get. */
  delivered(queue: string, message: Message, redelivered: boolean, source: TraceSource): void {
    if (message.exchange === TRACE_EXCHANGE) return;
    this.emit(`deliver.${queue}`, message, {
      redelivered: redelivered ? 1 : 0, vhost: this.vhost.name, connection: source.connectionName,
      channel: source.channel, user: source.user,
    });
  }

  private emit(routingKey: string, message: Message, extra: FieldTable): void {
    const exchange = this.vhost.exchanges.get(TRACE_EXCHANGE);
    if (!exchange) return;
    const headers: FieldTable = {
      exchange_name: message.exchange,
      routing_keys: [message.routingKey],
      properties: propertiesTable(message.properties),
      node: this.nodeName,
      ...extra,
    };
    const copy = new Message(TRACE_EXCHANGE, routingKey, writePropertyFields({ headers }), message.body, false);
    this.vhost.publish(exchange, copy);
  }
}

/** The properties that are set, as rabbit_trace lists them: last P_basic field first. */
function propertiesTable(p: BasicProperties): FieldTable {
  const out: FieldTable = {};
  for (let i = PROPERTY_NAMES.length - 1; i >= 0; i--) {
    const [key, name] = PROPERTY_NAMES[i]!;
    const v = p[key];
    if (v !== undefined) out[name] = v as FieldValue;
  }
  return out;
}
