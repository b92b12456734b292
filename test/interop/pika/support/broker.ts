// The broker the Python interop tests talk to.
// Default: a Warren child process on ephemeral ports with its own data dir, restartable on that
// same data dir (durability scenarios). With WARREN_TEST_AMQP_URL set (while developing against
// the reference RabbitMQ) the tests use that broker instead and restart() is unavailable.
// Private stand-in for test/support/warren-process.ts until that shared helper exists.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, access } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { interopDir } from './python.js';

export interface TargetBroker {
  /** amqp://guest:guest@127.0.0.1:<port>/ */
  url: string;
  host: string;
  amqpPort: number;
  /** http://guest:guest@127.0.0.1:<port> (credentials included; admin.ts strips them into a header) */
  managementUrl: string;
  /** False for an external broker: it is shared and must not be restarted. */
  canRestart: boolean;
  restart(): Promise<void>;
  stop(): Promise<void>;
}

const repoRoot = path.resolve(interopDir, '../..');
const warrenCli = path.join(repoRoot, 'dist', 'src', 'cli', 'warren.js');

export function amqpUrl(host: string, port: number, user = 'guest', password = 'guest', vhost = '/'): string {
  return `amqp://${encodeURIComponent(user)}:${encodeURIComponent(password)}@${host}:${port}/${encodeURIComponent(vhost)}`;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function external(urlText: string): TargetBroker {
  const url = new URL(urlText);
  const amqpPort = Number(url.port || 5672);
  // RabbitMQ convention: management = AMQP port + 10000 (5672→15672, 5682→15682).
  const managementUrl =
    process.env.WARREN_TEST_MGMT_URL ?? `http://guest:guest@${url.hostname}:${amqpPort + 10000}`;
  const unavailable = async () => {
    throw new Error('the external broker (WARREN_TEST_AMQP_URL) is shared and cannot be restarted');
  };
  return {
    url: urlText,
    host: url.hostname,
    amqpPort,
    managementUrl,
    canRestart: false,
    restart: unavailable,
    stop: async () => {},
  };
}

class WarrenChild implements TargetBroker {
  url = '';
  host = '127.0.0.1';
  amqpPort = 0;
  managementUrl = '';
  canRestart = true;
  private child: ChildProcess | undefined;
  private log = '';

  constructor(
    private readonly dataDir: string,
    private readonly managementPort: number,
  ) {
    this.managementUrl = `http://guest:guest@127.0.0.1:${managementPort}`;
  }

  async start(): Promise<void> {
    // On restart keep the AMQP port, so URLs handed out earlier stay valid.
    const args = [
      warrenCli,
      '--port', String(this.amqpPort),
      '--bind', this.host,
      '--data-dir', this.dataDir,
      '--management-port', String(this.managementPort),
    ];
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    this.log = '';
    this.amqpPort = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`Warren did not log "listening" within 15 s\n${this.log}`)), 15_000);
      let buffered = '';
      child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
        this.log += chunk;
        buffered += chunk;
        let nl: number;
        while ((nl = buffered.indexOf('\n')) >= 0) {
          const line = buffered.slice(0, nl);
          buffered = buffered.slice(nl + 1);
          try {
            const entry = JSON.parse(line) as { msg?: string; port?: number };
            if (entry.msg === 'listening' && typeof entry.port === 'number') {
              clearTimeout(timer);
              resolve(entry.port);
            }
          } catch {
            // not a JSON log line
          }
        }
      });
      child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (this.log += chunk));
      child.on('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`Warren exited early (code ${code}, signal ${signal})\n${this.log}`));
      });
    });
    this.url = amqpUrl(this.host, this.amqpPort);
  }

  private async terminate(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }

  async restart(): Promise<void> {
    await this.terminate();
    await this.start();
  }

  async stop(): Promise<void> {
    await this.terminate();
    await rm(this.dataDir, { recursive: true, force: true });
  }
}

export async function startTargetBroker(): Promise<TargetBroker> {
  const externalUrl = process.env.WARREN_TEST_AMQP_URL;
  if (externalUrl) return external(externalUrl);
  await access(warrenCli).catch(() => {
    throw new Error(`${warrenCli} not found: build Warren first (npx tsc -p .)`);
  });
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'warren-python-interop-'));
  const broker = new WarrenChild(dataDir, await freePort());
  try {
    await broker.start();
  } catch (err) {
    await broker.stop();
    throw err;
  }
  return broker;
}
