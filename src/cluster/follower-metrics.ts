/**
 * A follower's Prometheus endpoint: it runs no broker, so it serves on the broker's Prometheus port
 * only what is true of itself — rabbitmq_identity_info (node, cluster_name), Warren's cluster
 * families (not leader, in sync or not, replication lag) and the process's start time — so every
 * node can be scraped, and a scrape never reports the leader's figures under a follower's name.
 */
import { createServer, type Server } from 'node:http';
import type { Socket } from 'node:net';
import { writeClusterState, writeIdentity, type NodeClusterState } from '../metrics/cluster-families.js';
import { Exposition } from '../metrics/exposition.js';
import { PROCESS_START_TIME } from '../metrics/families.js';
import { clusterPermanentId } from '../metrics/node-stats.js';
import { listenOn } from '../net/listen.js';

export class FollowerMetrics {
  private readonly sockets = new Set<Socket>();
  port = 0;

  private constructor(private readonly http: Server) {
    http.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.once('close', () => this.sockets.delete(s));
    });
  }

  static async start(o: { host: string; port: number; node: string; cluster: string; dataDir: string; state: () => NodeClusterState }): Promise<FollowerMetrics> {
    const started = Math.floor(Date.now() / 1000);
    const http = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0];
      if (req.method !== 'GET' || !path?.startsWith('/metrics')) {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('Not Found\n');
        return;
      }
      const e = new Exposition();
      e.single('', PROCESS_START_TIME, started);
      writeIdentity(e, o.node, o.cluster, clusterPermanentId(o.dataDir));
      writeClusterState(e, o.state());
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(e.toString());
    });
    const m = new FollowerMetrics(http);
    m.port = await listenOn(http, { host: o.host, port: o.port }, 'Prometheus (follower)');
    return m;
  }

  close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    return new Promise((resolve) => this.http.close(() => resolve()));
  }
}
