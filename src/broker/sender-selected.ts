/**
 * Sender-selected distribution (RabbitMQ's CC and BCC headers): a message also goes, through the
 * same exchange, wherever the routing keys listed in `CC` and `BCC` (arrays of longstr) lead. `BCC`
 * is removed from every copy before delivery. Messages without headers, or whose header bytes do
 * not even contain "CC", are never decoded.
 */
import { invalidMessageHeader } from '../protocol/errors.js';
import { amqpTypeName, type FieldValue } from '../protocol/field-table.js';
import { hasProperty, PropertyFlag, writePropertyFields } from '../protocol/properties.js';
import { Message } from './message.js';

const CC = Buffer.from('CC');

export interface SenderSelected {
  /** The extra routing keys (CC, then BCC). */
  readonly keys: string[];
  /** The message to deliver: the original, or a copy without BCC. */
  readonly message: Message;
}

/** undefined when the message names no CC/BCC routing keys; 406 for a CC/BCC that is not an array. */
export function senderSelected(message: Message): SenderSelected | undefined {
  const raw = message.rawProperties;
  if (!hasProperty(raw, PropertyFlag.headers) || raw.indexOf(CC) < 0) return undefined;
  const headers = message.properties.headers;
  if (!headers) return undefined;
  const cc = headers['CC'];
  const bcc = headers['BCC'];
  if (cc === undefined && bcc === undefined) return undefined;
  const keys = [...routingKeys('CC', cc), ...routingKeys('BCC', bcc)];
  if (bcc === undefined) return { keys, message };
  const { BCC: _bcc, ...rest } = headers;
  const stripped = new Message(
    message.exchange, message.routingKey, writePropertyFields({ ...message.properties, headers: rest }),
    message.body, message.persistent, message.timestamp,
  );
  return { keys, message: stripped };
}

function routingKeys(name: string, v: FieldValue | undefined): string[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) throw invalidMessageHeader(name, amqpTypeName(v));
  const out: string[] = [];
  for (const k of v) {
    if (typeof k === 'string') out.push(k);
    else if (k instanceof Buffer) out.push(k.toString('utf8'));
  }
  return out;
}
