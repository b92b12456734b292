/**
 * Server-to-client frames of the stream protocol. Each function returns a complete frame (size
 * prefix included). Deliver is built by the subscription itself, into the buffer the chunk is read
 * into (see subscription.ts), so a chunk is never copied.
 */
import { Code, Key, RESPONSE_FLAG } from './constants.js';
import { StreamWriter, frame } from './codec.js';

/** A response that carries only the correlation id and a code. */
export function simpleResponse(key: number, correlationId: number, code: number): Buffer {
  return frame(key | RESPONSE_FLAG, 1, 16).u32(correlationId).u16(code).finish();
}

export function peerPropertiesResponse(correlationId: number, props: Record<string, string>): Buffer {
  return frame(Key.PeerProperties | RESPONSE_FLAG).u32(correlationId).u16(Code.Ok).map(props).finish();
}

export function saslHandshakeResponse(correlationId: number, mechanisms: readonly string[]): Buffer {
  return frame(Key.SaslHandshake | RESPONSE_FLAG).u32(correlationId).u16(Code.Ok).strings(mechanisms).finish();
}

export function tune(frameMax: number, heartbeat: number): Buffer {
  return frame(Key.Tune).u32(frameMax).u32(heartbeat).finish();
}

export function openResponse(correlationId: number, code: number, props: Record<string, string>): Buffer {
  const w = frame(Key.Open | RESPONSE_FLAG).u32(correlationId).u16(code);
  if (code === Code.Ok) w.map(props);
  return w.finish();
}

export function closeRequest(correlationId: number, code: number, reason: string): Buffer {
  return frame(Key.Close).u32(correlationId).u16(code).string(reason).finish();
}

export function heartbeat(): Buffer {
  return frame(Key.Heartbeat, 1, 8).finish();
}

export function publishError(publisherId: number, errors: readonly { id: bigint; code: number }[]): Buffer {
  const w = new StreamWriter(13 + 10 * errors.length).u16(Key.PublishError).u16(1).u8(publisherId).i32(errors.length);
  for (const e of errors) w.u64(e.id).u16(e.code);
  return w.finish();
}

export function u64Response(key: number, correlationId: number, code: number, value: bigint): Buffer {
  return frame(key | RESPONSE_FLAG, 1, 24).u32(correlationId).u16(code).u64(value).finish();
}

export function creditResponse(code: number, subscriptionId: number): Buffer {
  return frame(Key.Credit | RESPONSE_FLAG, 1, 16).u16(code).u8(subscriptionId).finish();
}

/** Server-to-client consumer_update (3.11+): the subscription became active (or not) in its group. */
export function consumerUpdate(correlationId: number, subscriptionId: number, active: boolean): Buffer {
  return frame(Key.ConsumerUpdate, 1, 16).u32(correlationId).u8(subscriptionId).u8(active ? 1 : 0).finish();
}

export function metadataUpdate(code: number, stream: string): Buffer {
  return frame(Key.MetadataUpdate).u16(code).string(stream).finish();
}

export interface BrokerAddress {
  host: string;
  port: number;
}

export function metadataResponse(correlationId: number, broker: BrokerAddress, streams: readonly { name: string; code: number }[]): Buffer {
  const w = frame(Key.Metadata | RESPONSE_FLAG).u32(correlationId);
  w.i32(1).u16(0).string(broker.host).u32(broker.port);
  w.i32(streams.length);
  for (const s of streams) {
    w.string(s.name).u16(s.code);
    if (s.code === Code.Ok) w.u16(0).i32(0);
    else w.u16(0xffff).i32(0);
  }
  return w.finish();
}

export function streamsResponse(key: number, correlationId: number, code: number, streams: readonly string[]): Buffer {
  return frame(key | RESPONSE_FLAG).u32(correlationId).u16(code).strings(streams).finish();
}

export function commandVersionsResponse(correlationId: number, versions: readonly { key: number; min: number; max: number }[]): Buffer {
  const w = frame(Key.ExchangeCommandVersions | RESPONSE_FLAG).u32(correlationId).u16(Code.Ok).i32(versions.length);
  for (const v of versions) w.u16(v.key).u16(v.min).u16(v.max);
  return w.finish();
}

export function streamStatsResponse(correlationId: number, code: number, stats: Record<string, bigint>): Buffer {
  const w = frame(Key.StreamStats | RESPONSE_FLAG).u32(correlationId).u16(code);
  const keys = Object.keys(stats);
  w.i32(keys.length);
  for (const k of keys) w.string(k).i64(stats[k]!);
  return w.finish();
}

/** Size of a Deliver frame's header before the chunk: size, key, version, subscription id. */
export const DELIVER_PREFIX = 9;

/** Fills in the Deliver header in front of a chunk read with DELIVER_PREFIX bytes reserved. */
export function fillDeliverPrefix(buf: Buffer, subscriptionId: number): Buffer {
  writeDeliverPrefix(buf, 0, buf.length, subscriptionId);
  return buf;
}

/** The same for a frame at `buf[start, end)` (chunks read several at a time into one buffer). */
export function writeDeliverPrefix(buf: Buffer, start: number, end: number, subscriptionId: number): void {
  buf.writeUInt32BE(end - start - 4, start);
  buf.writeUInt16BE(Key.Deliver, start + 4);
  buf.writeUInt16BE(1, start + 6);
  buf[start + 8] = subscriptionId;
}
