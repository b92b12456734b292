// The AMQP 0-9-1 methods warren-perf sends, encoded by hand (class/method ids from the 0-9-1 spec).
import { FRAME_BODY, FRAME_HEADER, FRAME_METHOD, FrameWriter, method, type FieldValue } from './wire.js';

/** class id << 16 | method id, so a method can be recognised with one integer compare. */
export const id = (classId: number, methodId: number): number => classId * 65536 + methodId;

export const M = {
  connectionStart: id(10, 10),
  connectionStartOk: id(10, 11),
  connectionTune: id(10, 30),
  connectionTuneOk: id(10, 31),
  connectionOpen: id(10, 40),
  connectionOpenOk: id(10, 41),
  connectionClose: id(10, 50),
  connectionCloseOk: id(10, 51),
  connectionBlocked: id(10, 60),
  connectionUnblocked: id(10, 61),
  channelOpenOk: id(20, 11),
  channelFlow: id(20, 20),
  channelClose: id(20, 40),
  channelCloseOk: id(20, 41),
  exchangeDeclareOk: id(40, 11),
  exchangeDeleteOk: id(40, 21),
  queueDeclareOk: id(50, 11),
  queueBindOk: id(50, 21),
  queuePurgeOk: id(50, 31),
  queueDeleteOk: id(50, 41),
  basicQosOk: id(60, 11),
  basicConsumeOk: id(60, 21),
  basicCancel: id(60, 30),
  basicCancelOk: id(60, 31),
  basicReturn: id(60, 50),
  basicDeliver: id(60, 60),
  basicAck: id(60, 80),
  basicNack: id(60, 120),
  confirmSelectOk: id(85, 11),
} as const;

const NO_ARGS: { [key: string]: FieldValue } = {};

export function startOk(user: string, pass: string, connectionName: string): Buffer {
  const props: { [key: string]: FieldValue } = {
    product: 'warren-perf',
    platform: `Node.js ${process.version}`,
    connection_name: connectionName,
    capabilities: {
      publisher_confirms: true,
      'basic.nack': true,
      consumer_cancel_notify: true,
      'connection.blocked': true,
      authentication_failure_close: true,
    },
  };
  return method(10, 11)
    .table(props)
    .shortstr('PLAIN')
    .longstr(`\u0000${user}\u0000${pass}`)
    .shortstr('en_US')
    .frame(FRAME_METHOD, 0);
}

export function tuneOk(channelMax: number, frameMax: number, heartbeat: number): Buffer {
  return method(10, 31).short(channelMax).long(frameMax).short(heartbeat).frame(FRAME_METHOD, 0);
}

export function connectionOpen(vhost: string): Buffer {
  return method(10, 40).shortstr(vhost).shortstr('').octet(0).frame(FRAME_METHOD, 0);
}

export function connectionClose(code: number, text: string): Buffer {
  return method(10, 50).short(code).shortstr(text).short(0).short(0).frame(FRAME_METHOD, 0);
}

export function connectionCloseOk(): Buffer {
  return method(10, 51).frame(FRAME_METHOD, 0);
}

export function channelOpen(ch: number): Buffer {
  return method(20, 10).shortstr('').frame(FRAME_METHOD, ch);
}

export function channelClose(ch: number, code: number, text: string): Buffer {
  return method(20, 40).short(code).shortstr(text).short(0).short(0).frame(FRAME_METHOD, ch);
}

export function channelCloseOk(ch: number): Buffer {
  return method(20, 41).frame(FRAME_METHOD, ch);
}

export function exchangeDeclare(ch: number, name: string, type: string, durable: boolean, autoDelete = false): Buffer {
  return method(40, 10)
    .short(0)
    .shortstr(name)
    .shortstr(type)
    .bits(false, durable, autoDelete, false, false)
    .table(NO_ARGS)
    .frame(FRAME_METHOD, ch);
}

export function exchangeDelete(ch: number, name: string): Buffer {
  return method(40, 20).short(0).shortstr(name).bits(false, false).frame(FRAME_METHOD, ch);
}

export interface QueueFlags {
  passive?: boolean;
  durable?: boolean;
  exclusive?: boolean;
  autoDelete?: boolean;
}

export function queueDeclare(ch: number, name: string, f: QueueFlags = {}): Buffer {
  return method(50, 10)
    .short(0)
    .shortstr(name)
    .bits(!!f.passive, !!f.durable, !!f.exclusive, !!f.autoDelete, false)
    .table(NO_ARGS)
    .frame(FRAME_METHOD, ch);
}

export function queueBind(ch: number, queue: string, exchange: string, key: string): Buffer {
  return method(50, 20)
    .short(0)
    .shortstr(queue)
    .shortstr(exchange)
    .shortstr(key)
    .bits(false)
    .table(NO_ARGS)
    .frame(FRAME_METHOD, ch);
}

export function queuePurge(ch: number, queue: string): Buffer {
  return method(50, 30).short(0).shortstr(queue).bits(false).frame(FRAME_METHOD, ch);
}

export function queueDelete(ch: number, queue: string): Buffer {
  return method(50, 40).short(0).shortstr(queue).bits(false, false, false).frame(FRAME_METHOD, ch);
}

export function basicQos(ch: number, prefetch: number): Buffer {
  return method(60, 10).long(0).short(prefetch).bits(false).frame(FRAME_METHOD, ch);
}

export function basicConsume(ch: number, queue: string, tag: string, noAck: boolean): Buffer {
  return method(60, 20)
    .short(0)
    .shortstr(queue)
    .shortstr(tag)
    .bits(false, noAck, false, false)
    .table(NO_ARGS)
    .frame(FRAME_METHOD, ch);
}

export function basicCancel(ch: number, tag: string): Buffer {
  return method(60, 30).shortstr(tag).bits(false).frame(FRAME_METHOD, ch);
}

export function confirmSelect(ch: number): Buffer {
  return method(85, 10).bits(false).frame(FRAME_METHOD, ch);
}

/** One basic.ack frame: 21 bytes, written straight into a batch buffer by the consumer. */
export const ACK_FRAME_SIZE = 21;

export function writeAck(buf: Buffer, at: number, ch: number, tag: number, multiple: boolean): number {
  buf[at] = FRAME_METHOD;
  buf[at + 1] = ch >>> 8;
  buf[at + 2] = ch & 0xff;
  buf.writeUInt32BE(13, at + 3);
  buf.writeUInt32BE(0x003c0050, at + 7); // class 60, method 80
  buf.writeUInt32BE(Math.floor(tag / 0x100000000), at + 11);
  buf.writeUInt32BE(tag >>> 0, at + 15);
  buf[at + 19] = multiple ? 1 : 0;
  buf[at + 20] = 0xce;
  return at + ACK_FRAME_SIZE;
}

export interface PublishShape {
  channel: number;
  exchange: string;
  routingKey: string;
  bodySize: number;
  persistent: boolean;
  frameMax: number;
  /** extra basic properties the RPC mode needs */
  correlationId?: string;
  replyTo?: string;
}

/**
 * A complete publish (method + header + body frames) encoded once. The publisher copies it into its
 * batch buffer and then only patches the timestamp at `stampAt` (the first 8 body bytes).
 */
export interface PublishTemplate {
  bytes: Buffer;
  /** offset of the body's first byte inside `bytes`, or -1 when the body is too short to carry a stamp */
  stampAt: number;
}

export function publishTemplate(s: PublishShape): PublishTemplate {
  const parts: Buffer[] = [];
  parts.push(method(60, 40).short(0).shortstr(s.exchange).shortstr(s.routingKey).bits(false, false).frame(FRAME_METHOD, s.channel));
  // property flags: delivery-mode 0x1000, correlation-id 0x0400, reply-to 0x0200 (bit order per the spec)
  let flags = 0;
  if (s.persistent) flags |= 0x1000;
  if (s.correlationId !== undefined) flags |= 0x0400;
  if (s.replyTo !== undefined) flags |= 0x0200;
  const header = new FrameWriter().short(60).short(0).longlong(s.bodySize).short(flags);
  if (s.persistent) header.octet(2);
  if (s.correlationId !== undefined) header.shortstr(s.correlationId);
  if (s.replyTo !== undefined) header.shortstr(s.replyTo);
  parts.push(header.frame(FRAME_HEADER, s.channel));
  const prefix = parts[0]!.length + parts[1]!.length;
  const maxChunk = s.frameMax > 0 ? s.frameMax - 8 : s.bodySize;
  for (let off = 0; off < s.bodySize; off += maxChunk) {
    const n = Math.min(maxChunk, s.bodySize - off);
    parts.push(new FrameWriter().bytes(Buffer.alloc(n, 0x2e)).frame(FRAME_BODY, s.channel));
  }
  return { bytes: Buffer.concat(parts), stampAt: s.bodySize >= 8 && maxChunk >= 8 ? prefix + 7 : -1 };
}
