/**
 * Client-to-server commands of the stream protocol: a typed shape per command, one decoder (the
 * server's side) and one encoder (used by the bench client and the codec's round-trip fuzz test), so
 * both directions of a layout live next to each other.
 */
import { Key, OffsetType } from './constants.js';
import { StreamDecodeError, StreamReader, StreamWriter, frame } from './codec.js';
import { PublishCursor } from './publish-frame.js';

export type OffsetSpec =
  | { type: typeof OffsetType.First | typeof OffsetType.Last | typeof OffsetType.Next }
  | { type: typeof OffsetType.Offset; offset: bigint }
  | { type: typeof OffsetType.Timestamp; timestamp: bigint };

export interface PublishedMessage {
  publishingId: bigint;
  /**
   * View into the frame, valid only while the frame is being handled: the message, or for a
   * sub-entry batch the whole entry (header and compressed messages).
   */
  body: Buffer;
  /** Set for a sub-entry batch: how many records it holds. */
  subBatchRecords?: number;
}

export type Request =
  | { key: typeof Key.PeerProperties; correlationId: number; properties: Record<string, string> }
  | { key: typeof Key.SaslHandshake; correlationId: number }
  | { key: typeof Key.SaslAuthenticate; correlationId: number; mechanism: string; response: Buffer }
  | { key: typeof Key.Tune; frameMax: number; heartbeat: number }
  | { key: typeof Key.Open; correlationId: number; vhost: string }
  | { key: typeof Key.Close; correlationId: number; code: number; reason: string }
  | { key: typeof Key.Heartbeat }
  | { key: typeof Key.DeclarePublisher; correlationId: number; publisherId: number; reference: string; stream: string }
  | { key: typeof Key.Publish; publisherId: number; messages: PublishedMessage[] }
  | { key: typeof Key.QueryPublisherSequence; correlationId: number; reference: string; stream: string }
  | { key: typeof Key.DeletePublisher; correlationId: number; publisherId: number }
  | { key: typeof Key.Subscribe; correlationId: number; subscriptionId: number; stream: string; offset: OffsetSpec; credit: number; properties: Record<string, string> }
  | { key: typeof Key.Credit; subscriptionId: number; credit: number }
  | { key: typeof Key.StoreOffset; reference: string; stream: string; offset: bigint }
  | { key: typeof Key.QueryOffset; correlationId: number; reference: string; stream: string }
  | { key: typeof Key.Unsubscribe; correlationId: number; subscriptionId: number }
  | { key: typeof Key.Create; correlationId: number; stream: string; arguments: Record<string, string> }
  | { key: typeof Key.Delete; correlationId: number; stream: string }
  | { key: typeof Key.Metadata; correlationId: number; streams: string[] }
  | { key: typeof Key.Route; correlationId: number; routingKey: string; superStream: string }
  | { key: typeof Key.Partitions; correlationId: number; superStream: string }
  | { key: typeof Key.ExchangeCommandVersions; correlationId: number; versions: { key: number; min: number; max: number }[] }
  | { key: typeof Key.StreamStats; correlationId: number; stream: string }
  /** The client's answer to the server's consumer_update: where the now active consumer starts. */
  | { key: typeof Key.ConsumerUpdate; correlationId: number; code: number; offset: OffsetSpec };

/** A command this codec does not know: the server answers it with UnknownFrame. */
export class UnknownCommandError extends StreamDecodeError {
  constructor(readonly key: number, readonly version: number) {
    super(`unknown command key ${key} version ${version}`);
  }
}

function offsetSpec(r: StreamReader): OffsetSpec {
  const type = r.u16();
  switch (type) {
    case OffsetType.First:
    case OffsetType.Last:
    case OffsetType.Next:
      return { type };
    case OffsetType.Offset:
      return { type, offset: r.u64() };
    case OffsetType.Timestamp:
      return { type, timestamp: r.i64() };
    default:
      throw new StreamDecodeError(`unknown offset type ${type}`);
  }
}

/** Decodes one frame's body (after the size prefix). Throws StreamDecodeError on malformed input. */
export function decodeRequest(r: StreamReader): Request {
  const key = r.u16();
  const version = r.u16();
  switch (key) {
    case Key.PeerProperties: return { key, correlationId: r.u32(), properties: r.map() };
    case Key.SaslHandshake: return { key, correlationId: r.u32() };
    case Key.SaslAuthenticate: return { key, correlationId: r.u32(), mechanism: r.string(), response: r.bytes() };
    case Key.Tune | 0x8000:
    case Key.Tune: return { key: Key.Tune, frameMax: r.u32(), heartbeat: r.u32() };
    case Key.Open: return { key, correlationId: r.u32(), vhost: r.string() };
    case Key.Close: return { key, correlationId: r.u32(), code: r.u16(), reason: r.string() };
    case Key.Heartbeat: return { key };
    case Key.DeclarePublisher:
      return { key, correlationId: r.u32(), publisherId: r.u8(), reference: r.string(), stream: r.string() };
    case Key.Publish: {
      if (version !== 1 && version !== 2) throw new UnknownCommandError(key, version);
      // The server walks publish frames with PublishCursor directly; this object form is for tests.
      const c = new PublishCursor(r.buf, r.pos, r.end, version);
      const messages: PublishedMessage[] = [];
      while (c.next()) {
        messages.push(c.subBatch
          ? { publishingId: c.publishingId(), body: r.buf.subarray(c.entryPos, c.entryPos + c.entryLength), subBatchRecords: c.records }
          : { publishingId: c.publishingId(), body: r.buf.subarray(c.entryPos + 4, c.entryPos + c.entryLength) });
      }
      if (messages.length !== c.count) throw new StreamDecodeError('publish frame too short');
      r.pos = r.end;
      return { key, publisherId: c.publisherId, messages };
    }
    case Key.QueryPublisherSequence: return { key, correlationId: r.u32(), reference: r.string(), stream: r.string() };
    case Key.DeletePublisher: return { key, correlationId: r.u32(), publisherId: r.u8() };
    case Key.Subscribe: {
      const correlationId = r.u32();
      const subscriptionId = r.u8();
      const stream = r.string();
      const offset = offsetSpec(r);
      const credit = r.u16();
      const properties = r.remaining > 0 ? r.map() : {};
      return { key, correlationId, subscriptionId, stream, offset, credit, properties };
    }
    case Key.Credit: return { key, subscriptionId: r.u8(), credit: r.u16() };
    case Key.StoreOffset: return { key, reference: r.string(), stream: r.string(), offset: r.u64() };
    case Key.QueryOffset: return { key, correlationId: r.u32(), reference: r.string(), stream: r.string() };
    case Key.Unsubscribe: return { key, correlationId: r.u32(), subscriptionId: r.u8() };
    case Key.Create: return { key, correlationId: r.u32(), stream: r.string(), arguments: r.map() };
    case Key.Delete: return { key, correlationId: r.u32(), stream: r.string() };
    case Key.Metadata: return { key, correlationId: r.u32(), streams: r.strings() };
    case Key.Route: return { key, correlationId: r.u32(), routingKey: r.string(), superStream: r.string() };
    case Key.Partitions: return { key, correlationId: r.u32(), superStream: r.string() };
    case Key.ExchangeCommandVersions: {
      const correlationId = r.u32();
      const n = r.count(6);
      const versions = [];
      for (let i = 0; i < n; i++) versions.push({ key: r.u16(), min: r.u16(), max: r.u16() });
      return { key, correlationId, versions };
    }
    case Key.StreamStats: return { key, correlationId: r.u32(), stream: r.string() };
    case Key.ConsumerUpdate | 0x8000: return { key: Key.ConsumerUpdate, correlationId: r.u32(), code: r.u16(), offset: offsetSpec(r) };
    default:
      throw new UnknownCommandError(key, version);
  }
}

function writeOffsetSpec(w: StreamWriter, o: OffsetSpec): void {
  w.u16(o.type);
  if (o.type === OffsetType.Offset) w.u64(o.offset);
  else if (o.type === OffsetType.Timestamp) w.i64(o.timestamp);
}

/** Encodes a request as a complete frame (size prefix included). */
export function encodeRequest(q: Request): Buffer {
  switch (q.key) {
    case Key.PeerProperties: return frame(q.key).u32(q.correlationId).map(q.properties).finish();
    case Key.SaslHandshake: return frame(q.key).u32(q.correlationId).finish();
    case Key.SaslAuthenticate: return frame(q.key).u32(q.correlationId).string(q.mechanism).bytes(q.response).finish();
    case Key.Tune: return frame(q.key | 0x8000).u32(q.frameMax).u32(q.heartbeat).finish();
    case Key.Open: return frame(q.key).u32(q.correlationId).string(q.vhost).finish();
    case Key.Close: return frame(q.key).u32(q.correlationId).u16(q.code).string(q.reason).finish();
    case Key.Heartbeat: return frame(q.key).finish();
    case Key.DeclarePublisher:
      return frame(q.key).u32(q.correlationId).u8(q.publisherId).string(q.reference).string(q.stream).finish();
    case Key.Publish: {
      let size = 16;
      for (const m of q.messages) size += 12 + m.body.length;
      const w = frame(q.key, 1, size).u8(q.publisherId).i32(q.messages.length);
      for (const m of q.messages) {
        w.u64(m.publishingId);
        if (m.subBatchRecords === undefined) w.bytes(m.body);
        else w.raw(m.body);
      }
      return w.finish();
    }
    case Key.QueryPublisherSequence: return frame(q.key).u32(q.correlationId).string(q.reference).string(q.stream).finish();
    case Key.DeletePublisher: return frame(q.key).u32(q.correlationId).u8(q.publisherId).finish();
    case Key.Subscribe: {
      const w = frame(q.key).u32(q.correlationId).u8(q.subscriptionId).string(q.stream);
      writeOffsetSpec(w, q.offset);
      return w.u16(q.credit).map(q.properties).finish();
    }
    case Key.Credit: return frame(q.key).u8(q.subscriptionId).u16(q.credit).finish();
    case Key.StoreOffset: return frame(q.key).string(q.reference).string(q.stream).u64(q.offset).finish();
    case Key.QueryOffset: return frame(q.key).u32(q.correlationId).string(q.reference).string(q.stream).finish();
    case Key.Unsubscribe: return frame(q.key).u32(q.correlationId).u8(q.subscriptionId).finish();
    case Key.Create: return frame(q.key).u32(q.correlationId).string(q.stream).map(q.arguments).finish();
    case Key.Delete: return frame(q.key).u32(q.correlationId).string(q.stream).finish();
    case Key.Metadata: return frame(q.key).u32(q.correlationId).strings(q.streams).finish();
    case Key.Route: return frame(q.key).u32(q.correlationId).string(q.routingKey).string(q.superStream).finish();
    case Key.Partitions: return frame(q.key).u32(q.correlationId).string(q.superStream).finish();
    case Key.ExchangeCommandVersions: {
      const w = frame(q.key).u32(q.correlationId).i32(q.versions.length);
      for (const v of q.versions) w.u16(v.key).u16(v.min).u16(v.max);
      return w.finish();
    }
    case Key.StreamStats: return frame(q.key).u32(q.correlationId).string(q.stream).finish();
    case Key.ConsumerUpdate: {
      const w = frame(q.key | 0x8000).u32(q.correlationId).u16(q.code);
      writeOffsetSpec(w, q.offset);
      return w.finish();
    }
  }
}
