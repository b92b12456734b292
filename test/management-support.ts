/**
 * Shared by the management, permission and warrenctl tests: an in-process broker with the
 * management API on a free port, and small HTTP/AMQP helpers.
 *
 * Set WARREN_TEST_REFERENCE="amqp://127.0.0.1:5682 http://127.0.0.1:15682" to run the same
 * scenarios against a real RabbitMQ (admin guest/guest) instead: that is how the expectations in
 * these tests were checked. Everything a test creates there is deleted again.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import amqp from 'amqplib';
import { Broker } from '../src/index.js';
import { freePort } from './support/free-port.js';

export interface Target {
  /** amqp://user:pass@host:port/vhost */
  amqpUrl(user: string, password: string, vhost?: string): string;
  /** http://host:port */
  managementUrl: string;
  /** http://host:port of the Prometheus endpoint, when asked for (WARREN_TEST_PROMETHEUS_URL against a reference). */
  prometheusUrl?: string;
  /** The in-process broker; undefined against a reference RabbitMQ. */
  broker: Broker | undefined;
  isReference: boolean;
  close(): Promise<void>;
}


/** A broker with the management API; retried when the probed port was taken in between. */
export async function startTarget(options: { allowReference?: boolean; prometheus?: boolean } = {}): Promise<Target> {
  const reference = process.env['WARREN_TEST_REFERENCE'];
  if (reference && options.allowReference !== false) {
    const [amqpBase, mgmt] = reference.split(/\s+/) as [string, string];
    const base = new URL(amqpBase);
    const prometheusUrl = process.env['WARREN_TEST_PROMETHEUS_URL'];
    if (options.prometheus && !prometheusUrl) throw new Error('set WARREN_TEST_PROMETHEUS_URL with WARREN_TEST_REFERENCE');
    return {
      ...(prometheusUrl ? { prometheusUrl } : {}),
      amqpUrl: (user, password, vhost = '/') => `amqp://${encodeURIComponent(user)}:${encodeURIComponent(password)}@${base.host}/${encodeURIComponent(vhost)}`,
      managementUrl: mgmt.replace(/\/$/, ''),
      broker: undefined,
      isReference: true,
      close: async () => {},
    };
  }
  const dataDir = mkdtempSync(join(tmpdir(), 'warren-mgmt-test-'));
  let lastError: unknown;
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      const broker = await Broker.start({
        port: 0, host: '127.0.0.1', dataDir, managementPort: await freePort(), prometheusPort: options.prometheus ? await freePort() : 0, logLevel: 'error',
      });
      return {
        ...(options.prometheus ? { prometheusUrl: `http://127.0.0.1:${broker.prometheusPort}` } : {}),
        amqpUrl: (user, password, vhost = '/') =>
          `amqp://${encodeURIComponent(user)}:${encodeURIComponent(password)}@127.0.0.1:${broker.port}/${encodeURIComponent(vhost)}`,
        managementUrl: `http://127.0.0.1:${broker.managementPort}`,
        broker,
        isReference: false,
        close: async () => {
          await broker.close();
          rmSync(dataDir, { recursive: true, force: true });
        },
      };
    } catch (e) {
      lastError = e;
      if ((e as NodeJS.ErrnoException).code !== 'EADDRINUSE') break;
    }
  }
  rmSync(dataDir, { recursive: true, force: true });
  throw lastError;
}

export interface ApiAnswer {
  status: number;
  headers: Headers;
  /** Parsed JSON when the body is JSON, else the text ('' when empty). */
  body: any;
}

/** One HTTP call to the management API as `user` (guest by default). */
export async function api(
  target: Target | string,
  method: string,
  path: string,
  body?: unknown,
  auth: { user: string; password: string } | null = { user: 'guest', password: 'guest' },
  headers: Record<string, string> = {},
): Promise<ApiAnswer> {
  const base = typeof target === 'string' ? target : target.managementUrl;
  const res = await fetch(base + path, {
    method,
    headers: {
      ...(auth ? { authorization: `Basic ${Buffer.from(`${auth.user}:${auth.password}`).toString('base64')}` } : {}),
      'content-type': 'application/json',
      ...headers,
    },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  const text = await res.text();
  let parsed: unknown = text;
  if (text && (res.headers.get('content-type') ?? '').includes('json')) parsed = JSON.parse(text);
  return { status: res.status, headers: res.headers, body: parsed };
}

/** Fails the test with the answer when the status is not the expected one. */
export async function apiOk(target: Target | string, method: string, path: string, body?: unknown, expect?: number): Promise<ApiAnswer> {
  const a = await api(target, method, path, body);
  const ok = expect === undefined ? a.status >= 200 && a.status < 300 : a.status === expect;
  if (!ok) throw new Error(`${method} ${path} answered ${a.status}: ${JSON.stringify(a.body)}`);
  return a;
}

export const seg = encodeURIComponent;

export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}

/** An AMQP connection that does not crash the test process on connection-level errors. */
export async function connect(url: string): Promise<amqp.ChannelModel> {
  const c = await amqp.connect(url);
  c.on('error', () => {});
  return c;
}

/** Waits until `check` holds (management stats and AMQP effects are asynchronous). */
export async function eventually(check: () => Promise<boolean> | boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}

const WARRENCTL = fileURLToPath(new URL('../src/cli/warrenctl.js', import.meta.url));

export interface CtlRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the built warrenctl against the management API at `url` (with credentials). */
export function runWarrenctl(url: string, args: string[], stdin?: string): Promise<CtlRun> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [WARRENCTL, ...args], {
      env: { ...process.env, WARREN_MANAGEMENT_URL: url },
      timeout: 30_000,
    }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
    child.stdin!.end(stdin ?? '');
  });
}
