/**
 * The stream protocol's TCP listener, and its TLS listener when asked (stream.listeners.ssl). It owns
 * the sockets it accepted so close() can end them.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { once } from 'node:events';
import type { Logger } from '../logger.js';
import { TlsListener } from '../tls/tls-listener.js';
import type { TlsOptions } from '../tls/tls-options.js';
import type { StreamBrokerContext } from './stream-context.js';
import { StreamConnection } from './stream-connection.js';
import { readIntoSharedBuffer } from '../net/reused-reads.js';

export interface StreamTlsSettings {
  settings: TlsOptions;
  port: number;
  log: Logger;
}

export class StreamServer {
  readonly connections = new Set<StreamConnection>();
  private readonly sockets = new Set<Socket>();
  port = 0;
  private tls: TlsListener | undefined;

  private constructor(private readonly server: Server, private readonly ctx: StreamBrokerContext) {}

  static async start(ctx: StreamBrokerContext, port: number, host: string, tls?: StreamTlsSettings): Promise<StreamServer> {
    // Paused: accept() starts reading, into the buffer all stream connections share.
    const server = createServer({ noDelay: true, pauseOnConnect: true });
    const s = new StreamServer(server, ctx);
    server.on('connection', (socket) => s.accept(socket));
    server.listen(port, host);
    await Promise.race([once(server, 'listening'), once(server, 'error').then(([e]) => { throw e; })]);
    const addr = server.address();
    s.port = typeof addr === 'object' && addr ? addr.port : port;
    if (tls) {
      try {
        s.tls = await TlsListener.start(tls.settings, { host, port: tls.port }, 'stream TLS', tls.log, (socket) => s.accept(socket));
      } catch (e) {
        await new Promise((resolve) => server.close(resolve));
        throw e;
      }
    }
    return s;
  }

  /** The bound TLS port; 0 without TLS. */
  get tlsPort(): number {
    return this.tls?.port ?? 0;
  }

  /** Re-reads the TLS certificate files (SIGHUP). */
  reloadTls(): void {
    this.tls?.reload();
  }

  private accept(accepted: Socket): void {
    let c: StreamConnection | undefined;
    const socket = readIntoSharedBuffer(accepted, (bytes, end) => c!.received(bytes, end));
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    c = new StreamConnection(socket, this.ctx);
    this.connections.add(c);
    socket.once('close', () => this.connections.delete(c));
  }

  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    const tlsClosed = this.tls?.close();
    for (const c of this.connections) c.close(1, 'broker shutdown');
    const deadline = Date.now() + 500;
    while (this.sockets.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    for (const s of this.sockets) s.destroy();
    await closed;
    await tlsClosed;
  }
}
