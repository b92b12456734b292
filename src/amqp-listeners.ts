/**
 * Every AMQP listener of the broker: the main TCP one (port/host), extra TCP ones
 * (listeners.tcp.N) and the AMQPS ones (listeners.ssl.N). They start all or none: if one cannot
 * listen (port in use), those already listening are closed before the error goes up, so a failed
 * start leaves nothing half-open.
 */
import { createServer, type Server, type Socket } from 'node:net';
import type { ListenAddress, ResolvedOptions } from './config.js';
import { listenOn } from './net/listen.js';
import type { Logger } from './logger.js';
import { TlsListener } from './tls/tls-listener.js';

export class AmqpListeners {
  private constructor(
    private readonly tcp: Server[],
    private readonly tls: TlsListener[],
    /** Bound ports, main listener first. */
    readonly tcpPorts: number[],
  ) {}

  static async start(o: ResolvedOptions, log: Logger, accept: (socket: Socket) => void): Promise<AmqpListeners> {
    const tcp: Server[] = [];
    const tls: TlsListener[] = [];
    const ports: number[] = [];
    try {
      for (const address of [{ host: o.host, port: o.port }, ...o.extraListeners]) {
        const server = createServer({ noDelay: true }, accept);
        server.maxConnections = o.maxConnections;
        tcp.push(server);
        ports.push(await listenOn(server, address, 'AMQP'));
      }
      if (o.tlsListeners.length > 0 && !o.tls) throw new Error('AMQPS listeners need TLS settings (ssl_options.certfile and keyfile)');
      for (const address of o.tlsListeners) {
        tls.push(await TlsListener.start(o.tls!, address, 'AMQPS', log, accept));
      }
    } catch (e) {
      await Promise.all([...tcp.map((s) => closeServer(s)), ...tls.map((l) => l.close())]);
      throw e;
    }
    return new AmqpListeners(tcp, tls, ports);
  }

  /** Bound AMQPS addresses, in listener order. */
  get tlsAddresses(): ListenAddress[] {
    return this.tls.map((l) => ({ host: l.host, port: l.port }));
  }

  /** Re-reads the AMQPS certificates; throws (keeping the old ones) if a file is bad. */
  reloadTls(): void {
    for (const l of this.tls) l.reload();
  }

  /** Stops accepting; open connections are the broker's to close. */
  async close(): Promise<void> {
    await Promise.all([...this.tcp.map((s) => closeServer(s)), ...this.tls.map((l) => l.close())]);
  }
}

function closeServer(s: Server): Promise<void> {
  return new Promise((resolve) => (s.listening ? s.close(() => resolve()) : resolve()));
}
