/**
 * The Prometheus endpoint, as rabbitmq_prometheus serves it (port 15692 by default): GET /metrics,
 * /metrics/per-object and /metrics/detailed?family=…&vhost=…, text format 0.0.4, gzip when the
 * scraper accepts it (Prometheus does). Separate from the management API, as in RabbitMQ, so
 * scraping needs no credentials and keeps working with management disabled.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer, type Server as HttpsServer } from 'node:https';
import type { SecureContextOptions } from 'node:tls';
import type { Socket } from 'node:net';
import { createGzip } from 'node:zlib';
import { MetricsCollector, DETAILED_FAMILIES, type View } from './collector.js';
import type { Exposition } from './exposition.js';
import type { MetricsSource } from './source.js';
import { listenOn } from '../net/listen.js';

export interface PrometheusOptions {
  port: number;
  host: string;
  /** Serve HTTPS with these (key/cert/ca/…) instead of plain HTTP. */
  tls?: SecureContextOptions | undefined;
}

const CONTENT_TYPE = 'text/plain; version=0.0.4';
const KNOWN_FAMILIES = new Set<string>(DETAILED_FAMILIES);

export class PrometheusServer {
  port = 0;
  private readonly collector: MetricsCollector;
  private readonly http: Server;
  private readonly sockets = new Set<Socket>();

  private constructor(source: MetricsSource, private readonly options: PrometheusOptions) {
    this.collector = new MetricsCollector(source);
    const handler = (req: IncomingMessage, res: ServerResponse) => this.handle(req, res);
    this.http = options.tls ? createTlsServer(options.tls, handler) : createServer(handler);
    this.http.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.once('close', () => this.sockets.delete(s));
    });
    this.http.requestTimeout = 60_000;
  }

  static async start(source: MetricsSource, options: PrometheusOptions): Promise<PrometheusServer> {
    const server = new PrometheusServer(source, options);
    server.port = await listenOn(server.http, { host: options.host, port: options.port }, 'Prometheus');
    return server;
  }

  /** New certificates (SIGHUP): new handshakes use them, open connections keep theirs. */
  reloadTls(tls: SecureContextOptions): void {
    if (this.options.tls) (this.http as HttpsServer).setSecureContext(tls);
  }

  get tls(): boolean {
    return this.options.tls !== undefined;
  }

  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.http.close(() => resolve()));
    for (const s of this.sockets) s.destroy();
    await closed;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const view = req.method === 'GET' || req.method === 'HEAD' ? viewFor(url) : undefined;
    if (!view) {
      // RabbitMQ's answers: an unknown registry under /metrics/, the HTTP API's 404 elsewhere.
      if (url.pathname.startsWith('/metrics/')) {
        res.writeHead(404, { 'content-type': 'text/plain' });
        res.end('Unknown Registry');
      } else {
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end('{"error":"Object Not Found","reason":"Not Found"}');
      }
      return;
    }
    let body: Exposition;
    try {
      body = this.collector.collect(view);
    } catch (e) {
      res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(String((e as Error)?.message ?? e));
      return;
    }
    const gzip = /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
    if (req.method === 'HEAD') {
      res.writeHead(200, { 'content-type': CONTENT_TYPE });
      res.end();
      return;
    }
    if (!gzip) {
      res.writeHead(200, { 'content-type': CONTENT_TYPE, 'content-encoding': 'identity' });
      writeChunks(res, body.finish());
      return;
    }
    res.writeHead(200, { 'content-type': CONTENT_TYPE, 'content-encoding': 'gzip' });
    // Level 1: a large scrape compresses ~10x at a fraction of the default level's CPU.
    const z = createGzip({ level: 1 });
    z.pipe(res);
    writeChunks(z, body.finish());
  }
}

/** Write chunk after chunk, waiting for drain so a slow scraper does not buffer everything twice. */
function writeChunks(out: NodeJS.WritableStream, chunks: readonly Buffer[]): void {
  let i = 0;
  const next = (): void => {
    while (i < chunks.length) {
      if (!out.write(chunks[i++]!)) {
        out.once('drain', next);
        return;
      }
    }
    out.end();
  };
  next();
}

function viewFor(url: URL): View | undefined {
  switch (url.pathname) {
    case '/metrics':
      return { kind: 'aggregated' };
    case '/metrics/per-object':
      return { kind: 'per-object' };
    case '/metrics/detailed': {
      const families = new Set(url.searchParams.getAll('family').filter((f) => KNOWN_FAMILIES.has(f)));
      const vhosts = url.searchParams.getAll('vhost');
      return { kind: 'detailed', families, vhosts: vhosts.length > 0 ? new Set(vhosts) : undefined };
    }
    default:
      return undefined;
  }
}
