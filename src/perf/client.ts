// warren-perf's own AMQP 0-9-1 connection: node:net, frames parsed in place from one reused read
// buffer, setup methods as promises, and a `FrameSink` that gets the hot-path frames (deliveries,
// confirms) without any per-frame allocation.
import net from 'node:net';
import { FrameParser } from './frame-parser.js';
import * as m from './methods.js';
import { M } from './methods.js';
import type { AmqpUri } from './uri.js';
import { FRAME_HEARTBEAT, FRAME_METHOD, PROTOCOL_HEADER, PayloadReader } from './wire.js';

/** Receives frames that are not replies to a pending setup call. Must not keep `buf` after returning. */
export interface FrameSink {
  method(channel: number, methodId: number, buf: Buffer, start: number, end: number): void;
  header(channel: number, buf: Buffer, start: number, end: number): void;
  body(channel: number, buf: Buffer, start: number, end: number): void;
  /** called once after every socket read, when all its frames are handled: the place to batch writes */
  readDone(): void;
}

export interface ConnectOptions {
  name: string;
  /** frame-max to ask for (the server's lower value wins); default 131072 */
  frameMax?: number;
  /** heartbeat seconds to ask for; 0 disables */
  heartbeat?: number;
  /** bytes of the reused read buffer */
  readBuffer?: number;
  /** give up on the TCP connect + handshake after this long */
  timeoutMs?: number;
}

/** A channel or connection closed by the server, with its AMQP reply code. */
export class AmqpError extends Error {
  constructor(
    readonly code: number,
    text: string,
    readonly channel: number,
  ) {
    super(`${channel === 0 ? 'connection' : `channel ${channel}`} closed by server: ${code} ${text}`);
  }
}

interface PendingCall {
  expect: number;
  resolve: (r: PayloadReader) => void;
  reject: (e: Error) => void;
}

const NOOP_SINK: FrameSink = { method() {}, header() {}, body() {}, readDone() {} };

export class PerfConnection {
  frameMax = 131072;
  channelMax = 2047;
  heartbeat = 0;
  blocked = false;
  /** set once the connection is unusable; the reason */
  closed: Error | null = null;
  sink: FrameSink = NOOP_SINK;
  onClose: ((err: Error) => void) | null = null;
  onBlocked: ((blocked: boolean) => void) | null = null;
  /** server-initiated channel.close (already answered with close-ok) on a channel without a pending call */
  onChannelClose: ((err: AmqpError) => void) | null = null;

  private readonly pending = new Map<number, PendingCall>();
  private nextChannel = 1;
  private heartbeatTimer: NodeJS.Timeout | null = null;
  private readonly parser: FrameParser;

  private constructor(readonly socket: net.Socket) {
    this.parser = new FrameParser((type, ch, buf, s, e) => this.frame(type, ch, buf, s, e));
  }

  static open(uri: AmqpUri, opts: ConnectOptions): Promise<PerfConnection> {
    const readBuffer = Buffer.allocUnsafe(opts.readBuffer ?? 256 * 1024);
    let conn: PerfConnection | null = null;
    const socket = net.connect({
      host: uri.host,
      port: uri.port,
      noDelay: true,
      onread: {
        buffer: readBuffer,
        callback: (n: number, buf: Uint8Array): boolean => {
          conn!.onRead(buf as Buffer, n);
          return true;
        },
      },
    });
    conn = new PerfConnection(socket);
    return conn.handshake(uri, opts);
  }

  private onRead(buf: Buffer, n: number): void {
    try {
      this.parser.feed(buf, 0, n);
      this.sink.readDone();
    } catch (e) {
      this.fail(e instanceof Error ? e : new Error(String(e)));
    }
  }

  private handshake(uri: AmqpUri, opts: ConnectOptions): Promise<PerfConnection> {
    const timeoutMs = opts.timeoutMs ?? 30000;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => this.fail(new Error(`handshake timed out after ${timeoutMs} ms`)), timeoutMs);
      const failEarly = (err: Error): void => {
        clearTimeout(timer);
        reject(err);
      };
      this.onClose = failEarly;
      this.socket.on('error', (err) => this.fail(err));
      this.socket.on('close', () => this.fail(new Error('socket closed')));
      this.socket.once('connect', () => this.socket.write(PROTOCOL_HEADER));
      // connection.start and connection.tune arrive on channel 0 as "calls" we are waiting for
      this.expect(0, M.connectionStart)
        .then(() => {
          this.socket.write(m.startOk(uri.user, uri.pass, opts.name));
          return this.expect(0, M.connectionTune);
        })
        .then((tune) => {
          const chMax = tune.short();
          const fMax = tune.long();
          const hb = tune.short();
          this.channelMax = chMax === 0 ? 2047 : Math.min(chMax, 2047);
          const want = opts.frameMax ?? 131072;
          this.frameMax = fMax === 0 ? want : Math.min(fMax, want);
          const wantHb = opts.heartbeat ?? 0;
          this.heartbeat = wantHb === 0 || hb === 0 ? wantHb && hb : Math.min(hb, wantHb);
          this.socket.write(m.tuneOk(this.channelMax, this.frameMax, this.heartbeat));
          return this.call(0, m.connectionOpen(uri.vhost), M.connectionOpenOk);
        })
        .then(() => {
          clearTimeout(timer);
          this.onClose = null;
          if (this.heartbeat > 0) this.startHeartbeats();
          resolve(this);
        }, failEarly);
    });
  }

  private startHeartbeats(): void {
    const beat = Buffer.from([FRAME_HEARTBEAT, 0, 0, 0, 0, 0, 0, 0xce]);
    this.heartbeatTimer = setInterval(() => {
      if (!this.closed) this.socket.write(beat);
    }, (this.heartbeat * 1000) / 2);
    this.heartbeatTimer.unref();
  }

  private frame(type: number, ch: number, buf: Buffer, s: number, e: number): void {
    if (type === FRAME_METHOD) {
      const mid = buf.readUInt32BE(s);
      const call = this.pending.get(ch);
      if (call !== undefined && call.expect === mid) {
        this.pending.delete(ch);
        // copy: the read buffer is reused on the next read
        call.resolve(new PayloadReader(Buffer.from(buf.subarray(s, e)), 4));
        return;
      }
      if (mid === M.channelClose) return this.channelClosedByServer(ch, new PayloadReader(buf, s + 4));
      if (ch === 0) return this.connectionMethod(mid, new PayloadReader(buf, s + 4));
      this.sink.method(ch, mid, buf, s, e);
    } else if (type === 2) this.sink.header(ch, buf, s, e);
    else if (type === 3) this.sink.body(ch, buf, s, e);
    // heartbeats need no answer beyond our own timer
  }

  private connectionMethod(mid: number, r: PayloadReader): void {
    if (mid === M.connectionClose) {
      const code = r.short();
      const text = r.shortstr();
      this.socket.write(m.connectionCloseOk());
      this.fail(new AmqpError(code, text, 0));
      this.socket.end();
    } else if (mid === M.connectionBlocked || mid === M.connectionUnblocked) {
      this.blocked = mid === M.connectionBlocked;
      this.onBlocked?.(this.blocked);
    } else if (mid === M.connectionCloseOk) {
      this.socket.end();
    }
  }

  private channelClosedByServer(ch: number, r: PayloadReader): void {
    const err = new AmqpError(r.short(), r.shortstr(), ch);
    this.socket.write(m.channelCloseOk(ch));
    const call = this.pending.get(ch);
    if (call !== undefined) {
      this.pending.delete(ch);
      call.reject(err);
    } else this.onChannelClose?.(err);
  }

  private fail(err: Error): void {
    if (this.closed) return;
    this.closed = err;
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    for (const call of this.pending.values()) call.reject(err);
    this.pending.clear();
    this.socket.destroy();
    this.onClose?.(err);
  }

  private expect(ch: number, expect: number): Promise<PayloadReader> {
    if (this.closed) return Promise.reject(this.closed);
    if (this.pending.has(ch)) return Promise.reject(new Error(`channel ${ch} already has a call in flight`));
    return new Promise((resolve, reject) => this.pending.set(ch, { expect, resolve, reject }));
  }

  /** Sends a synchronous method and resolves with the reader positioned after the reply's method id. */
  call(ch: number, frame: Buffer, expect: number): Promise<PayloadReader> {
    const p = this.expect(ch, expect);
    if (!this.closed) this.socket.write(frame);
    return p;
  }

  write(buf: Buffer): boolean {
    return this.socket.write(buf);
  }

  async openChannel(): Promise<number> {
    const ch = this.nextChannel++;
    if (ch > this.channelMax) throw new Error(`channel-max ${this.channelMax} reached`);
    await this.call(ch, m.channelOpen(ch), M.channelOpenOk);
    return ch;
  }

  async closeChannel(ch: number): Promise<void> {
    await this.call(ch, m.channelClose(ch, 200, 'bye'), M.channelCloseOk);
  }

  /** Graceful connection.close; falls back to destroying the socket after `timeoutMs`. */
  async close(timeoutMs = 2000): Promise<void> {
    if (this.closed) return;
    const done = this.call(0, m.connectionClose(200, 'bye'), M.connectionCloseOk).then(
      () => undefined,
      () => undefined,
    );
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([done, new Promise<void>((r) => (timer = setTimeout(r, timeoutMs)))]);
    clearTimeout(timer);
    this.onClose = null;
    this.fail(new Error('closed by client'));
  }

  // --- setup helpers -------------------------------------------------------------------------

  async declareQueue(ch: number, name: string, flags: m.QueueFlags = {}): Promise<{ queue: string; messages: number; consumers: number }> {
    const r = await this.call(ch, m.queueDeclare(ch, name, flags), M.queueDeclareOk);
    return { queue: r.shortstr(), messages: r.long(), consumers: r.long() };
  }

  async deleteQueue(ch: number, name: string): Promise<number> {
    return (await this.call(ch, m.queueDelete(ch, name), M.queueDeleteOk)).long();
  }

  async purgeQueue(ch: number, name: string): Promise<number> {
    return (await this.call(ch, m.queuePurge(ch, name), M.queuePurgeOk)).long();
  }

  async declareExchange(ch: number, name: string, type: string, durable: boolean): Promise<void> {
    await this.call(ch, m.exchangeDeclare(ch, name, type, durable), M.exchangeDeclareOk);
  }

  async deleteExchange(ch: number, name: string): Promise<void> {
    await this.call(ch, m.exchangeDelete(ch, name), M.exchangeDeleteOk);
  }

  async bindQueue(ch: number, queue: string, exchange: string, key: string): Promise<void> {
    await this.call(ch, m.queueBind(ch, queue, exchange, key), M.queueBindOk);
  }

  async qos(ch: number, prefetch: number): Promise<void> {
    await this.call(ch, m.basicQos(ch, prefetch), M.basicQosOk);
  }

  async consume(ch: number, queue: string, tag: string, noAck: boolean): Promise<string> {
    return (await this.call(ch, m.basicConsume(ch, queue, tag, noAck), M.basicConsumeOk)).shortstr();
  }

  async confirmSelect(ch: number): Promise<void> {
    await this.call(ch, m.confirmSelect(ch), M.confirmSelectOk);
  }
}
