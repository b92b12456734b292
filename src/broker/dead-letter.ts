/**
 * Dead-lettering: a message rejected without requeue, expired, or dropped by a length limit is
 * republished to the queue's dead-letter exchange with RabbitMQ's `x-death` history header.
 */
import { isFieldTable, numericValue, sortedTable, stringValue, type FieldTable, type FieldValue } from '../protocol/field-table.js';
import { readPropertyFields, writePropertyFields } from '../protocol/properties.js';
import { Message } from './message.js';

export type DeadLetterReason = 'rejected' | 'expired' | 'maxlen' | 'delivery_limit';

export function deadLetteredMessage(
  original: Message,
  queue: string,
  reason: DeadLetterReason,
  exchange: string,
  routingKey: string | undefined,
): { message: Message; deaths: readonly FieldValue[] } {
  // A fresh decode that keeps every header's wire type ('l' stays long), as RabbitMQ leaves them.
  const props = readPropertyFields(original.rawProperties, true);
  const headers: FieldTable = props.headers ?? {};
  const death: FieldTable = {
    reason,
    queue,
    time: new Date(Math.floor(Date.now() / 1000) * 1000),
    exchange: original.exchange,
    // The publish's routing key, then the CC (and BCC) keys it was also routed with.
    'routing-keys': [original.routingKey, ...headerRoutes(headers, 'CC'), ...headerRoutes(headers, 'BCC')],
  };
  if (props.expiration !== undefined) death['original-expiration'] = props.expiration;
  const prior = headers['x-death'];
  let deaths: FieldValue[];
  if (prior !== undefined && !Array.isArray(prior)) {
    // Not an array (a client re-published it as something else): RabbitMQ starts the history afresh.
    deaths = [{ count: 1n, ...death }];
  } else if (prior === undefined) {
    // Only the first death sets the x-first-death-* headers.
    headers['x-first-death-reason'] = reason;
    headers['x-first-death-queue'] = queue;
    headers['x-first-death-exchange'] = original.exchange;
    deaths = [{ count: 1n, ...death }];
  } else {
    // A death in the same queue for the same reason counts up its entry (its time stays that of the
    // first such death) and moves it to the front; RabbitMQ then writes that entry's keys sorted.
    const grouped = groupByQueueAndReason(prior);
    const same = grouped.findIndex((d) => d['queue'] === queue && d['reason'] === reason);
    const entry = same >= 0 ? counted(grouped[same]!) : { count: 1n, ...death };
    deaths = [sortedTable(entry), ...grouped.filter((_, i) => i !== same)];
  }
  headers['x-death'] = deaths;
  // RabbitMQ sorts the headers table by key when it sets x-death.
  const rewritten = sortedTable(headers);
  // A dead-letter routing key replaces the CC keys too.
  if (routingKey !== undefined) delete rewritten['CC'];
  props.headers = rewritten;
  // The per-message TTL is removed so that the dead-lettered copy does not expire again at once.
  delete props.expiration;
  const message = new Message(exchange, routingKey ?? original.routingKey, writePropertyFields(props), original.body, original.persistent);
  return { message, deaths };
}

/**
 * RabbitMQ's merge of x-death entries for the same queue and reason (histories written before it
 * kept one entry per pair): one entry per pair, which takes the number of entries as its count when it
 * has none. With two entries or more RabbitMQ's fold hands them back in reverse order, and so do we.
 */
function groupByQueueAndReason(entries: readonly FieldValue[]): FieldTable[] {
  const tables = entries.filter(isFieldTable);
  if (tables.length < 2) return tables;
  const seen = new Set<string>();
  const grouped: FieldTable[] = [];
  for (const t of tables) {
    const key = JSON.stringify([argKey(t['queue']), argKey(t['reason'])]);
    const matches = tables.filter((x) => x['queue'] === t['queue'] && x['reason'] === t['reason']);
    const first = matches[0]!;
    if (grouped.length === 0 || !seen.has(key)) grouped.unshift('count' in first ? first : { count: BigInt(matches.length), ...first });
    seen.add(key);
  }
  return grouped;
}

const argKey = (v: FieldValue | undefined) => (typeof v === 'string' ? v : String(v));

/** The string routes of a CC or BCC header (RabbitMQ ignores anything else in the array). */
function headerRoutes(headers: FieldTable, name: string): string[] {
  const v = headers[name];
  return Array.isArray(v) ? v.filter((r): r is string => typeof r === 'string') : [];
}

function counted(entry: FieldTable): FieldTable {
  const n = numericValue(entry['count']);
  return n === undefined ? { count: 1n, ...entry } : { ...entry, count: BigInt(n) + 1n };
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
