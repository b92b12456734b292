/**
 * A hand-driven AMQP 0-9-1 client over a plain TCP socket: it does the handshake itself and can send
 * any bytes at all (bad frames, split frames, coalesced frames, silence), then reads back exactly what
 * the broker answered. For what a well-behaved client does, tests use amqplib instead.
 */
import { connect, type Socket } from 'node:net';
import {
  Decoder, Encoder, FRAME_BODY, FRAME_HEADER, FRAME_HEARTBEAT, FRAME_METHOD, PROTOCOL_HEADER, bodyFrame, headerFrame, methodFrame,
  type BasicProperties, type TypedTable,
} from './raw-codec.js';

export interface Frame {
  type: number;
  channel: number;
  payload: Buffer;
}

export interface MethodFrame extends Frame {
  classId: number;
  methodId: number;
  /** Positioned just after the class and method ids. */
  args: Decoder;
}

export interface Content {
  header: Frame;
  /** The property flags and property fields exactly as the broker sent them. */
  properties: Buffer;
  body: Buffer;
  bodyFrames: Frame[];
}

export interface CloseReason {
  code: number;
  text: string;
  classId: number;
  methodId: number;
}

export interface HandshakeOptions {
  user?: string;
  pass?: string;
  vhost?: string;
  /** What we answer in tune-ok; 0 heartbeat means none. Defaults: the server's channel_max/frame_max, heartbeat 0. */
  heartbeat?: number;
  frameMax?: number;
  channelMax?: number;
  clientProperties?: TypedTable | Record<string, unknown>;
}

export interface HandshakeResult {
  serverProperties: Record<string, unknown>;
  mechanisms: string;
  tune: { channelMax: number; frameMax: number; heartbeat: number };
}

const DEFAULT_TIMEOUT_MS = 3000;

export class RawConnection {
  /** Every byte received, in order (the protocol-header test reads this directly). */
  received = Buffer.alloc(0);
  private cursor = 0;
  private waiters: Array<() => void> = [];
  private closedFlag = false;
  /** Resolves when the broker (or we) closed the socket. */
  readonly closed: Promise<void>;
  /** Last time any byte arrived, for heartbeat timing. */
  lastReceivedAt = Date.now();

  private constructor(readonly socket: Socket) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      this.lastReceivedAt = Date.now();
      this.received = Buffer.concat([this.received, chunk]);
      this.wake();
    });
    socket.on('error', () => {});
    this.closed = new Promise((resolve) =>
      socket.once('close', () => {
        this.closedFlag = true;
        this.wake();
        resolve();
      }),
    );
  }

  static open(host: string, port: number): Promise<RawConnection> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host, port });
      socket.once('connect', () => resolve(new RawConnection(socket)));
      socket.once('error', reject);
    });
  }

  /** Opens a socket and completes start/tune/open. */
  static async handshake(host: string, port: number, options: HandshakeOptions = {}): Promise<{ conn: RawConnection; result: HandshakeResult }> {
    const conn = await RawConnection.open(host, port);
    const result = await conn.handshake(options);
    return { conn, result };
  }

  get isClosed(): boolean {
    return this.closedFlag;
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  write(bytes: Buffer): void {
    if (!this.socket.destroyed) this.socket.write(bytes);
  }

  /** One byte per TCP write, with a pause between, so the broker sees a frame in many reads. */
  async writeByteByByte(bytes: Buffer): Promise<void> {
    for (let i = 0; i < bytes.length; i++) {
      this.write(bytes.subarray(i, i + 1));
      await new Promise((r) => setTimeout(r, 1));
    }
  }

  /** Waits until `n` unread bytes are available, or the socket closes, or the timeout passes. */
  private async waitFor(predicate: () => boolean, timeoutMs: number, what: string): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate()) {
      if (this.closedFlag) throw new Error(`socket closed while waiting for ${what}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** The next whole frame, including heartbeats. */
  async nextFrame(timeoutMs = DEFAULT_TIMEOUT_MS): Promise<Frame> {
    const available = () => this.received.length - this.cursor;
    await this.waitFor(() => available() >= 7 && available() >= 8 + this.received.readUInt32BE(this.cursor + 3), timeoutMs, 'a frame');
    const b = this.received;
    const type = b.readUInt8(this.cursor);
    const channel = b.readUInt16BE(this.cursor + 1);
    const size = b.readUInt32BE(this.cursor + 3);
    const payload = b.subarray(this.cursor + 7, this.cursor + 7 + size);
    const end = b.readUInt8(this.cursor + 7 + size);
    this.cursor += 8 + size;
    if (end !== 0xce) throw new Error(`broker sent a frame with end octet ${end}`);
    return { type, channel, payload };
  }

  /** The next method frame, skipping heartbeats (and content frames unless asked). */
  async nextMethod(timeoutMs = DEFAULT_TIMEOUT_MS): Promise<MethodFrame> {
    for (;;) {
      const f = await this.nextFrame(timeoutMs);
      if (f.type === FRAME_HEARTBEAT) continue;
      if (f.type !== FRAME_METHOD) throw new Error(`expected a method frame, got frame type ${f.type} on channel ${f.channel}`);
      const args = new Decoder(f.payload);
      const classId = args.u16();
      const methodId = args.u16();
      return { ...f, classId, methodId, args };
    }
  }

  async expectMethod(classId: number, methodId: number, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<MethodFrame> {
    const m = await this.nextMethod(timeoutMs);
    if (m.classId !== classId || m.methodId !== methodId) {
      const detail = m.classId === 10 && m.methodId === 50 || m.classId === 20 && m.methodId === 40 ? `: ${describeClose(readClose(m))}` : '';
      throw new Error(`expected method ${classId}.${methodId}, got ${m.classId}.${m.methodId} on channel ${m.channel}${detail}`);
    }
    return m;
  }

  /** Waits for connection.close from the broker, answers close-ok, and returns its reason. */
  async expectConnectionClose(timeoutMs = DEFAULT_TIMEOUT_MS): Promise<CloseReason> {
    for (;;) {
      const m = await this.nextMethod(timeoutMs);
      if (m.classId === 10 && m.methodId === 50) {
        const reason = readClose(m);
        this.write(methodFrame(0, 10, 51));
        return reason;
      }
    }
  }

  /** Waits for channel.close on `channel`, answers close-ok, and returns its reason. */
  async expectChannelClose(channel: number, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<CloseReason> {
    for (;;) {
      const m = await this.nextMethod(timeoutMs);
      if (m.classId === 10 && m.methodId === 50) throw new Error(`expected channel.close, got connection.close: ${describeClose(readClose(m))}`);
      if (m.channel === channel && m.classId === 20 && m.methodId === 40) {
        const reason = readClose(m);
        this.write(methodFrame(channel, 20, 41));
        return reason;
      }
    }
  }

  /** Resolves true when the socket closes within the timeout. */
  async closedWithin(timeoutMs: number): Promise<boolean> {
    let t: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((resolve) => (t = setTimeout(() => resolve(false), timeoutMs)));
    const result = await Promise.race([this.closed.then(() => true), timeout]);
    clearTimeout(t);
    return result;
  }

  async handshake(o: HandshakeOptions = {}): Promise<HandshakeResult> {
    this.write(PROTOCOL_HEADER);
    const start = await this.expectMethod(10, 10);
    start.args.u8();
    start.args.u8();
    const serverProperties = start.args.table();
    const mechanisms = start.args.longstr();
    this.write(methodFrame(0, 10, 11, startOkArgs(o.user ?? 'guest', o.pass ?? 'guest', o.clientProperties)));
    const tune = await this.expectMethod(10, 30);
    const t = { channelMax: tune.args.u16(), frameMax: tune.args.u32(), heartbeat: tune.args.u16() };
    this.write(methodFrame(0, 10, 31, new Encoder().u16(o.channelMax ?? t.channelMax).u32(o.frameMax ?? t.frameMax).u16(o.heartbeat ?? 0).done()));
    this.write(methodFrame(0, 10, 40, new Encoder().shortstr(o.vhost ?? '/').shortstr('').bit(false).done()));
    await this.expectMethod(10, 41);
    return { serverProperties, mechanisms, tune: t };
  }

  async openChannel(channel: number): Promise<void> {
    this.write(methodFrame(channel, 20, 10, new Encoder().shortstr('').done()));
    await this.expectMethod(20, 11);
  }

  /** queue.declare and wait for declare-ok; returns the queue name (server-named when `queue` is ''). */
  async declareQueue(channel: number, queue: string, flags: Parameters<typeof queueDeclareArgs>[1] = {}): Promise<string> {
    this.write(methodFrame(channel, 50, 10, queueDeclareArgs(queue, flags)));
    const ok = await this.expectMethod(50, 11);
    return ok.args.shortstr();
  }

  /** Reads a content header and its body frames (after a deliver/get-ok/return method). */
  async readContent(timeoutMs = DEFAULT_TIMEOUT_MS): Promise<Content> {
    let header: Frame;
    do header = await this.nextFrame(timeoutMs);
    while (header.type === FRAME_HEARTBEAT);
    if (header.type !== FRAME_HEADER) throw new Error(`expected a content header, got frame type ${header.type}`);
    const size = Number(header.payload.readBigUInt64BE(4));
    const bodyFrames: Frame[] = [];
    let got = 0;
    while (got < size) {
      const f = await this.nextFrame(timeoutMs);
      if (f.type === FRAME_HEARTBEAT) continue;
      if (f.type !== FRAME_BODY) throw new Error(`expected a body frame, got frame type ${f.type}`);
      bodyFrames.push(f);
      got += f.payload.length;
    }
    return {
      header,
      properties: header.payload.subarray(12),
      body: Buffer.concat(bodyFrames.map((f) => f.payload)),
      bodyFrames,
    };
  }

  /** basic.get; undefined for get-empty. */
  async get(channel: number, queue: string, noAck = true): Promise<(Content & { deliveryTag: bigint; redelivered: boolean; messageCount: number }) | undefined> {
    this.write(methodFrame(channel, 60, 70, basicGetArgs(queue, noAck)));
    const m = await this.nextMethod();
    if (m.classId === 60 && m.methodId === 72) return undefined;
    if (m.classId !== 60 || m.methodId !== 71) throw new Error(`expected basic.get-ok, got ${m.classId}.${m.methodId}`);
    const deliveryTag = m.args.u64();
    const redelivered = m.args.bit();
    m.args.shortstr();
    m.args.shortstr();
    const messageCount = m.args.u32();
    return { ...(await this.readContent()), deliveryTag, redelivered, messageCount };
  }

  /** basic.publish + content header + one body frame, written as a single TCP write. */
  publish(channel: number, exchange: string, routingKey: string, body: Buffer, props: BasicProperties | Buffer = {}, mandatory = false): void {
    this.write(Buffer.concat(publishFrames(channel, exchange, routingKey, body, props, mandatory)));
  }

  destroy(): void {
    this.socket.destroy();
  }
}

export function startOkArgs(user: string, pass: string, clientProperties?: TypedTable | Record<string, unknown>): Buffer {
  const props = clientProperties ?? {
    product: 'warren-raw-test',
    capabilities: { authentication_failure_close: true, consumer_cancel_notify: true, 'basic.nack': true, publisher_confirms: true },
  };
  return new Encoder().table(props).shortstr('PLAIN').longstr(Buffer.from(`\0${user}\0${pass}`)).shortstr('en_US').done();
}

export function publishFrames(channel: number, exchange: string, routingKey: string, body: Buffer, props: BasicProperties | Buffer = {}, mandatory = false): Buffer[] {
  return [
    methodFrame(channel, 60, 40, new Encoder().u16(0).shortstr(exchange).shortstr(routingKey).bit(mandatory).bit(false).done()),
    headerFrame(channel, body.length, props),
    ...(body.length > 0 ? [bodyFrame(channel, body)] : []),
  ];
}

export function queueDeclareArgs(queue: string, f: { passive?: boolean; durable?: boolean; exclusive?: boolean; autoDelete?: boolean; args?: Record<string, unknown> } = {}): Buffer {
  return new Encoder().u16(0).shortstr(queue).bit(!!f.passive).bit(!!f.durable).bit(!!f.exclusive).bit(!!f.autoDelete).bit(false).table(f.args ?? {}).done();
}

export function basicConsumeArgs(queue: string, tag = '', noAck = false, exclusive = false, noWait = false): Buffer {
  return new Encoder().u16(0).shortstr(queue).shortstr(tag).bit(false).bit(noAck).bit(exclusive).bit(noWait).table({}).done();
}

export function basicGetArgs(queue: string, noAck = false): Buffer {
  return new Encoder().u16(0).shortstr(queue).bit(noAck).done();
}

export function readClose(m: MethodFrame): CloseReason {
  const d = new Decoder(m.payload);
  d.u32();
  return { code: d.u16(), text: d.shortstr(), classId: d.u16(), methodId: d.u16() };
}

export function describeClose(r: CloseReason): string {
  return `${r.code} ${r.text} (${r.classId}.${r.methodId})`;
}
