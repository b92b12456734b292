/**
 * The stream protocol's TCP listener. It owns the sockets it accepted so close() can end them.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { once } from 'node:events';
import type { StreamBrokerContext } from './stream-context.js';
import { StreamConnection } from './stream-connection.js';

export class StreamServer {
  readonly connections = new Set<StreamConnection>();
  private readonly sockets = new Set<Socket>();
  port = 0;

  private constructor(private readonly server: Server, private readonly ctx: StreamBrokerContext) {}

  static async start(ctx: StreamBrokerContext, port: number, host: string): Promise<StreamServer> {
    const server = createServer({ noDelay: true });
    const s = new StreamServer(server, ctx);
    server.on('connection', (socket) => s.accept(socket));
    server.listen(port, host);
    await Promise.race([once(server, 'listening'), once(server, 'error').then(([e]) => { throw e; })]);
    const addr = server.address();
    s.port = typeof addr === 'object' && addr ? addr.port : port;
    return s;
  }

  private accept(socket: Socket): void {
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    const c = new StreamConnection(socket, this.ctx);
    this.connections.add(c);
    socket.once('close', () => this.connections.delete(c));
  }

  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const c of this.connections) c.close(1, 'broker shutdown');
    const deadline = Date.now() + 500;
    while (this.sockets.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    for (const s of this.sockets) s.destroy();
    await closed;
  }
}
