/**
 * Dead-lettering: a message rejected without requeue, expired, or dropped by a length limit is
 * republished to the queue's dead-letter exchange with RabbitMQ's `x-death` history header.
 */
import { stringValue, type FieldTable, type FieldValue } from '../protocol/field-table.js';
import { writePropertyFields } from '../protocol/properties.js';
import { Message } from './message.js';

export type DeadLetterReason = 'rejected' | 'expired' | 'maxlen' | 'delivery_limit';

export function deadLetteredMessage(
  original: Message,
  queue: string,
  reason: DeadLetterReason,
  exchange: string,
  routingKey: string | undefined,
): { message: Message; deaths: readonly FieldValue[] } {
  const props = { ...original.properties };
  const headers: FieldTable = { ...(props.headers ?? {}) };
  const deaths = Array.isArray(headers['x-death']) ? [...(headers['x-death'] as FieldValue[])] : [];
  const routingKeys = [original.routingKey];
  const existing = deaths.findIndex((d) => {
    const t = d as FieldTable;
    return t && t['queue'] === queue && t['reason'] === reason;
  });
  const now = new Date(Math.floor(Date.now() / 1000) * 1000);
  if (existing >= 0) {
    const entry = { ...(deaths[existing] as FieldTable) };
    entry['count'] = (typeof entry['count'] === 'number' ? entry['count'] : 0) + 1;
    entry['time'] = now;
    deaths.splice(existing, 1);
    deaths.unshift(entry);
  } else {
    const entry: FieldTable = { count: 1, reason, queue, time: now, exchange: original.exchange, 'routing-keys': routingKeys };
    if (props.expiration !== undefined) entry['original-expiration'] = props.expiration;
    deaths.unshift(entry);
  }
  headers['x-death'] = deaths;
  if (!('x-first-death-reason' in headers)) {
    headers['x-first-death-reason'] = reason;
    headers['x-first-death-queue'] = queue;
    headers['x-first-death-exchange'] = original.exchange;
  }
  props.headers = headers;
  // The per-message TTL is removed so that the dead-lettered copy does not expire again at once.
  delete props.expiration;
  const message = new Message(exchange, routingKey ?? original.routingKey, writePropertyFields(props), original.body, original.persistent);
  return { message, deaths };
}

/**
 * RabbitMQ's cycle rule: dead-lettering into `queue` is a cycle when the message already died there
 * and no death since then (that one included) was a rejection — such a loop would never end by
 * itself. `deaths` is the new x-death list, most recent first.
 */
export function isDeadLetterCycle(deaths: readonly FieldValue[], queue: string): boolean {
  for (const d of deaths) {
    const entry = d as FieldTable;
    if (stringValue(entry?.['reason']) === 'rejected') return false;
    if (stringValue(entry?.['queue']) === queue) return true;
  }
  return false;
}
