/**
 * A real etcd (Debian's etcd-server) for tests: one member on free ports of loopback (or of `host`:
 * the partition test puts it on a bridge) with its own data dir, waited for until its HTTP/JSON
 * gateway answers. `stop()` kills it and removes the data dir; every etcd still running when the
 * test process exits is killed, so none is left behind.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port.js';

export interface EtcdServer {
  /** host:port of the client listener, as rabbitmq.conf's cluster_formation.etcd.endpoints.N takes it. */
  readonly endpoint: string;
  readonly host: string;
  readonly clientPort: number;
  readonly dataDir: string;
  readonly pid: number;
  /** The last lines etcd wrote, for failure messages. */
  logs(): string;
  /** SIGKILL, wait for the exit, remove the data dir. */
  stop(): Promise<void>;
}

const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of live) c.kill('SIGKILL');
});

/** True when the etcd binary is installed (tests needing it skip with a message otherwise). */
export function etcdAvailable(): boolean {
  return spawnSync('etcd', ['--version'], { stdio: 'ignore' }).status === 0;
}

/** HTTPS for etcd's client port: its certificate chain and key, and the CA bundle client certificates must chain to. */
export interface EtcdTlsFiles {
  certFile: string;
  keyFile: string;
  trustedCaFile: string;
  /** A client certificate (and key) for the health probe: etcd then requires one from every client. */
  client?: { certFile: string; keyFile: string; caFile: string };
}

export async function startEtcd(o: { timeoutMs?: number; host?: string; tls?: EtcdTlsFiles } = {}): Promise<EtcdServer> {
  const host = o.host ?? '127.0.0.1';
  const dataDir = mkdtempSync(join(tmpdir(), 'warren-etcd-'));
  const clientPort = await freePort();
  const peerPort = await freePort();
  const client = `${o.tls ? 'https' : 'http'}://${host}:${clientPort}`;
  const tlsArgs = o.tls
    ? ['--cert-file', o.tls.certFile, '--key-file', o.tls.keyFile, '--trusted-ca-file', o.tls.trustedCaFile, ...(o.tls.client ? ['--client-cert-auth'] : [])]
    : [];
  const peer = `http://${host}:${peerPort}`;
  const child = spawn('etcd', [
    '--name', 'test', '--data-dir', join(dataDir, 'member'),
    '--listen-client-urls', client, '--advertise-client-urls', client,
    '--listen-peer-urls', peer, '--initial-advertise-peer-urls', peer,
    '--initial-cluster', `test=${peer}`, '--initial-cluster-state', 'new',
    '--logger', 'zap', '--log-level', 'warn', ...tlsArgs,
  ], { stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  let tail: string[] = [];
  const keep = (chunk: Buffer) => {
    tail.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    if (tail.length > 200) tail = tail.slice(-100);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => {
    live.delete(child);
    resolve();
  }));
  const server: EtcdServer = {
    endpoint: `${host}:${clientPort}`,
    host,
    clientPort,
    dataDir,
    pid: child.pid ?? 0,
    logs: () => tail.join('\n'),
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  const deadline = Date.now() + (o.timeoutMs ?? 30_000);
  // A busy machine can take seconds to elect the single member: poll /health until it says true.
  while (!(await healthy(host, clientPort, o.tls))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await server.stop();
      throw new Error(`etcd did not become healthy on ${host}:${clientPort}:\n${tail.join('\n')}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return server;
}

function healthy(host: string, port: number, tls: EtcdTlsFiles | undefined): Promise<boolean> {
  return new Promise((resolve) => {
    const c = tls?.client;
    const get = tls ? httpsRequest : request;
    const secure = c ? { ca: readFileSync(c.caFile), cert: readFileSync(c.certFile), key: readFileSync(c.keyFile) } : tls ? { rejectUnauthorized: false } : {};
    const req = get({ host, port, path: '/health', timeout: 1000, ...secure }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve(res.statusCode === 200 && body.includes('"true"')));
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}
