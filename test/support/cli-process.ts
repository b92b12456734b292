/**
 * Runs the built `warren` CLI (dist/src/cli/warren.js) as a child process and reads its JSON log
 * lines, for tests of start-up, logging and signal handling. Every child is killed when the test
 * process exits, so a failing test never leaves a broker behind.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { after } from 'node:test';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { NODE_FLAGS, withNodeEnvironment } from '../../src/cli/node-flags.js';

const here = fileURLToPath(new URL('.', import.meta.url));
/** The checkout root, from test/support (ts) or dist/test/support (js). */
export const checkoutRoot = here.includes('/dist/test/') ? join(here, '..', '..', '..') : join(here, '..', '..');
export const warrenCli = join(checkoutRoot, 'dist', 'src', 'cli', 'warren.js');

const children = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of children) {
    try {
      // Detached children lead their own process group: kill the whole group (npm → sh → node).
      if (c.pid) process.kill(-c.pid, 'SIGKILL');
    } catch {
      c.kill('SIGKILL');
    }
  }
});

export interface LogLine {
  msg?: string;
  level?: string;
  [key: string]: unknown;
}

export class CliProcess {
  readonly lines: LogLine[] = [];
  readonly stderr: string[] = [];
  readonly startedAt = performance.now();
  exitCode: number | null = null;
  signal: NodeJS.Signals | null = null;
  readonly exited: Promise<void>;
  private waiters: Array<() => void> = [];

  constructor(readonly child: ChildProcess) {
    children.add(child);
    let buf = '';
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      buf += chunk;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (!line.startsWith('{')) continue;
        try {
          this.lines.push(JSON.parse(line) as LogLine);
        } catch {
          // not a log line
        }
        this.wake();
      }
    });
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => this.stderr.push(chunk));
    this.exited = new Promise((resolve) =>
      // 'close', not 'exit': it comes after stdout and stderr are fully read, so nothing printed is missed.
      child.once('close', (code, signal) => {
        this.exitCode = code;
        this.signal = signal;
        children.delete(child);
        this.wake();
        resolve();
      }),
    );
  }

  /** Starts `node dist/src/cli/warren.js ARGS`. */
  static start(args: string[], env: NodeJS.ProcessEnv = {}): CliProcess {
    return new CliProcess(spawn(process.execPath, [...NODE_FLAGS, warrenCli, ...args], {
      cwd: checkoutRoot, env: withNodeEnvironment({ ...process.env, ...env }), stdio: ['ignore', 'pipe', 'pipe'], detached: true,
    }));
  }

  /** Starts an arbitrary command from the checkout (e.g. `npm start -- ...`). */
  static command(cmd: string, args: string[]): CliProcess {
    return new CliProcess(spawn(cmd, args, { cwd: checkoutRoot, env: process.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true }));
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** Resolves with the first log line matching, or rejects on timeout or exit. */
  async waitForLine(pred: (l: LogLine) => boolean, timeoutMs = 5000): Promise<LogLine> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.lines.find(pred);
      if (hit) return hit;
      if (this.exitCode !== null || this.signal !== null) throw new Error(`warren exited (${this.exitCode ?? this.signal}) before the expected log line; stderr: ${this.stderr.join('')}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no matching log line within ${timeoutMs} ms; got: ${JSON.stringify(this.lines).slice(0, 1000)}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** The "listening" line of the AMQP listener (with its port), and ms from spawn to it. */
  async listening(timeoutMs = 5000): Promise<{ port: number; ms: number }> {
    const line = await this.waitForLine((l) => l.msg === 'listening' && typeof l['port'] === 'number', timeoutMs);
    return { port: line['port'] as number, ms: performance.now() - this.startedAt };
  }

  signalGroup(signal: NodeJS.Signals): void {
    if (this.exitCode !== null || this.signal !== null || !this.child.pid) return;
    try {
      process.kill(-this.child.pid, signal);
    } catch {
      this.child.kill(signal);
    }
  }

  /** Waits for exit; SIGKILLs the group if it takes longer than timeoutMs. Returns true if it exited by itself. */
  async waitExit(timeoutMs: number): Promise<boolean> {
    let t: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      this.exited.then(() => false),
      new Promise<boolean>((resolve) => (t = setTimeout(() => resolve(true), timeoutMs))),
    ]);
    clearTimeout(t);
    if (timedOut) {
      this.signalGroup('SIGKILL');
      await this.exited;
    }
    return !timedOut;
  }

  /** SIGTERM, then SIGKILL after a grace period. */
  async stop(): Promise<void> {
    this.signalGroup('SIGTERM');
    await this.waitExit(5000);
  }
}


export interface WarrenProcesses {
  /** Starts `warren ARGS` (see CliProcess.start); stopped in the suite's after hook. */
  start(args: string[], env?: NodeJS.ProcessEnv): CliProcess;
  /** Any other process of the suite (e.g. CliProcess.command), stopped with the rest. */
  adopt(p: CliProcess): CliProcess;
  /** A fresh scratch directory, removed in the suite's after hook. */
  tmp(): string;
}

/**
 * The warren processes and scratch directories of one describe(): call it inside the describe;
 * it registers the after hook that stops every process and removes every directory.
 */
export function warrenProcesses(dirPrefix = 'warren-cli-test-'): WarrenProcesses {
  const procs: CliProcess[] = [];
  const dirs: string[] = [];
  after(async () => {
    await Promise.all(procs.map((p) => p.stop()));
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });
  const adopt = (p: CliProcess) => {
    procs.push(p);
    return p;
  };
  return {
    start: (args, env = {}) => adopt(CliProcess.start(args, env)),
    adopt,
    tmp() {
      const d = mkdtempSync(join(tmpdir(), dirPrefix));
      dirs.push(d);
      return d;
    },
  };
}
