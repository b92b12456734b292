/**
 * The management HTTP server: RabbitMQ's HTTP API under /api (basic auth, tag-based access, JSON),
 * the web UI under /, and an admin script at /cli/rabbitmqadmin. Built on node:http: the API is a
 * routing table over the broker's objects and needs nothing a framework would add.
 *
 * Every request is answered: errors become RabbitMQ's `{"error", "reason"}` bodies, and an
 * unexpected exception is logged and answered 500 without taking the broker down.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { ManagedBroker } from './managed-broker.js';
import { ANONYMOUS, authenticate, requireLevel } from './access.js';
import { CONTENT_SECURITY_POLICY, HttpError, Reply, objectNotFound, parseJsonObject, readBody, sendError, sendJson } from './http.js';
import { LazyList, shapeList, shapeObject } from './query.js';
import { Router, type Ctx } from './router.js';
import { authAttemptRoutes } from './routes/auth-attempts.js';
import { bindingRoutes } from './routes/bindings.js';
import { connectionRoutes } from './routes/connections.js';
import { streamConnectionRoutes } from './routes/stream-connections.js';
import { definitionRoutes } from './routes/definitions.js';
import { exchangeRoutes } from './routes/exchanges.js';
import { overviewRoutes } from './routes/overview.js';
import { policyRoutes } from './routes/policies.js';
import { limitRoutes } from './routes/limits.js';
import { queueRoutes } from './routes/queues.js';
import { userRoutes } from './routes/users.js';
import { vhostRoutes } from './routes/vhosts.js';
import { runtimeRoutes } from './routes/runtime.js';
import { diagnosticsRoutes } from './routes/diagnostics.js';
import { featureFlagRoutes } from './routes/feature-flags.js';
import { maintenanceRoutes } from './routes/maintenance.js';
import { healthRoutes } from './routes/health.js';
import { nodeRoutes } from './routes/nodes.js';
import { StatsCollector } from './stats.js';
import { staticAsset } from './ui/assets.js';
import { listenOn } from '../net/listen.js';
import { DEFAULT_TLS_HANDSHAKE_TIMEOUT_MS, peerCertificateRefusal, tlsServerOptions, type TlsOptions } from '../tls/tls-options.js';

export interface ManagementOptions {
  port: number;
  host: string;
  /** How often message rates are sampled, ms (default 5000, as RabbitMQ's collection interval). */
  sampleIntervalMs?: number;
  /** Serve HTTPS with these settings (management.ssl.*). */
  tls?: TlsOptions;
}

export class ManagementServer {
  readonly stats: StatsCollector;
  port = 0;
  private readonly router = new Router();
  private readonly http: Server | HttpsServer;
  private readonly sockets = new Set<Socket>();

  private constructor(
    private readonly broker: ManagedBroker,
    private readonly options: ManagementOptions,
  ) {
    this.stats = new StatsCollector(broker, options.sampleIntervalMs);
    for (const add of [overviewRoutes, nodeRoutes, healthRoutes, featureFlagRoutes, maintenanceRoutes, vhostRoutes, userRoutes, queueRoutes, exchangeRoutes, bindingRoutes, connectionRoutes, streamConnectionRoutes, definitionRoutes, policyRoutes, limitRoutes, authAttemptRoutes, runtimeRoutes, diagnosticsRoutes]) {
      add(this.router);
    }
    const handler = (req: IncomingMessage, res: ServerResponse) => void this.handle(req, res);
    const tls = options.tls;
    this.http = tls
      ? createHttpsServer({ ...tlsServerOptions(tls), handshakeTimeout: tls.handshakeTimeoutMs ?? DEFAULT_TLS_HANDSHAKE_TIMEOUT_MS }, handler)
      : createServer(handler);
    if (tls) {
      this.http.on('secureConnection', (s: TLSSocket) => {
        if (peerCertificateRefusal(tls, s)) s.destroy();
      });
    }
    this.http.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.once('close', () => this.sockets.delete(s));
    });
    // Slow or stuck clients must not hold the server: RabbitMQ's idle timeout is similar.
    this.http.requestTimeout = 60_000;
    this.http.headersTimeout = 30_000;
  }

  static async start(broker: ManagedBroker, options: ManagementOptions): Promise<ManagementServer> {
    const server = new ManagementServer(broker, options);
    server.port = await listenOn(server.http, { host: options.host, port: options.port }, options.tls ? 'management HTTPS' : 'management HTTP');
    server.stats.start();
    return server;
  }

  /** Re-reads the HTTPS certificate files (SIGHUP); open connections keep theirs. */
  reloadTls(): void {
    if (this.options.tls) (this.http as HttpsServer).setSecureContext(tlsServerOptions(this.options.tls));
  }

  async close(): Promise<void> {
    this.stats.stop();
    const closed = new Promise<void>((resolve) => this.http.close(() => resolve()));
    for (const s of this.sockets) s.destroy();
    await closed;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const url = new URL(req.url ?? '/', 'http://localhost');
      const path = url.pathname;
      if (!path.startsWith('/api/') && path !== '/api') {
        const asset = staticAsset(path);
        if (!asset || (req.method !== 'GET' && req.method !== 'HEAD')) throw objectNotFound();
        const gzip = asset.gzipped !== undefined && /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
        const body = gzip ? asset.gzipped! : asset.body;
        res.writeHead(200, {
          'content-type': asset.type,
          'content-length': body.length,
          vary: 'accept-encoding',
          ...(gzip ? { 'content-encoding': 'gzip' } : {}),
          ...asset.headers,
        });
        res.end(req.method === 'HEAD' ? undefined : body);
        return;
      }
      if (req.method === 'OPTIONS') {
        // No credentials needed, as RabbitMQ: browsers send CORS preflights without them.
        res.writeHead(200, { allow: this.router.allow(path), 'content-length': 0, 'content-security-policy': CONTENT_SECURITY_POLICY, vary: 'origin' });
        res.end();
        return;
      }
      let match;
      let user;
      try {
        match = this.router.match(req.method ?? 'GET', path);
        if (!match) throw objectNotFound();
        user = match.route.access === 'public' ? ANONYMOUS : authenticate(this.broker, req.headers.authorization, req.socket.remoteAddress ?? '');
        requireLevel(user, match.route.access);
      } catch (e) {
        if (e instanceof HttpError && !res.headersSent) return sendError(res, e, true);
        throw e;
      }
      let bodyPromise: Promise<Record<string, unknown>> | undefined;
      const ctx: Ctx = {
        broker: this.broker,
        stats: this.stats,
        managementPort: this.port,
        user,
        params: match.params,
        query: url.searchParams,
        req,
        body: () => (bodyPromise ??= readBody(req).then(parseJsonObject)),
      };
      const changes = this.broker.options.replication;
      const since = changes?.position ?? 0;
      const result = await match.route.handler(ctx);
      // Cluster leader: what a request changed on disk (a declare, an import...) is answered once
      // the followers have it, as AMQP's declare-ok: a new leader then knows what the client saw.
      const reading = req.method === 'GET' || req.method === 'HEAD';
      // Queue, exchange and binding changes are on disk only once the definitions log's group commit synced them.
      if (!reading) await new Promise<void>((resolve) => this.broker.whenDefinitionsStored(resolve));
      if (changes && !reading && changes.position > since) await new Promise<void>((resolve) => changes.whenReplicated(changes.position, resolve));
      this.reply(res, reading, result, url.searchParams);
    } catch (e) {
      if (e instanceof HttpError) {
        if (!res.headersSent) sendError(res, e);
        return;
      }
      this.broker.log('error', 'management API internal error', { method: req.method, url: req.url, error: String((e as Error)?.stack ?? e) });
      if (!res.headersSent) sendJson(res, 500, { error: 'internal_server_error', reason: String((e as Error)?.message ?? e) });
      else res.destroy();
    }
  }

  /**
   * Lists get sort/pagination/columns; plain objects columns; undefined is 204 No Content. Every
   * answer with a body is `cache-control: no-cache` (a POST …/get or …/publish too), as RabbitMQ.
   */
  private reply(res: ServerResponse, isRead: boolean, result: unknown, query: URLSearchParams): void {
    if (result instanceof Reply) {
      const body = isRead && result.body !== undefined ? this.shape(result.body, query) : result.body;
      sendJson(res, result.status, body, result.headers, body !== undefined);
      return;
    }
    if (result === undefined) {
      sendJson(res, 204, undefined);
      return;
    }
    sendJson(res, 200, isRead ? this.shape(result, query) : result, {}, true);
  }

  private shape(body: unknown, query: URLSearchParams): unknown {
    if (Array.isArray(body) || body instanceof LazyList) return shapeList(body as Record<string, unknown>[] | LazyList<unknown>, query);
    if (typeof body === 'object' && body !== null) return shapeObject(body as Record<string, unknown>, query);
    return body;
  }
}
