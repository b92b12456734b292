/**
 * A follower's client ports: a plain TCP proxy per port (AMQP, AMQPS, stream, management HTTP)
 * that forwards each connection to the same service on the leader. The bytes are not looked at,
 * so TLS, SASL and heartbeats pass end to end; on plain AMQP ports a PROXY protocol v1 line goes first,
 * telling the leader who the client is (src/net/proxy-header.ts). When the leader changes (or is lost) every proxied
 * connection is closed, as a client of a failed node would see it: clients reconnect, through
 * this node or another, and reach the new leader.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import type { Logger } from '../logger.js';
import { listenOn } from '../net/listen.js';
import { proxyHeaderV1 } from '../net/proxy-header.js';

/** One forwarded port: where it listens here, and which of the leader's ports it goes to. */
export interface ForwardedPort {
  /** e.g. 'amqp', 'management'; for logs. */
  name: string;
  host: string;
  port: number;
  /** Skipped with a warning when the port is taken (the stream default, as a single node does). */
  optional?: boolean;
  /** Start each forwarded connection with a PROXY v1 header naming the client (the leader's AMQP ports read one). */
  proxyHeader?: boolean;
}

export interface ProxyTarget {
  host: string;
  /** The leader's port for each forwarded port name; a name without one refuses its connections. */
  ports: Record<string, number>;
}

export class ForwardingProxy {
  private readonly servers: Array<{ spec: ForwardedPort; server: Server }> = [];
  private readonly pairs = new Set<Socket>();
  private target: ProxyTarget | undefined;

  private constructor(private readonly log: Logger) {}

  /** Listens on every port now (a port in use fails the whole start and closes what was opened). */
  static async start(ports: ForwardedPort[], log: Logger): Promise<ForwardingProxy> {
    const proxy = new ForwardingProxy(log);
    try {
      for (const spec of ports) {
        const server = createServer({ noDelay: true }, (client) => proxy.forward(spec, client));
        try {
          await listenOn(server, spec, `${spec.name} (forwarded to the leader)`);
        } catch (e) {
          if (!spec.optional) throw e;
          log('warn', `${spec.name} listener not started: default port taken`, { port: spec.port, error: (e as Error).message });
          continue;
        }
        proxy.servers.push({ spec, server });
      }
    } catch (e) {
      await proxy.close();
      throw e;
    }
    return proxy;
  }

  /** The ports actually bound (port 0 picks one). */
  boundPort(name: string): number {
    const s = this.servers.find((x) => x.spec.name === name)?.server.address();
    return typeof s === 'object' && s ? s.port : 0;
  }

  /** New connections go to this leader; connections to the previous one are closed. */
  retarget(target: ProxyTarget | undefined): void {
    const same = target && this.target && target.host === this.target.host &&
      JSON.stringify(target.ports) === JSON.stringify(this.target.ports);
    if (same) return;
    this.target = target;
    this.dropAll();
  }

  /** Number of client connections being forwarded now. */
  get connectionCount(): number {
    return this.pairs.size / 2;
  }

  async close(): Promise<void> {
    await Promise.all(this.servers.map(({ server }) => new Promise<void>((resolve) => server.close(() => resolve()))));
    this.servers.length = 0;
    this.dropAll();
  }

  private dropAll(): void {
    for (const s of this.pairs) s.destroy();
    this.pairs.clear();
  }

  private forward(spec: ForwardedPort, client: Socket): void {
    const port = this.target?.ports[spec.name];
    if (!this.target || !port) {
      // No leader known yet (an election is under way): refuse, the client retries.
      client.destroy();
      return;
    }
    const upstream = connect({ host: this.target.host, port, noDelay: true });
    this.pairs.add(client);
    this.pairs.add(upstream);
    const done = () => {
      this.pairs.delete(client);
      this.pairs.delete(upstream);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', done).on('close', done);
    upstream.on('error', (e) => {
      this.log('debug', 'proxied connection to the leader failed', { service: spec.name, port, error: e.message });
      done();
    }).on('close', done);
    if (spec.proxyHeader) {
      upstream.write(proxyHeaderV1({ address: client.remoteAddress ?? '', port: client.remotePort ?? 0 }, { address: client.localAddress ?? '', port: client.localPort ?? 0 }));
    }
    // pipe() handles backpressure both ways: a slow leader slows the client, not our memory.
    client.pipe(upstream);
    upstream.pipe(client);
  }
}
