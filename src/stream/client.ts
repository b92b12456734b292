/**
 * A minimal stream-protocol client over Warren's own codec: the bench drives Warren and RabbitMQ with
 * it (the npm client needs exchange_command_versions, which RabbitMQ 3.10 lacks), and tests use it
 * for what the npm client hides (raw response codes). Responses are matched by correlation id;
 * Deliver and publish confirms go to callbacks.
 */
import { connect as tcpConnect, type Socket } from 'node:net';
import { once } from 'node:events';
import { Code, Key, RESPONSE_FLAG } from './constants.js';
import { StreamReader } from './codec.js';
import { DeliverySkimmer } from './delivery-skimmer.js';
import { FrameSplitter } from '../net/frame-splitter.js';
import { encodeRequest, type OffsetSpec, type Request } from './requests.js';

export interface RawResponse {
  key: number;
  code: number;
  /** Positioned after the code. */
  reader: StreamReader;
}

type WithoutCorrelation<T> = T extends { correlationId: number } ? Omit<T, 'correlationId'> : never;

/**
 * The reused socket read buffer of a client that skims deliveries. libuv reads at most this much per
 * recv: with 'data' events (64 KiB each) a Node client tops out near 3 GB/s on loopback, with a reused
 * 4 MiB buffer near 5 GB/s, as a C or Python reader does (measured: README, stream figures).
 */
const SKIM_READ_BYTES = 4 << 20;

export class StreamClient {
  private correlation = 0;
  private readonly waiting = new Map<number, (r: RawResponse) => void>();
  /**
   * Deliver frames: subscription id and the chunk (header + data) as a view; with `skimDeliveries`,
   * the chunk's 48-byte header only, valid during the call.
   */
  onDeliver: (subscriptionId: number, chunk: Buffer) => void = () => {};
  onConfirm: (publisherId: number, count: number, reader: StreamReader) => void = () => {};
  onError: (publisherId: number, count: number) => void = () => {};
  /** Server-initiated consumer_update (single active consumer); answer with send({ key: ConsumerUpdate, ... }). */
  onConsumerUpdate: (correlationId: number, subscriptionId: number, active: boolean) => void = () => {};
  closedByServer: { code: number; reason: string } | undefined;
  serverProperties: Record<string, string> = {};

  /** The byte stream from the socket. */
  private readonly input: (data: Buffer) => void;

  private constructor(readonly socket: Socket, skim: boolean) {
    if (skim) {
      const skimmer = new DeliverySkimmer((id, header) => this.onDeliver(id, header), (buf, s, e) => this.frame(buf, s, e));
      this.input = (d) => skimmer.push(d);
    } else {
      const splitter = new FrameSplitter(() => {});
      this.input = (d) => splitter.push(d, (buf, s, e) => this.frame(buf, s, e));
      socket.on('data', this.input);
    }
    socket.on('error', () => {});
  }

  /**
   * Connects and runs the handshake; `exchangeVersions` sends key 27 as 3.11+ clients do.
   * `skimDeliveries` (load generators): Deliver frames are not assembled, onDeliver gets each chunk's
   * header only (delivery-skimmer.ts), and the socket reads into one reused buffer. `properties`:
   * the peer properties sent (to pose as another client).
   */
  static async connect(o: { host: string; port: number; username?: string; password?: string; vhost?: string; exchangeVersions?: boolean; skimDeliveries?: boolean; properties?: Record<string, string> }): Promise<StreamClient> {
    let reader: StreamClient | undefined;
    const onread = () => ({ buffer: Buffer.allocUnsafe(SKIM_READ_BYTES), callback: (n: number, buf: Uint8Array): boolean => {
      reader?.input(Buffer.from(buf.buffer, buf.byteOffset, n));
      return true;
    } });
    const socket = tcpConnect({ host: o.host, port: o.port, noDelay: true, ...(o.skimDeliveries ? { onread: onread() } : {}) });
    await once(socket, 'connect');
    const c = reader = new StreamClient(socket, o.skimDeliveries === true);
    const peer = await c.request({ key: Key.PeerProperties, properties: o.properties ?? { product: 'warren-stream-client' } });
    c.serverProperties = peer.reader.map();
    await c.request({ key: Key.SaslHandshake });
    const tuned = new Promise<void>((resolve) => (c.onTune = resolve));
    const auth = await c.request({ key: Key.SaslAuthenticate, mechanism: 'PLAIN', response: Buffer.from(`\0${o.username ?? 'guest'}\0${o.password ?? 'guest'}`) });
    if (auth.code !== Code.Ok) {
      socket.destroy();
      throw Object.assign(new Error(`authentication failed: code ${auth.code}`), { code: auth.code });
    }
    await tuned;
    const open = await c.request({ key: Key.Open, vhost: o.vhost ?? '/' });
    if (open.code !== Code.Ok) {
      socket.destroy();
      throw Object.assign(new Error(`open failed: code ${open.code}`), { code: open.code });
    }
    if (o.exchangeVersions) await c.request({ key: Key.ExchangeCommandVersions, versions: [] });
    return c;
  }

  private onTune: () => void = () => {};

  private frame(buf: Buffer, start: number, end: number): void {
    const r = new StreamReader(buf, start, end);
    const key = r.u16();
    r.u16();
    switch (key) {
      case Key.Deliver: {
        const id = r.u8();
        this.onDeliver(id, buf.subarray(r.pos, end));
        return;
      }
      case Key.PublishConfirm: {
        const id = r.u8();
        this.onConfirm(id, r.i32(), r);
        return;
      }
      case Key.PublishError: {
        const id = r.u8();
        this.onError(id, r.i32());
        return;
      }
      case Key.Tune: {
        const frameMax = r.u32();
        const heartbeat = r.u32();
        this.socket.write(encodeRequest({ key: Key.Tune, frameMax, heartbeat: 0 * heartbeat }));
        this.onTune();
        return;
      }
      case Key.Close: {
        const correlationId = r.u32();
        this.closedByServer = { code: r.u16(), reason: r.string() };
        this.socket.write(Buffer.from([0, 0, 0, 10, 0x80, Key.Close, 0, 1, ...u32(correlationId), 0, Code.Ok]));
        this.socket.end();
        return;
      }
      case Key.ConsumerUpdate: {
        const correlationId = r.u32();
        const subscriptionId = r.u8();
        this.onConsumerUpdate(correlationId, subscriptionId, r.u8() === 1);
        return;
      }
      case Key.Heartbeat:
      case Key.MetadataUpdate:
        return;
      case Key.Credit | RESPONSE_FLAG:
        return;
      default: {
        if (!(key & RESPONSE_FLAG)) return;
        const correlationId = r.u32();
        const code = r.u16();
        const w = this.waiting.get(correlationId);
        this.waiting.delete(correlationId);
        w?.({ key: key & ~RESPONSE_FLAG, code, reader: r });
      }
    }
  }

  /** Sends a request that has a correlation id and waits for its response. */
  request(q: WithoutCorrelation<Request>): Promise<RawResponse> {
    const correlationId = ++this.correlation;
    return new Promise((resolve, reject) => {
      this.waiting.set(correlationId, resolve);
      const onClose = () => reject(new Error(`connection closed${this.closedByServer ? `: ${this.closedByServer.code} ${this.closedByServer.reason}` : ''}`));
      this.socket.once('close', onClose);
      this.waiting.set(correlationId, (r) => {
        this.socket.off('close', onClose);
        resolve(r);
      });
      this.socket.write(encodeRequest({ ...q, correlationId } as Request));
    });
  }

  /** Writes a request without a response (publish, credit, store_offset); false = socket backed up. */
  send(q: Request): boolean {
    return this.socket.write(encodeRequest(q));
  }

  subscribe(subscriptionId: number, stream: string, offset: OffsetSpec, credit: number): Promise<RawResponse> {
    return this.request({ key: Key.Subscribe, subscriptionId, stream, offset, credit, properties: {} });
  }

  async close(): Promise<void> {
    if (this.socket.destroyed) return;
    await Promise.race([this.request({ key: Key.Close, code: Code.Ok, reason: 'bye' }), once(this.socket, 'close')]).catch(() => {});
    this.socket.destroy();
  }
}

function u32(n: number): number[] {
  return [(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255];
}
