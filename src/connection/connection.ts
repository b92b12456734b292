/**
 * One client connection: protocol header, handshake (start/tune/open), heartbeats, the channel
 * table, and the socket. Frames come in through the FrameParser; everything sent in one event-loop
 * turn leaves in one write. AmqpErrors from anywhere below end here: soft ones close the channel,
 * hard ones the connection.
 */
import type { Socket } from 'node:net';
import type { User } from '../auth/users.js';
import type { VirtualHost } from '../broker/vhost.js';
import {
  AmqpError, cannotDecode, channelError, commandInvalid, describeFrame, internalError, loginRefused, notAllowed, unexpectedFrame,
  unknownFrame, userChannelLimitReached, userConnectionLimitReached, vhostConnectionLimitReached,
} from '../protocol/errors.js';
import { limitOf } from '../broker/limits.js';
import type { FieldTable } from '../protocol/field-table.js';
import { FrameParser, type FrameSink } from '../protocol/frame-parser.js';
import { FrameReader } from '../protocol/frame-reader.js';
import { decodeMethodArguments } from '../protocol/method-arguments.js';
import { FrameWriter } from '../protocol/frame-writer.js';
import {
  FRAME_HEARTBEAT, FRAME_METHOD, FRAME_MIN_SIZE, METHODS, Method, ReplyCode,
  type ConnectionOpen, type ConnectionStartOk, type ConnectionTuneOk, type DecodedMethod, type MethodArgs, type MethodId,
} from '../protocol/generated.js';
import type { BrokerContext } from './broker-context.js';
import { Channel, type ChannelHost } from './channel.js';

const PROTOCOL_HEADER = Buffer.from('AMQP\x00\x00\x09\x01', 'latin1');
const CLOSE_OK_TIMEOUT_MS = 3000;
/** RabbitMQ 3.10 waits this long before closing the socket after a failed handshake (slows down brute force). */
const SILENT_CLOSE_DELAY_MS = 3000;
/** Longest wait for the client to close its socket after our connection.close-ok (RabbitMQ's closing timeout). */
const CLIENT_CLOSE_LINGER_MAX_S = 30;
/** Outgoing bytes buffered beyond which consumers on this connection are paused. */
const WRITE_HIGH_WATER = 1 << 20;

type State = 'header' | 'start-ok' | 'tune-ok' | 'open' | 'opened' | 'closing' | 'closed';

let nextConnectionId = 1;

/**
 * Connections with frames waiting, written by one setImmediate for all of them, right after the
 * event loop's I/O phase: every socket read, fs completion and timer of the turn is in by then, so a
 * connection gets one write per turn however many other connections' reads fed it. A microtask ran
 * after each read's callback instead, and with 100 publishers feeding 10 consumer connections that
 * meant a write per publisher read per consumer connection (0.5-0.9 socket writes per message, the
 * broker's largest cost). One shared callback also avoids queueMicrotask's AsyncResource and bound
 * function per connection per read. A connection's own read still flushes at its end (onData):
 * deferring that too held up confirms behind a disk alarm (test/ci/disk-full.test.ts hung).
 */
const pendingFlush: Connection[] = [];
let flushQueued = false;
function flushPending(): void {
  flushQueued = false;
  // pop() rather than a final `length = 0`, which would drop the array's backing store.
  for (let c = pendingFlush.pop(); c !== undefined; c = pendingFlush.pop()) c.flush();
}

/** Where open connections are kept (a Set will do): the assembly lists and closes them, limits count them. */
export interface ConnectionRegistry extends Iterable<Connection> {
  add(connection: Connection): void;
  delete(connection: Connection): void;
}

export class Connection implements FrameSink, ChannelHost {
  readonly id = nextConnectionId++;
  readonly name: string;
  readonly connectedAt = Date.now();
  private state: State = 'header';
  private readonly parser: FrameParser;
  private readonly reader = Object.assign(new FrameReader(Buffer.alloc(0)), { typedDoubles: true });
  readonly writer = new FrameWriter();
  private flushScheduled = false;
  readonly channels = new Map<number, Channel>();
  /** Channels we sent channel.close on and await close-ok for: other frames on them are dropped. */
  private readonly closingChannels = new Set<number>();
  user: User | undefined;
  vhost: VirtualHost | undefined;
  clientProperties: FieldTable = {};
  /** SASL mechanism the client logged in with (PLAIN or AMQPLAIN). */
  authMechanism = '';
  capabilities: FieldTable = {};
  channelMax = 0;
  frameMax = 0;
  heartbeat = 0;
  private lastReceived = Date.now();
  private lastSent = Date.now();
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private headerBuffer: Buffer | undefined;
  /** Paused for backpressure (slow reader) or a resource alarm. */
  private writeBlocked = false;
  /** Wrote WRITE_HIGH_WATER of deliveries this turn: more after the event loop's next I/O (yieldDeliveries). */
  private deliveriesYielded = false;
  private alarmBlocked = false;
  /** Has published at least once: only publishers are blocked by resource alarms (as RabbitMQ). */
  isPublisher = false;
  /** Consumers waiting for the socket to drain, by channel. */
  readonly stats = { recvOct: 0, sendOct: 0, recvCnt: 0, sendCnt: 0 };

  constructor(
    readonly socket: Socket,
    readonly broker: BrokerContext,
    private readonly registry: ConnectionRegistry,
  ) {
    this.name = `${socket.remoteAddress}:${socket.remotePort} -> ${socket.localAddress}:${socket.localPort}`;
    this.parser = new FrameParser(this, broker.config.frameMax);
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('drain', () => this.onDrain());
    socket.on('error', () => {});
    socket.on('close', () => this.onSocketClosed());
    // A client that connects and says nothing is dropped like RabbitMQ's handshake timeout.
    this.heartbeatTimer = setTimeout(() => {
      if (this.state === 'header' || this.state === 'start-ok' || this.state === 'tune-ok' || this.state === 'open') {
        this.broker.log('warn', 'handshake timeout', { peer: this.peer });
        this.socket.destroy();
      }
    }, broker.config.handshakeTimeoutMs);
  }

  get peer(): string {
    return `${this.socket.remoteAddress}:${this.socket.remotePort}`;
  }
  get isOpen(): boolean {
    return this.state === 'opened';
  }
  get username(): string {
    return this.user?.name ?? '';
  }
  /**
   * Deliveries go out only while the socket keeps up and the connection is not closing. Frames wait
   * in the writer until the turn's flush, and a queue's dispatch loop can hand a no-ack consumer its
   * whole backlog within one turn: past the high-water mark they go to the socket now, so a socket
   * that cannot take them stops the loop (writeBlocked) instead of the backlog piling up in memory.
   * A method, not a getter: past the high-water mark it flushes and schedules the next turn's resume.
   */
  flushIfFullAndMayDeliver(): boolean {
    if (this.writer.pendingBytes > WRITE_HIGH_WATER && !this.writeBlocked) this.yieldDeliveries();
    return !this.writeBlocked && !this.deliveriesYielded && this.state === 'opened';
  }

  /**
   * A megabyte of deliveries per connection per turn, then the rest waits for the next turn. A
   * paged backlog is read back synchronously, so a client that reads as fast as the loop writes
   * never filled the socket: one dispatch loop handed it the whole backlog (1 M messages, 20 s)
   * without the event loop reading a single ack, timer or other connection meanwhile, and every
   * message stayed unacked in memory until the loop ended (1.4-1.6 GiB for consumers without a
   * prefetch limit). Yielding lets the sockets' acks in between, so unacked deliveries stay near
   * what one turn writes.
   */
  private yieldDeliveries(): void {
    this.flush();
    if (this.deliveriesYielded) return;
    this.deliveriesYielded = true;
    setImmediate(() => {
      this.deliveriesYielded = false;
      if (!this.writeBlocked && this.state === 'opened') for (const ch of this.channels.values()) ch.resumeDeliveries();
    });
  }

  private onData(chunk: Buffer): void {
    this.lastReceived = Date.now();
    this.stats.recvOct += chunk.length;
    try {
      if (this.state === 'header') {
        chunk = this.readProtocolHeader(chunk);
        if (chunk.length === 0) return;
      }
      if (this.state === 'closed') return;
      this.parser.push(chunk);
    } catch (e) {
      this.handleError(e, 0);
    }
    // This connection's own replies go out now (one read per turn is the rule for a connection);
    // what the read caused on other connections (deliveries) waits for flushPending.
    this.flush();
  }

  private readProtocolHeader(chunk: Buffer): Buffer {
    const data = this.headerBuffer ? Buffer.concat([this.headerBuffer, chunk]) : chunk;
    if (data.length < 8) {
      this.headerBuffer = data;
      return Buffer.alloc(0);
    }
    this.headerBuffer = undefined;
    if (!data.subarray(0, 8).equals(PROTOCOL_HEADER)) {
      // Spec: answer with the header we do speak, then close.
      this.state = 'closed';
      this.socket.end(PROTOCOL_HEADER);
      return Buffer.alloc(0);
    }
    this.state = 'start-ok';
    this.sendMethod(0, Method.connectionStart, {
      versionMajor: 0,
      versionMinor: 9,
      serverProperties: this.broker.serverProperties(),
      mechanisms: Buffer.from(this.broker.saslMechanisms(this.socket).join(' ')),
      locales: Buffer.from('en_US'),
    });
    return data.subarray(8);
  }

  onFrame(type: number, channelId: number, payload: Buffer): void {
    this.stats.recvCnt++;
    if (type === FRAME_HEARTBEAT) {
      // RabbitMQ's texts: a heartbeat with a payload is no frame at all, an empty one is out of place on a channel.
      if (payload.length > 0) throw unknownFrame(type, payload);
      if (channelId !== 0) throw unexpectedFrame(describeFrame(type, payload));
      return;
    }
    if (channelId === 0) {
      if (type !== FRAME_METHOD) throw unexpectedFrame(describeFrame(type, payload));
      return this.onConnectionMethod(payload);
    }
    if (this.state !== 'opened') {
      if (this.state === 'closing') return;
      throw unexpectedFrame(`frame on channel ${channelId} before connection.open`);
    }
    if (this.closingChannels.has(channelId)) {
      // We sent channel.close: until the client's close-ok, everything else on the channel is dropped.
      // A channel.close from the client crossed ours: it gets its close-ok, and the channel stays
      // closing until our close is confirmed too (as RabbitMQ), so that confirmation is not taken
      // for a frame on an unknown channel.
      if (type === FRAME_METHOD && payload.length >= 4) {
        const id = payload.readUInt32BE(0);
        if (id === Method.channelCloseOk) this.closingChannels.delete(channelId);
        else if (id === Method.channelClose) this.sendMethod(channelId, Method.channelCloseOk, {});
        else if (id === Method.channelOpen) throw channelError("second 'channel.open' seen", id);
      }
      return;
    }
    const channel = this.channels.get(channelId);
    if (!channel) {
      if (type !== FRAME_METHOD) throw channelError(`expected 'channel.open'`);
      const r = this.reader.reset(payload, 0, payload.length);
      const id = r.u32();
      if (id !== Method.channelOpen) throw channelError(`expected 'channel.open'`, id);
      // Its one argument (a reserved short string) and nothing more, or RabbitMQ cannot decode it.
      if (r.remaining < 1 || r.remaining !== 1 + payload[4]!) throw cannotDecode(payload.subarray(4)).inMethod(id);
      // RabbitMQ limits how many channels are open at once, not the ids they use.
      if (this.channels.size >= this.channelMax) {
        throw notAllowed(`number of channels opened (${this.channels.size}) has reached the negotiated channel_max (${this.channelMax})`);
      }
      this.checkChannelLimit();
      const ch = new Channel(this, channelId);
      this.channels.set(channelId, ch);
      this.sendMethod(channelId, Method.channelOpenOk, { channelId: Buffer.alloc(0) });
      return;
    }
    try {
      channel.onFrame(type, payload, this.reader);
    } catch (e) {
      this.handleError(e, channelId);
    }
  }

  private onConnectionMethod(payload: Buffer): void {
    const r = this.reader.reset(payload, 0, payload.length);
    const id = r.u32();
    const m = decodeMethodArguments(id, r);
    try {
      this.dispatchConnectionMethod(m);
    } catch (e) {
      throw e instanceof AmqpError ? e.inMethod(id) : e;
    }
  }

  private dispatchConnectionMethod(m: DecodedMethod): void {
    switch (m.id) {
      case Method.connectionStartOk:
        if (this.state !== 'start-ok') break;
        return this.onStartOk(m.args);
      case Method.connectionTuneOk:
        if (this.state !== 'tune-ok') break;
        return this.onTuneOk(m.args);
      case Method.connectionOpen:
        if (this.state !== 'open') break;
        return this.onOpen(m.args);
      case Method.connectionClose: {
        const a = m.args;
        this.sendMethod(0, Method.connectionCloseOk, {});
        this.flush();
        this.teardown(`client closed: ${a.replyCode} ${a.replyText}`);
        this.lingerForClientClose();
        return;
      }
      case Method.connectionCloseOk:
        if (this.state !== 'closing') break; // unsolicited: RabbitMQ's 504 below
        this.teardown(this.closeReason ?? 'closed by broker');
        this.socket.end();
        return;
      case Method.connectionUpdateSecret:
        return this.sendMethod(0, Method.connectionUpdateSecretOk, {});
    }
    // Anything else, connection.blocked/unblocked from a client included, is out of place.
    if (this.state === 'closing') return;
    if (this.state === 'opened') throw channelError('unexpected method in connection state running');
    throw commandInvalid(`unexpected method ${METHODS.get(m.id)?.name ?? m.id} in state ${this.state}`);
  }

  private onStartOk(a: ConnectionStartOk): void {
    this.clientProperties = a.clientProperties;
    const caps = a.clientProperties['capabilities'];
    if (caps && typeof caps === 'object' && !Array.isArray(caps)) this.capabilities = caps as FieldTable;
    if (!this.broker.saslMechanisms(this.socket).includes(a.mechanism)) {
      // RabbitMQ 3.10.8 answers an unknown mechanism with no frame at all and drops the socket later.
      this.broker.log('warn', 'authentication failed: unknown mechanism', { peer: this.peer, mechanism: a.mechanism });
      this.silentClose();
      return;
    }
    const outcome = this.broker.login(a.mechanism, a.response, this.socket);
    const user = outcome.user;
    if (!user) {
      if (outcome.malformed) {
        // A response the mechanism cannot parse (an empty PLAIN response, say): as RabbitMQ 3.10.8,
        // no explanation whatever the client's capabilities, and the socket dropped later.
        this.broker.log('warn', 'authentication failed: malformed response', { peer: this.peer, mechanism: a.mechanism });
        this.silentClose();
        return;
      }
      const refuse = () => {
        if (this.capabilities['authentication_failure_close'] !== true) return this.silentClose();
        const refusal = loginRefused(a.mechanism);
        this.sendMethod(0, Method.connectionClose, { replyCode: refusal.replyCode, replyText: refusal.replyText, classId: 0, methodId: 0 });
        this.flush();
        // The client's close-ok ends it at once; a client that never answers is dropped after the delay.
        this.state = 'closing';
        this.socket.resume();
        clearTimeout(this.heartbeatTimer);
        this.heartbeatTimer = setTimeout(() => this.socket.destroy(), SILENT_CLOSE_DELAY_MS);
        this.heartbeatTimer.unref();
      };
      // A source over its failure limit waits for its answer (the socket is paused meanwhile).
      if (outcome.delayMs > 0) {
        this.socket.pause();
        this.state = 'closing';
        setTimeout(refuse, outcome.delayMs).unref();
      } else refuse();
      return;
    }
    this.user = user;
    this.authMechanism = a.mechanism;
    this.state = 'tune-ok';
    const c = this.broker.config;
    this.sendMethod(0, Method.connectionTune, { channelMax: c.channelMax, frameMax: c.frameMax, heartbeat: c.heartbeat });
  }

  /** Handshake failure: stop talking and close the socket after a short delay, as RabbitMQ does. */
  private silentClose(): void {
    clearTimeout(this.heartbeatTimer);
    this.state = 'closed';
    this.socket.pause();
    setTimeout(() => this.socket.destroy(), SILENT_CLOSE_DELAY_MS).unref();
  }

  private onTuneOk(a: ConnectionTuneOk): void {
    const c = this.broker.config;
    // As RabbitMQ: the client must stay within what we proposed; 0 ("no limit") is more than that.
    // A handshake error before connection.open gets no connection.close, only a closed socket.
    const badFrameMax = a.frameMax < FRAME_MIN_SIZE || a.frameMax > c.frameMax;
    const badChannelMax = a.channelMax < 1 || a.channelMax > c.channelMax;
    if (badFrameMax || badChannelMax) {
      this.broker.log('warn', 'tune-ok outside the negotiated limits, closing', {
        peer: this.peer, frameMax: a.frameMax, channelMax: a.channelMax, maxFrameMax: c.frameMax, maxChannelMax: c.channelMax,
      });
      this.silentClose();
      return;
    }
    this.frameMax = a.frameMax;
    this.parser.maxFrameSize = a.frameMax;
    this.channelMax = a.channelMax;
    this.heartbeat = a.heartbeat;
    this.state = 'open';
  }

  private onOpen(a: ConnectionOpen): void {
    const vhost = this.broker.vhosts.get(a.virtualHost);
    if (!vhost) throw notAllowed(`vhost ${a.virtualHost} not found`);
    if (!this.broker.users.hasVhostAccess(a.virtualHost, this.username)) {
      throw notAllowed(`access to vhost '${a.virtualHost}' refused for user '${this.username}'`);
    }
    this.checkConnectionLimits(vhost);
    this.vhost = vhost;
    this.state = 'opened';
    clearTimeout(this.heartbeatTimer);
    this.startHeartbeats();
    this.sendMethod(0, Method.connectionOpenOk, { knownHosts: '' });
    this.registry.add(this);
    this.broker.counters.connectionsOpened++;
    this.broker.log('info', 'connection opened', { peer: this.peer, user: this.username, vhost: vhost.name, connection: this.id });
  }

  /** Vhost and user max-connections, counted over connections already open (RabbitMQ's refusals). */
  private checkConnectionLimits(vhost: VirtualHost): void {
    const vhostMax = limitOf(vhost.limits, 'max-connections');
    const userMax = limitOf(this.broker.users.limits.get(this.username), 'max-connections');
    if (vhostMax === undefined && userMax === undefined) return;
    let inVhost = 0;
    let ofUser = 0;
    for (const c of this.registry) {
      if (c.vhost === vhost) inVhost++;
      if (c.username === this.username) ofUser++;
    }
    if (vhostMax !== undefined && inVhost >= vhostMax) throw vhostConnectionLimitReached(vhost.name, this.username, vhostMax);
    if (userMax !== undefined && ofUser >= userMax) throw userConnectionLimitReached(this.username, userMax);
  }

  /** User max-channels, over all the user's connections. */
  private checkChannelLimit(): void {
    const max = limitOf(this.broker.users.limits.get(this.username), 'max-channels');
    if (max === undefined) return;
    let open = 0;
    for (const c of this.registry) if (c.username === this.username) open += c.channels.size;
    if (open >= max) throw userChannelLimitReached(this.username, max);
  }

  private startHeartbeats(): void {
    if (this.heartbeat === 0) return;
    const intervalMs = this.heartbeat * 1000;
    this.heartbeatTimer = setInterval(() => {
      const now = Date.now();
      if (now - this.lastReceived > intervalMs * 2) {
        // RabbitMQ's wording, which operators search their logs for.
        this.closeReason = `missed heartbeats from client, timeout: ${this.heartbeat}s`;
        this.socket.destroy();
        return;
      }
      // A quarter interval, not half: ticks measured with the loop's cached clock can land a few ms
      // short of half an interval by Date.now(), and skipping one then halves the heartbeat rate.
      if (now - this.lastSent >= intervalMs / 4) {
        this.writer.heartbeat();
        this.flush();
      }
    }, intervalMs / 2);
    this.heartbeatTimer.unref();
  }

  sendMethod<K extends MethodId>(channel: number, id: K, args: MethodArgs[K]): void {
    this.writer.method(channel, id, args);
    this.scheduleFlush();
  }

  scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    pendingFlush.push(this);
    if (!flushQueued) {
      flushQueued = true;
      setImmediate(flushPending);
    }
  }

  /** Write everything buffered in one go; on a full socket, pause deliveries until it drains. */
  flush(): void {
    this.flushScheduled = false;
    if (this.writer.pendingBytes === 0 || this.socket.destroyed) return;
    const chunks = this.writer.take();
    this.lastSent = Date.now();
    let ok = true;
    if (chunks.length === 1) ok = this.socket.write(chunks[0]!);
    else {
      this.socket.cork();
      for (const c of chunks) ok = this.socket.write(c);
      this.socket.uncork();
    }
    for (const c of chunks) this.stats.sendOct += c.length;
    // One socket send per flush (RabbitMQ's send_cnt counts its socket sends).
    this.stats.sendCnt++;
    if (!ok || this.socket.writableLength > WRITE_HIGH_WATER) {
      this.writeBlocked = true;
      // A peer that does not read also does not get to make us buffer its publishes' replies.
      this.socket.pause();
    }
  }

  private onDrain(): void {
    if (!this.writeBlocked) return;
    this.writeBlocked = false;
    if (!this.alarmBlocked) this.socket.resume();
    for (const ch of this.channels.values()) ch.resumeDeliveries();
  }

  /** Called on each publish: the first one of a connection under an active alarm blocks it. */
  notePublish(): void {
    if (this.isPublisher) return;
    this.isPublisher = true;
    if (this.broker.alarmActive) this.setAlarm(true, this.broker.alarmReason);
  }

  /** A memory/disk alarm started or ended (RabbitMQ's connection.blocked semantics). */
  setAlarm(active: boolean, reason: string): void {
    if (active === this.alarmBlocked || this.state !== 'opened') return;
    if (active && !this.isPublisher) return;
    this.alarmBlocked = active;
    const notify = this.capabilities['connection.blocked'] === true;
    if (active) {
      if (notify) this.sendMethod(0, Method.connectionBlocked, { reason });
      this.flush();
      this.socket.pause();
    } else {
      if (notify) this.sendMethod(0, Method.connectionUnblocked, {});
      if (!this.writeBlocked) this.socket.resume();
    }
  }

  /** Turn an error into the right close: soft → channel.close, hard → connection.close. */
  handleError(e: unknown, channelId: number): void {
    if (!(e instanceof AmqpError)) {
      this.broker.log('error', 'internal error', { peer: this.peer, error: String((e as Error)?.stack ?? e) });
      e = internalError(String((e as Error)?.message ?? e));
    }
    const err = e as AmqpError;
    const classId = err.methodId >>> 16;
    const methodId = err.methodId & 0xffff;
    if (!err.isConnectionError && channelId !== 0 && this.channels.has(channelId)) {
      this.broker.log('info', 'channel error', { peer: this.peer, channel: channelId, error: err.replyText });
      this.channels.get(channelId)!.close();
      this.channels.delete(channelId);
      this.closingChannels.add(channelId);
      this.sendMethod(channelId, Method.channelClose, { replyCode: err.replyCode, replyText: err.replyText, classId, methodId });
      return;
    }
    this.close(err);
  }

  /**
   * After our close-ok the client closes the socket, as RabbitMQ expects: frames it had already queued
   * behind its connection.close (amqplib sends the close ahead of buffered publishes) are read and
   * dropped. Closing our side first would make those writes fail (EPIPE, or a reset through a proxy).
   * A client that never closes is dropped after its heartbeat interval, at most 30 s, like RabbitMQ.
   */
  private lingerForClientClose(): void {
    const s = this.heartbeat > 0 && this.heartbeat < CLIENT_CLOSE_LINGER_MAX_S ? this.heartbeat : CLIENT_CLOSE_LINGER_MAX_S;
    const timer = setTimeout(() => this.socket.destroy(), s * 1000).unref();
    this.socket.once('close', () => clearTimeout(timer));
  }

  /** Server-initiated close (error, shutdown, management): wait briefly for close-ok. */
  close(error: AmqpError): void {
    if (this.state === 'closing' || this.state === 'closed') return;
    const { replyCode, replyText } = error;
    this.closeReason = replyText;
    this.broker.log(replyCode === ReplyCode.CONNECTION_FORCED ? 'info' : 'warn', 'closing connection', {
      peer: this.peer, user: this.username, code: replyCode, reason: replyText,
    });
    const wasOpen = this.state === 'opened';
    const classId = error.methodId >>> 16;
    const methodId = error.methodId & 0xffff;
    this.sendMethod(0, Method.connectionClose, { replyCode, replyText, classId, methodId });
    this.flush();
    this.state = 'closing';
    if (wasOpen) this.releaseChannels();
    setTimeout(() => this.socket.destroy(), CLOSE_OK_TIMEOUT_MS).unref();
  }

  private releaseChannels(): void {
    for (const ch of this.channels.values()) ch.close();
    this.channels.clear();
  }

  /** Why the broker is closing this connection (logged when it goes). */
  private closeReason: string | undefined;

  /** Every close is logged with its reason: warn unless the client asked or the broker shut down. */
  private teardown(reason: string): void {
    if (this.state === 'closed') return;
    const wasOpened = this.vhost !== undefined;
    this.state = 'closed';
    clearTimeout(this.heartbeatTimer);
    clearInterval(this.heartbeatTimer);
    this.releaseChannels();
    if (wasOpened) {
      this.vhost!.connectionClosed(this.id);
      this.registry.delete(this);
      this.broker.counters.connectionsClosed++;
      const expected = reason.startsWith('client closed') || reason.startsWith('CONNECTION_FORCED');
      this.broker.log(expected ? 'info' : 'warn', 'connection closed', { peer: this.peer, user: this.username, vhost: this.vhost!.name, connection: this.id, reason });
    }
  }

  private onSocketClosed(): void {
    clearTimeout(this.heartbeatTimer);
    clearInterval(this.heartbeatTimer);
    this.teardown(this.closeReason ?? (this.state === 'closing' ? 'closed by broker' : 'client unexpectedly closed TCP connection'));
  }
}
