/**
 * Messages as the management API shows and takes them: AMQP basic properties under RabbitMQ's
 * snake_case names, payloads as a UTF-8 string or base64.
 */
import { fieldTableFromJson, fieldTableToJson } from '../protocol/field-table.js';
import type { BasicProperties } from '../protocol/properties.js';
import { badRequest } from './http.js';
import { isStrictBase64 } from './validate.js';

const STRING_PROPERTIES: [keyof BasicProperties, string][] = [
  ['contentType', 'content_type'],
  ['contentEncoding', 'content_encoding'],
  ['correlationId', 'correlation_id'],
  ['replyTo', 'reply_to'],
  ['expiration', 'expiration'],
  ['messageId', 'message_id'],
  ['type', 'type'],
  ['userId', 'user_id'],
  ['appId', 'app_id'],
  ['clusterId', 'cluster_id'],
];

/**
 * Properties as JSON. RabbitMQ (Erlang) renders an empty property list as `[]`, not `{}`; kept so
 * that clients comparing answers with RabbitMQ's see the same thing.
 */
export function propertiesToJson(p: BasicProperties): Record<string, unknown> | [] {
  const out: Record<string, unknown> = {};
  if (p.deliveryMode !== undefined) out['delivery_mode'] = p.deliveryMode;
  if (p.priority !== undefined) out['priority'] = p.priority;
  if (p.timestamp !== undefined) out['timestamp'] = Number(p.timestamp);
  if (p.headers !== undefined) out['headers'] = fieldTableToJson(p.headers);
  for (const [key, json] of STRING_PROPERTIES) {
    const v = p[key];
    if (v !== undefined) out[json] = v;
  }
  return Object.keys(out).length === 0 ? [] : out;
}

export function propertiesFromJson(v: unknown): BasicProperties {
  if (v === undefined || v === null || (Array.isArray(v) && v.length === 0)) return {};
  if (typeof v !== 'object' || Array.isArray(v)) throw badRequest('properties must be an object');
  const o = v as Record<string, unknown>;
  const p: BasicProperties = {};
  const octet = (key: string): number | undefined => {
    const n = o[key];
    if (n === undefined || n === null) return undefined;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > 255) throw badRequest(`property ${key} must be an integer 0-255`);
    return n;
  };
  const deliveryMode = octet('delivery_mode');
  if (deliveryMode !== undefined) p.deliveryMode = deliveryMode;
  const priority = octet('priority');
  if (priority !== undefined) p.priority = priority;
  if (o['timestamp'] !== undefined && o['timestamp'] !== null) {
    const t = o['timestamp'];
    if (typeof t !== 'number' || !Number.isInteger(t) || t < 0) throw badRequest('property timestamp must be a non-negative integer');
    p.timestamp = t;
  }
  if (o['headers'] !== undefined && o['headers'] !== null) {
    const h = o['headers'];
    if (typeof h !== 'object' || Array.isArray(h)) throw badRequest('property headers must be an object');
    p.headers = fieldTableFromJson(h);
  }
  for (const [key, json] of STRING_PROPERTIES) {
    const s = o[json];
    if (s === undefined || s === null) continue;
    if (typeof s !== 'string' || Buffer.byteLength(s) > 255) throw badRequest(`property ${json} must be a string of at most 255 bytes`);
    (p as Record<string, unknown>)[key] = s;
  }
  return p;
}

export function payloadFromJson(payload: unknown, encoding: unknown): Buffer {
  if (typeof payload !== 'string') throw badRequest('payload must be a string');
  if (encoding === 'string') return Buffer.from(payload, 'utf8');
  if (encoding === 'base64') {
    const packed = payload.replace(/\s+/g, '');
    if (!isStrictBase64(packed)) throw badRequest(['not_base64', payload]);
    return Buffer.from(packed, 'base64');
  }
  throw badRequest(`payload_encoding must be 'string' or 'base64'`);
}

/** `auto` gives a string when the bytes are valid UTF-8, base64 otherwise (as RabbitMQ). */
export function payloadToJson(body: Buffer, encoding: 'auto' | 'base64', truncate: number | undefined): { payload: string; payload_encoding: string } {
  const bytes = truncate !== undefined && body.length > truncate ? body.subarray(0, truncate) : body;
  if (encoding === 'auto') {
    const text = bytes.toString('utf8');
    if (Buffer.from(text, 'utf8').equals(bytes)) return { payload: text, payload_encoding: 'string' };
  }
  return { payload: bytes.toString('base64'), payload_encoding: 'base64' };
}
