// Starts Warren as a real child process, the way an operator would, so tests
// exercise the shipped CLI (argument parsing, logging, signal handling) and
// not just the library entry point.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NODE_FLAGS, withNodeEnvironment } from '../../src/cli/node-flags.js';
import { freePort } from './free-port.js';

/** The repo root, from either `test/support/` (ts) or `dist/test/support/` (js). */
const here = fileURLToPath(new URL('.', import.meta.url));
export const repoRoot = here.includes('/dist/test/')
  ? join(here, '..', '..', '..')
  : join(here, '..', '..');
export const warrenCli = join(repoRoot, 'dist', 'src', 'cli', 'warren.js');

export interface WarrenProcess {
  amqpPort: number;
  /** 0 when the management API was not requested. */
  managementPort: number;
  /** amqp://guest:guest@127.0.0.1:PORT/%2F (the default vhost, explicitly encoded). */
  url: string;
  /** http://127.0.0.1:PORT, or '' when management is disabled. */
  managementUrl: string;
  dataDir: string;
  /** The last lines Warren wrote, for failure messages. */
  logs(): string;
  /** SIGTERM, then SIGKILL after a grace period; removes the data dir it created. */
  stop(): Promise<void>;
  /** Stops and starts again on the same ports and data dir (for durability tests). */
  restart(): Promise<void>;
  /** SIGKILL, waiting for the exit (restart() starts it again). */
  kill(): Promise<void>;
}

export interface StartOptions {
  /** Serve the HTTP management API on a free port (default true). */
  management?: boolean;
  /** Reuse an existing data dir instead of a fresh temporary one. */
  dataDir?: string;
  /** Extra CLI arguments. */
  args?: string[];
  /** How long to wait for the "listening" log line (default 15 s). */
  startTimeoutMs?: number;
  /** Start under this limit of open files (`ulimit -n` in a shell that then execs node). */
  fileLimit?: number;
}


// Children still alive when the test process exits are killed, so a failed
// or interrupted test never leaves a broker behind.
const liveChildren = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of liveChildren) child.kill('SIGKILL');
});

export async function startWarren(options: StartOptions = {}): Promise<WarrenProcess> {
  if (!existsSync(warrenCli)) {
    throw new Error(`Warren is not built: ${warrenCli} is missing (run npx tsc -p .)`);
  }
  const ownsDataDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'warren-test-'));
  const wantManagement = options.management ?? true;
  let managementPort = wantManagement ? await freePort() : 0;
  let amqpPort = 0;
  let child: ChildProcess | undefined;
  let logTail: string[] = [];

  const launch = async (port: number): Promise<void> => {
    const args = [
      ...NODE_FLAGS,
      warrenCli,
      '--port', String(port),
      '--bind', '127.0.0.1',
      '--data-dir', dataDir,
      '--management-port', String(managementPort), '--prometheus-port', '0',
      ...(options.args ?? []),
    ];
    const proc = options.fileLimit === undefined
      ? spawn(process.execPath, args, { env: withNodeEnvironment(), stdio: ['ignore', 'pipe', 'pipe'] })
      : spawn('/bin/sh', ['-c', `ulimit -n ${options.fileLimit} && exec "$0" "$@"`, process.execPath, ...args], { env: withNodeEnvironment(), stdio: ['ignore', 'pipe', 'pipe'] });
    child = proc;
    liveChildren.add(proc);
    proc.on('exit', () => liveChildren.delete(proc));
    amqpPort = await waitForListening(proc, options.startTimeoutMs ?? 15_000, managementPort, (line) => {
      logTail.push(line);
      if (logTail.length > 200) logTail = logTail.slice(-100);
    });
  };

  const stopChild = async (): Promise<void> => {
    const proc = child;
    child = undefined;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    proc.kill('SIGTERM');
    const timer = setTimeout(() => proc.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  };

  // freePort() probes, then Warren binds: another test may take the management port in between.
  // Then it fails to start naming that port, and it is started again with another one.
  for (let attempt = 1; ; attempt++) {
    try {
      await launch(0);
      break;
    } catch (err) {
      const portTaken = logTail.some((line) => line.includes('cannot listen for management HTTP') && line.includes('address already in use'));
      if (!wantManagement || !portTaken || attempt === 3) throw err;
      managementPort = await freePort();
      logTail = [];
    }
  }
  const handle: WarrenProcess = {
    get amqpPort() { return amqpPort; },
    get managementPort() { return managementPort; },
    get url() { return `amqp://guest:guest@127.0.0.1:${amqpPort}/%2F`; },
    get managementUrl() { return managementPort ? `http://127.0.0.1:${managementPort}` : ''; },
    dataDir,
    logs: () => logTail.join('\n'),
    async stop() {
      await stopChild();
      if (ownsDataDir) rmSync(dataDir, { recursive: true, force: true });
    },
    async restart() {
      await stopChild();
      await launch(amqpPort);
    },
    async kill() {
      const proc = child;
      if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
      proc.kill('SIGKILL');
      await exited;
    },
  };
  return handle;
}

/** Resolves with the AMQP port from Warren's `"msg":"listening"` JSON log line. */
function waitForListening(
  proc: ChildProcess,
  timeoutMs: number,
  ignorePort: number,
  onLine: (line: string) => void,
): Promise<number> {
  return new Promise((resolve, reject) => {
    let buffered = '';
    let settled = false;
    const finish = (error: Error | undefined, port?: number) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (error) {
        proc.kill('SIGKILL');
        reject(error);
      } else {
        resolve(port!);
      }
    };
    const timer = setTimeout(
      () => finish(new Error(`Warren did not log "listening" within ${timeoutMs} ms`)),
      timeoutMs,
    );
    const onData = (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      let newline: number;
      while ((newline = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        onLine(line);
        const port = listeningPort(line);
        // The management listener may log "listening" too: skip its port.
        if (port !== undefined && port !== ignorePort) finish(undefined, port);
      }
    };
    proc.stdout?.on('data', onData);
    proc.stderr?.on('data', (chunk: Buffer) => {
      for (const line of chunk.toString('utf8').split('\n')) if (line) onLine(line);
    });
    // 'close', not 'exit': by then every line it wrote to stderr has been read (startWarren looks
    // there for the reason, e.g. a port taken since it was probed).
    proc.once('close', (code, signal) =>
      finish(new Error(`Warren exited before listening (code ${code}, signal ${signal})`)),
    );
    proc.once('error', (error) => finish(error));
  });
}

function listeningPort(line: string): number | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    const entry = JSON.parse(line) as { msg?: unknown; port?: unknown };
    if (entry.msg === 'listening' && typeof entry.port === 'number') return entry.port;
  } catch {
    // Not a JSON log line: ignore.
  }
  return undefined;
}

/**
 * The broker a test suite talks to: a fresh Warren by default, or an already
 * running broker named by WARREN_TEST_AMQP_URL (and WARREN_TEST_MGMT_URL),
 * which is how a scenario is checked against the reference RabbitMQ.
 */
export interface BrokerUnderTest {
  /** AMQP URL with guest credentials and the default vhost. */
  url: string;
  host: string;
  amqpPort: number;
  /** Management API base URL, or '' when there is none. */
  managementUrl: string;
  /** True when the broker was not started by this process. */
  external: boolean;
  logs(): string;
  stop(): Promise<void>;
}

export async function startBrokerUnderTest(): Promise<BrokerUnderTest> {
  const externalUrl = process.env.WARREN_TEST_AMQP_URL;
  if (externalUrl) {
    const parsed = new URL(externalUrl);
    return {
      url: externalUrl,
      host: parsed.hostname,
      amqpPort: Number(parsed.port || 5672),
      managementUrl: (process.env.WARREN_TEST_MGMT_URL ?? '').replace(/\/$/, ''),
      external: true,
      logs: () => '',
      stop: async () => {},
    };
  }
  const warren = await startWarren();
  return {
    url: warren.url,
    host: '127.0.0.1',
    amqpPort: warren.amqpPort,
    managementUrl: warren.managementUrl,
    external: false,
    logs: warren.logs,
    stop: warren.stop,
  };
}
