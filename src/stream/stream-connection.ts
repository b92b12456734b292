/**
 * One stream-protocol client: the handshake (peer properties, SASL, tune, open), then publishers,
 * subscriptions, offsets and stream management. Errors a command can have are answered with its
 * response code; a malformed or unknown frame closes the connection with a close command, as
 * RabbitMQ does.
 */
import type { Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import { parseCredentials } from '../auth/sasl.js';
import { Code, Key, OffsetType, SERVER_COMMAND_VERSIONS } from './constants.js';
import { FrameTooLargeError, frameMaxCheck, StreamDecodeError, StreamReader } from './codec.js';
import { FrameSplitter } from '../net/frame-splitter.js';
import { decodeRequest, UnknownCommandError, type OffsetSpec, type Request } from './requests.js';
import * as R from './responses.js';
import type { StreamBrokerContext } from './stream-context.js';
import type { Stream } from './stream-manager.js';
import { firstDeliveryDelayMs, Subscription } from './subscription.js';
import type { GroupMember } from './single-active-consumer.js';
import { Publisher } from './publisher.js';
import { PublishCursor } from './publish-frame.js';

/** The largest reassembly buffer a connection keeps between frames: RabbitMQ's default frame_max and the size prefix. */
const REUSE_MAX = (1 << 20) + 4;

type State = 'peer-properties' | 'sasl' | 'tune' | 'open' | 'ready' | 'closing' | 'closed';

export class StreamConnection {
  private state: State = 'peer-properties';
  private readonly splitter: FrameSplitter;
  /** The frame_max incoming frames are checked against (the tuned one once tuned). */
  private frameMaxIn: number;
  user = '';
  vhost = '';
  authMechanism = '';
  readonly peer: string;
  /** RabbitMQ's connection name: "peer -> local". */
  readonly name: string;
  /** Frames received and sent (management's recv_cnt / send_cnt). */
  recvCnt = 0;
  sendCnt = 0;
  readonly connectedAt = Date.now();
  clientProperties: Record<string, string> = {};
  frameMax: number;
  heartbeat: number;
  readonly publishers = new Map<number, Publisher>();
  readonly subscriptions = new Map<number, Subscription>();
  /** Subscriptions in a single-active-consumer group: the group and this connection's member. */
  private readonly groupMembers = new Map<Subscription, { group: string; member: GroupMember }>();
  /** consumer_update requests sent, awaiting the client's answer (an offset, used on activation). */
  private readonly consumerUpdates = new Map<number, { sub: Subscription; active: boolean }>();
  private serverCorrelation = 0;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private lastReceived = Date.now();
  private sentSinceTick = false;
  private readonly drainWaiters: (() => void)[] = [];
  /** Reading paused until a stream log's write backlog shrinks (publish). */
  private waitingForLog = false;
  private readonly unlistenDelete: () => void;

  constructor(readonly socket: Socket, private readonly ctx: StreamBrokerContext) {
    this.peer = `${socket.remoteAddress}:${socket.remotePort}`;
    this.name = `${this.peer} -> ${socket.localAddress}:${socket.localPort}`;
    this.frameMax = ctx.frameMax;
    this.heartbeat = ctx.heartbeat;
    // Before tune, frames are small handshake commands; 1 MiB is RabbitMQ's default frame_max.
    // Reused reassembly buffer (up to that, let go when idle): no handler keeps a view of a frame past its call.
    this.frameMaxIn = Math.max(ctx.frameMax, 1 << 20);
    this.splitter = new FrameSplitter(frameMaxCheck(() => this.frameMaxIn), { upTo: REUSE_MAX, releaseIdle: true });
    socket.on('drain', () => {
      for (const w of this.drainWaiters.splice(0)) w();
    });
    socket.on('error', () => socket.destroy());
    socket.on('close', () => this.closed());
    const onDelete = (s: Stream) => this.streamDeleted(s);
    ctx.streams.deleteListeners.add(onDelete);
    this.unlistenDelete = () => ctx.streams.deleteListeners.delete(onDelete);
    ctx.connectionOpened(this);
  }

  /** As RabbitMQ: a client connected over TLS is told the TLS port, to reconnect over TLS. */
  private get advertisedPort(): number {
    return this.socket instanceof TLSSocket ? this.ctx.advertisedTlsPort : this.ctx.advertisedPort;
  }

  get isOpen(): boolean {
    return this.state === 'ready';
  }

  /**
   * `written`: called once the socket is done with the bytes (Deliver frames in reused slabs);
   * `frames`: how many frames `frame` holds (adjacent Deliver frames go out in one write).
   */
  private send(frame: Buffer, written?: () => void, frames = 1): boolean {
    this.sentSinceTick = true;
    this.sendCnt += frames;
    if (this.state === 'closed') return true;
    return this.socket.write(frame, written);
  }

  /**
   * Bytes read from the socket, data[0, length): a reused buffer (net/reused-reads.ts), so nothing
   * here keeps a view of them past this call; publish entries are copied into their chunk, other
   * commands decoded into values, and a frame's tail left for the next read is copied by the splitter.
   */
  received(data: Buffer, length: number): void {
    this.lastReceived = Date.now();
    try {
      this.splitter.push(data, (buf, start, end) => {
        if (this.state === 'closed') return;
        this.recvCnt++;
        // Publish frames, the bulk of the traffic, are walked in place (publish-frame.ts).
        if (this.state === 'ready' && end - start >= 4 && buf.readUInt16BE(start) === Key.Publish) {
          const version = buf.readUInt16BE(start + 2);
          if (version !== 1 && version !== 2) throw new UnknownCommandError(Key.Publish, version);
          this.publish(new PublishCursor(buf, start + 4, end, version));
          return;
        }
        this.handle(decodeRequest(new StreamReader(buf, start, end)));
      }, length);
    } catch (e) {
      if (e instanceof FrameTooLargeError) this.close(Code.FrameTooLarge, 'frame too large');
      else if (e instanceof UnknownCommandError) this.close(Code.UnknownFrame, 'unknown frame');
      else if (e instanceof StreamDecodeError || e instanceof RangeError) this.close(Code.UnknownFrame, `malformed frame: ${(e as Error).message}`);
      else {
        this.ctx.log('error', 'stream connection error', { peer: this.peer, error: String(e) });
        this.close(Code.InternalError, 'internal error');
      }
    }
  }

  private handle(q: Request): void {
    switch (this.state) {
      case 'peer-properties':
        if (q.key !== Key.PeerProperties) return this.close(Code.UnknownFrame, 'expected peer properties');
        this.clientProperties = q.properties;
        this.state = 'sasl';
        this.send(R.peerPropertiesResponse(q.correlationId, {
          product: 'RabbitMQ',
          version: this.ctx.serverVersion,
          platform: `Node.js ${process.version}`,
          copyright: 'Warren contributors',
          information: 'Warren, a broker that speaks RabbitMQ\'s protocols',
          cluster_name: 'warren',
        }));
        return;
      case 'sasl':
        if (q.key === Key.SaslHandshake) {
          this.send(R.saslHandshakeResponse(q.correlationId, this.ctx.saslMechanisms(this.socket)));
          return;
        }
        if (q.key === Key.SaslAuthenticate) return this.authenticate(q.correlationId, q.mechanism, q.response);
        return this.close(Code.UnknownFrame, 'expected sasl');
      case 'tune':
        if (q.key !== Key.Tune) return this.close(Code.UnknownFrame, 'expected tune');
        this.frameMax = q.frameMax === 0 ? this.ctx.frameMax : Math.min(q.frameMax, this.ctx.frameMax || q.frameMax);
        this.heartbeat = q.heartbeat;
        this.frameMaxIn = this.frameMax;
        this.state = 'open';
        return;
      case 'open':
        if (q.key !== Key.Open) return this.close(Code.UnknownFrame, 'expected open');
        if (!this.ctx.hasVhost(q.vhost, this.user)) {
          this.send(R.openResponse(q.correlationId, Code.VirtualHostAccessFailure, {}));
          return this.close(Code.VirtualHostAccessFailure, 'vhost access failure');
        }
        this.vhost = q.vhost;
        this.state = 'ready';
        this.send(R.openResponse(q.correlationId, Code.Ok, {
          advertised_host: this.ctx.advertisedHost,
          advertised_port: String(this.advertisedPort),
        }));
        this.startHeartbeats();
        return;
      case 'ready':
        return this.command(q);
      default:
        // closing: only the close response matters
        if (q.key === Key.Close) this.socket.end();
    }
  }

  private authenticate(correlationId: number, mechanism: string, response: Buffer): void {
    if (!this.ctx.saslMechanisms(this.socket).includes(mechanism)) {
      this.send(R.simpleResponse(Key.SaslAuthenticate, correlationId, Code.SaslMechanismNotSupported));
      return;
    }
    const creds = mechanism === 'EXTERNAL' ? undefined : parseCredentials(mechanism, response);
    const user = mechanism === 'EXTERNAL'
      ? this.ctx.externalUser(this.socket)
      : creds && this.ctx.authenticate(creds.username, creds.password, this.socket.remoteAddress ?? '');
    if (!user || user === 'loopback') {
      const code = user === 'loopback' ? Code.SaslAuthenticationFailureLoopback : Code.AuthenticationFailure;
      this.send(R.simpleResponse(Key.SaslAuthenticate, correlationId, code));
      this.ctx.log('warn', 'stream authentication failed', { peer: this.peer, user: creds?.username });
      this.socket.end();
      return;
    }
    this.user = user.name;
    this.authMechanism = mechanism;
    this.state = 'tune';
    this.send(R.simpleResponse(Key.SaslAuthenticate, correlationId, Code.Ok));
    this.send(R.tune(this.ctx.frameMax, this.ctx.heartbeat));
  }

  private allowed(access: 'configure' | 'write' | 'read', name: string): boolean {
    try {
      this.ctx.checkPermission(this.user, this.vhost, access, name);
      return true;
    } catch {
      return false;
    }
  }

  private command(q: Request): void {
    const streams = this.ctx.streams;
    switch (q.key) {
      case Key.Publish: return; // handled in onData
      case Key.Heartbeat: return;
      case Key.Credit: {
        const sub = this.subscriptions.get(q.subscriptionId);
        if (!sub) this.send(R.creditResponse(Code.SubscriptionIdDoesNotExist, q.subscriptionId));
        else sub.addCredit(q.credit);
        return;
      }
      case Key.DeclarePublisher: {
        const s = streams.get(this.vhost, q.stream);
        let code: number = Code.Ok;
        if (!s) code = Code.StreamDoesNotExist;
        else if (this.publishers.has(q.publisherId)) code = Code.PreconditionFailed;
        else if (!this.allowed('write', q.stream)) code = Code.AccessRefused;
        else if (q.reference !== '' && [...this.publishers.values()].some((p) => p.reference === q.reference && p.stream === s)) code = Code.PreconditionFailed;
        if (code === Code.Ok && s) {
          const p = new Publisher(q.publisherId, s, q.reference);
          p.stopListening = s.log.onAppend(() => this.sendConfirms(p));
          this.publishers.set(q.publisherId, p);
          s.publishers++;
        }
        this.send(R.simpleResponse(q.key, q.correlationId, code));
        return;
      }
      case Key.DeletePublisher: {
        const p = this.publishers.get(q.publisherId);
        if (p) this.dropPublisher(p);
        this.send(R.simpleResponse(q.key, q.correlationId, p ? Code.Ok : Code.PublisherDoesNotExist));
        return;
      }
      case Key.QueryPublisherSequence: {
        const s = streams.get(this.vhost, q.stream);
        if (!s) this.send(R.u64Response(q.key, q.correlationId, Code.StreamDoesNotExist, 0n));
        else this.send(R.u64Response(q.key, q.correlationId, Code.Ok, s.log.publisherSequence(q.reference)));
        return;
      }
      case Key.Subscribe: return this.subscribe(q.correlationId, q.subscriptionId, q.stream, q.offset, q.credit, q.properties);
      case Key.Unsubscribe: {
        const sub = this.subscriptions.get(q.subscriptionId);
        if (sub) this.endSubscription(sub);
        this.send(R.simpleResponse(q.key, q.correlationId, sub ? Code.Ok : Code.SubscriptionIdDoesNotExist));
        return;
      }
      case Key.StoreOffset: {
        // No response, as in RabbitMQ: a missing stream or refused read is silently ignored.
        const s = streams.get(this.vhost, q.stream);
        if (s && q.reference !== '' && this.allowed('read', q.stream)) s.log.storeOffset(q.reference, q.offset);
        return;
      }
      case Key.QueryOffset: {
        const s = streams.get(this.vhost, q.stream);
        if (!s) return void this.send(R.u64Response(q.key, q.correlationId, Code.StreamDoesNotExist, 0n));
        s.log.flushOffsets();
        const offset = s.log.offsets.get(q.reference);
        this.send(R.u64Response(q.key, q.correlationId, offset === undefined ? Code.NoOffset : Code.Ok, offset ?? 0n));
        return;
      }
      case Key.Create: {
        if (!this.allowed('configure', q.stream)) return void this.send(R.simpleResponse(q.key, q.correlationId, Code.AccessRefused));
        const r = this.ctx.createStream(this.vhost, q.stream, q.arguments, this.user);
        const code = r === 'created' ? Code.Ok : r === 'exists' ? Code.StreamAlreadyExists : Code.PreconditionFailed;
        this.ctx.whenDefinitionsStored(() => this.send(R.simpleResponse(q.key, q.correlationId, code)));
        return;
      }
      case Key.Delete: {
        if (!this.allowed('configure', q.stream)) return void this.send(R.simpleResponse(q.key, q.correlationId, Code.AccessRefused));
        const ok = this.ctx.deleteStream(this.vhost, q.stream, this.user);
        this.ctx.whenDefinitionsStored(() => this.send(R.simpleResponse(q.key, q.correlationId, ok ? Code.Ok : Code.StreamDoesNotExist)));
        return;
      }
      case Key.Metadata: {
        const list = q.streams.map((name) => ({ name, code: streams.get(this.vhost, name) ? Code.Ok : Code.StreamDoesNotExist }));
        this.send(R.metadataResponse(q.correlationId, { host: this.ctx.advertisedHost, port: this.advertisedPort }, list));
        return;
      }
      case Key.Route: {
        const r = this.ctx.route(this.vhost, q.superStream, q.routingKey);
        this.send(R.streamsResponse(q.key, q.correlationId, r ? Code.Ok : Code.StreamDoesNotExist, r ?? []));
        return;
      }
      case Key.Partitions: {
        const r = this.ctx.partitions(this.vhost, q.superStream);
        this.send(R.streamsResponse(q.key, q.correlationId, r ? Code.Ok : Code.StreamDoesNotExist, r ?? []));
        return;
      }
      case Key.ConsumerUpdate: {
        // The client's answer: a subscription made active starts where it says; one asked to step
        // down has stopped, so its group's next active member can take over.
        const update = this.consumerUpdates.get(q.correlationId);
        this.consumerUpdates.delete(q.correlationId);
        if (!update || this.subscriptions.get(update.sub.id) !== update.sub) return;
        if (update.active) return update.sub.activate(startOffset(update.sub.stream, q.offset));
        const g = this.groupMembers.get(update.sub);
        if (g) update.sub.stream.singleActive.steppedDown(g.group, g.member);
        return;
      }
      case Key.ExchangeCommandVersions:
        this.send(R.commandVersionsResponse(q.correlationId, SERVER_COMMAND_VERSIONS));
        return;
      case Key.StreamStats: {
        const s = streams.get(this.vhost, q.stream);
        if (!s) return void this.send(R.streamStatsResponse(q.correlationId, Code.StreamDoesNotExist, {}));
        // As RabbitMQ 3.13 answers (3.11 had no last_chunk_id); a single node commits what it has
        // written, and Warren shows only fsynced chunks, so last and committed are the same chunk.
        const lastChunk = BigInt(s.log.lastOffset >= 0 ? s.log.lastChunkStart() : -1);
        this.send(R.streamStatsResponse(q.correlationId, Code.Ok, {
          first_chunk_id: BigInt(s.log.messageCount > 0 ? s.log.firstOffset : -1),
          last_chunk_id: lastChunk,
          committed_chunk_id: lastChunk,
        }));
        return;
      }
      case Key.Close:
        this.send(R.simpleResponse(Key.Close, q.correlationId, Code.Ok));
        this.state = 'closing';
        this.socket.end();
        return;
      default:
        // Handshake commands after open (peer properties, sasl, tune, open again).
        return this.close(Code.UnknownFrame, 'unexpected command');
    }
  }

  /**
   * Appends a publish frame's messages to the log, each entry copied once from the socket's buffer
   * into the chunk being built; their ids are confirmed together after the chunk's fsync.
   */
  private publish(c: PublishCursor): void {
    c.validate();
    const p = this.publishers.get(c.publisherId);
    if (!p) {
      const errors: { id: bigint; code: number }[] = [];
      while (c.next()) errors.push({ id: c.publishingId(), code: Code.PublisherDoesNotExist });
      this.send(R.publishError(c.publisherId, errors));
      return;
    }
    const log = p.stream.log;
    const reference = p.reference === '' ? undefined : p.reference;
    while (c.next()) {
      // A duplicate (publishing id not above the last one for this reference) is confirmed, not stored.
      if (reference === undefined) log.appendEntry(c.buf, c.entryPos, c.entryLength, c.records);
      else log.appendEntry(c.buf, c.entryPos, c.entryLength, c.records, reference, c.publishingId());
      p.addId(c.buf, c.idPos);
    }
    p.published += c.count;
    p.endFrame(log.appendedEnd);
    // The disk is behind: read no more publishes until the log's write backlog has gone down.
    if (log.writeBacklogged && !this.waitingForLog) {
      this.waitingForLog = true;
      this.socket.pause();
      log.whenWritable(() => {
        this.waitingForLog = false;
        this.socket.resume();
      });
    }
    // Only duplicates, or nothing: confirmable now, not at the next fsync.
    if (log.appendedEnd <= log.nextOffsetVisible) process.nextTick(() => this.sendConfirms(p));
  }

  private sendConfirms(p: Publisher): void {
    if (this.publishers.get(p.id) !== p) return;
    const frame = p.takeConfirms(p.stream.log.nextOffsetVisible);
    if (frame) this.send(frame);
  }

  private dropPublisher(p: Publisher): void {
    p.stopListening();
    this.publishers.delete(p.id);
    p.stream.publishers--;
  }

  private subscribe(correlationId: number, id: number, name: string, spec: OffsetSpec, credit: number, properties: Record<string, string>): void {
    const s = this.ctx.streams.get(this.vhost, name);
    if (!s) return void this.send(R.simpleResponse(Key.Subscribe, correlationId, Code.StreamDoesNotExist));
    if (this.subscriptions.has(id)) return void this.send(R.simpleResponse(Key.Subscribe, correlationId, Code.SubscriptionIdAlreadyExists));
    if (!this.allowed('read', name)) return void this.send(R.simpleResponse(Key.Subscribe, correlationId, Code.AccessRefused));
    const singleActive = properties['single-active-consumer'] === 'true';
    const group = properties['name'] ?? '';
    // As RabbitMQ: a single active consumer needs a name (its group).
    if (singleActive && group === '') return void this.send(R.simpleResponse(Key.Subscribe, correlationId, Code.PreconditionFailed));
    const start = startOffset(s, spec);
    this.send(R.simpleResponse(Key.Subscribe, correlationId, Code.Ok));
    const sink = { write: (f: Buffer, written?: () => void, frames?: number) => this.send(f, written, frames), onDrain: (fn: () => void) => void this.drainWaiters.push(fn) };
    const sub = new Subscription(id, s, properties, start, credit, sink, !singleActive, firstDeliveryDelayMs(this.clientProperties));
    this.subscriptions.set(id, sub);
    if (singleActive) {
      const member: GroupMember = {
        activate: () => this.sendConsumerUpdate(sub, true),
        deactivate: () => {
          sub.deactivate();
          this.sendConsumerUpdate(sub, false);
        },
      };
      this.groupMembers.set(sub, { group, member });
      s.singleActive.join(group, member, this.partitionIndex(properties['super-stream'], name));
    }
  }

  /** The stream's place among its super stream's partitions (RabbitMQ 3.11+), -1 when it is none. */
  private partitionIndex(superStream: string | undefined, stream: string): number {
    if (superStream === undefined) return -1;
    return this.ctx.partitions(this.vhost, superStream)?.indexOf(stream) ?? -1;
  }

  /** Tells the client its subscription is now its group's active one (or no longer); it answers with an offset. */
  private sendConsumerUpdate(sub: Subscription, active: boolean): void {
    const correlationId = ++this.serverCorrelation;
    this.consumerUpdates.set(correlationId, { sub, active });
    this.send(R.consumerUpdate(correlationId, sub.id, active));
  }

  /** Stops a subscription; in a single-active-consumer group, the next member takes over. */
  private endSubscription(sub: Subscription): void {
    sub.stop();
    this.subscriptions.delete(sub.id);
    const g = this.groupMembers.get(sub);
    if (!g) return;
    this.groupMembers.delete(sub);
    sub.stream.singleActive.leave(g.group, g.member);
  }

  private streamDeleted(s: Stream): void {
    let affected = false;
    for (const sub of [...this.subscriptions.values()]) {
      if (sub.stream !== s) continue;
      this.endSubscription(sub);
      affected = true;
    }
    for (const p of [...this.publishers.values()]) {
      if (p.stream !== s) continue;
      this.dropPublisher(p);
      affected = true;
    }
    if (affected) this.send(R.metadataUpdate(Code.StreamNotAvailable, s.name));
  }

  private startHeartbeats(): void {
    if (this.heartbeat <= 0) return;
    const ms = this.heartbeat * 1000;
    this.heartbeatTimer = setInterval(() => {
      if (Date.now() - this.lastReceived > 2 * ms) {
        this.ctx.log('warn', 'stream connection missed heartbeats', { peer: this.peer });
        this.socket.destroy();
        return;
      }
      if (!this.sentSinceTick) this.send(R.heartbeat());
      this.sentSinceTick = false;
    }, ms);
    this.heartbeatTimer.unref();
  }

  /**
   * Closed by an operator (management's DELETE /api/connections/{name}): the socket is ended without
   * a close command, as RabbitMQ's stream reader does — clients treat the lost connection as closed
   * by the server (some, such as rabbitmq-stream-js-client, do not expect a close request).
   */
  forceClose(reason: string): void {
    if (this.state === 'closed') return;
    this.ctx.log('info', 'stream connection closed by an operator', { peer: this.peer, reason });
    this.state = 'closing';
    this.socket.end();
    setTimeout(() => this.socket.destroy(), 1000).unref();
  }

  /** Server-initiated close: a close command, then the socket ends after the client's answer (or 1 s). */
  close(code: number = Code.Ok, reason = 'OK'): void {
    if (this.state === 'closing' || this.state === 'closed') return;
    this.ctx.log(code === Code.Ok ? 'info' : 'warn', 'closing stream connection', { peer: this.peer, code, reason });
    this.send(R.closeRequest(0, code, reason));
    this.state = 'closing';
    setTimeout(() => this.socket.destroy(), 1000).unref();
  }

  private closed(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    clearInterval(this.heartbeatTimer);
    for (const sub of [...this.subscriptions.values()]) this.endSubscription(sub);
    for (const p of [...this.publishers.values()]) this.dropPublisher(p);
    this.unlistenDelete();
    this.ctx.connectionClosed(this);
  }
}

/** Where a subscription starts for an offset specification, as RabbitMQ (osiris) resolves it. */
export function startOffset(s: Stream, spec: OffsetSpec): number {
  const log = s.log;
  switch (spec.type) {
    case OffsetType.First: return log.firstOffset;
    case OffsetType.Last: return log.lastChunkStart();
    case OffsetType.Next: return log.nextOffsetVisible;
    case OffsetType.Offset: {
      const n = Number(spec.offset);
      if (n > log.nextOffsetVisible) return log.nextOffsetVisible;
      return n < log.firstOffset ? log.firstOffset : n;
    }
    case OffsetType.Timestamp: return log.offsetOfTimestamp(Number(spec.timestamp));
  }
}
