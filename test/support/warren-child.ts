// A Warren child process for durability tests: unlike warren-process.ts (graceful stop/restart on
// the same ports), this one exposes the pid and any signal, so a test can SIGKILL the broker mid-
// load, read its memory from /proc, and inspect the JSON lines it logged during recovery.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { NODE_FLAGS, withNodeEnvironment } from '../../src/cli/node-flags.js';
import { warrenCli } from './warren-process.js';
import { freePort } from './free-port.js';

export interface LogLine {
  msg?: string;
  level?: string;
  [field: string]: unknown;
}

export interface WarrenChild {
  pid: number;
  amqpPort: number;
  /** 0 when started without the management API. */
  managementPort: number;
  url: string;
  managementUrl: string;
  dataDir: string;
  /** Every JSON line logged so far, parsed (recovery reports are read from these). */
  logs: LogLine[];
  /** The last raw lines (stdout and stderr), for failure messages. */
  tail(): string;
  /** Resolves when the process has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  alive(): boolean;
  /** Sends the signal and waits for the exit (SIGKILL follows after 10 s if it lingers). */
  kill(signal: NodeJS.Signals): Promise<void>;
}

export interface ChildOptions {
  dataDir: string;
  /** Serve the management API on a free port. */
  management?: boolean;
  args?: string[];
  startTimeoutMs?: number;
}

// Children alive when the test process exits are killed: a failed test leaves no broker behind.
const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

export async function spawnWarren(options: ChildOptions): Promise<WarrenChild> {
  if (!existsSync(warrenCli)) throw new Error(`Warren is not built: ${warrenCli} is missing (run npx tsc -p .)`);
  const managementPort = options.management ? await freePort() : 0;
  const args = [
    ...NODE_FLAGS,
    warrenCli,
    '--port', '0',
    '--bind', '127.0.0.1',
    '--data-dir', options.dataDir,
    '--management-port', String(managementPort), '--prometheus-port', '0',
    ...(options.args ?? []),
  ];
  const proc = spawn(process.execPath, args, { env: withNodeEnvironment(), stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(proc);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.once('exit', (code, signal) => {
      live.delete(proc);
      resolve({ code, signal });
    }),
  );
  const logs: LogLine[] = [];
  let tail: string[] = [];
  const keep = (line: string): void => {
    tail.push(line);
    if (tail.length > 400) tail = tail.slice(-200);
  };
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`Warren did not log "listening" within ${options.startTimeoutMs ?? 20_000} ms\n${tail.join('\n')}`));
    }, options.startTimeoutMs ?? 20_000);
    let buffered = '';
    proc.stdout!.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        keep(line);
        const entry = parseLine(line);
        if (!entry) continue;
        logs.push(entry);
        if (entry.msg === 'listening' && typeof entry['port'] === 'number') {
          clearTimeout(timer);
          resolve(entry['port']);
        }
      }
    });
    proc.stderr!.on('data', (chunk: Buffer) => {
      for (const line of chunk.toString('utf8').split('\n')) if (line) keep(line);
    });
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`Warren exited before listening (code ${code}, signal ${signal})\n${tail.join('\n')}`));
    });
  });

  const alive = (): boolean => proc.exitCode === null && proc.signalCode === null;
  return {
    pid: proc.pid!,
    amqpPort: port,
    managementPort,
    url: `amqp://guest:guest@127.0.0.1:${port}/%2F`,
    managementUrl: managementPort ? `http://127.0.0.1:${managementPort}` : '',
    dataDir: options.dataDir,
    logs,
    tail: () => tail.join('\n'),
    exited,
    alive,
    async kill(signal) {
      if (!alive()) return;
      proc.kill(signal);
      const timer = setTimeout(() => proc.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

function parseLine(line: string): LogLine | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    return JSON.parse(line) as LogLine;
  } catch {
    return undefined;
  }
}

/** Resident set size of a process in bytes, from /proc (undefined once it is gone). */
export function residentBytes(pid: number): number | undefined {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}
