// Runs the Python client programs of the interop suite and turns their output into data the
// node:test files can assert on. Every program prints one JSON object per line on stdout
// (see report() in the Python common modules); anything else on stdout is kept as raw text.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

// The Debian packages (python3-pika, python3-celery, ...) live in the system interpreter's
// dist-packages; a python3 earlier on PATH (pyenv, venv) would not see them.
export const pythonExe = process.env.WARREN_PYTHON ?? '/usr/bin/python3';

// dist/test/interop/pika/support/python.js → repo root is five levels up; the .py programs are
// not compiled, so they are read from the source tree.
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../../..');
export const interopDir = path.join(repoRoot, 'test', 'interop');

export type Event = Record<string, unknown> & { event: string };

export interface PythonResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  events: Event[];
}

/** Version of an installed Python module, for the describe() titles ("pika 1.2.0"). */
export function pythonModuleVersion(module: string): string {
  try {
    return execFileSync(pythonExe, ['-c', `import ${module}; print(${module}.__version__)`], {
      encoding: 'utf8',
      timeout: 20_000,
    }).trim();
  } catch {
    return 'not-installed';
  }
}

const running = new Set<ChildProcess>();

/** Kills every Python child still alive; call it from after() so no process outlives the file. */
export function killAllPython(): void {
  for (const child of running) child.kill('SIGKILL');
  running.clear();
}

function baseEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  return {
    ...process.env,
    PYTHONDONTWRITEBYTECODE: '1', // no __pycache__ folders inside the source tree
    PYTHONUNBUFFERED: '1', // lines reach us as they are printed, not at exit
    ...extra,
  };
}

function parseEvents(stdout: string): Event[] {
  const events: Event[] = [];
  for (const line of stdout.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      const value = JSON.parse(line) as Event;
      if (typeof value.event === 'string') events.push(value);
    } catch {
      // a stray line starting with '{' is not one of ours
    }
  }
  return events;
}

/** A long-running Python process (a server, a Celery worker) whose output can be awaited. */
export class PythonProcess {
  readonly child: ChildProcess;
  stdout = '';
  stderr = '';
  private readonly exited: Promise<PythonResult>;
  private waiters: Array<() => void> = [];

  constructor(args: string[], opts: { env?: Record<string, string>; cwd?: string } = {}) {
    this.child = spawn(pythonExe, args, {
      cwd: opts.cwd ?? interopDir,
      env: baseEnv(opts.env ?? {}),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    running.add(this.child);
    this.child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      this.stdout += chunk;
      this.wake();
    });
    this.child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      this.stderr += chunk;
      this.wake();
    });
    this.exited = new Promise((resolve) => {
      this.child.on('close', (code, signal) => {
        running.delete(this.child);
        this.wake();
        resolve({ code, signal, stdout: this.stdout, stderr: this.stderr, events: this.events });
      });
    });
  }

  get events(): Event[] {
    return parseEvents(this.stdout);
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  /** Resolves once `predicate` holds for the output so far; rejects on exit or timeout. */
  async waitFor(description: string, predicate: (p: PythonProcess) => boolean, timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate(this)) {
      if (!this.alive) throw new Error(`python exited before ${description}\n${this.describe()}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${description}\n${this.describe()}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 500));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  waitForEvent(name: string, timeoutMs?: number): Promise<void> {
    return this.waitFor(`event "${name}"`, (p) => p.events.some((e) => e.event === name), timeoutMs);
  }

  /** Waits for a natural exit, killing the process if it takes longer than timeoutMs. */
  async wait(timeoutMs = 60_000): Promise<PythonResult> {
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Asks politely (SIGTERM: Celery workers shut down warm), then insists. */
  async stop(graceMs = 10_000): Promise<PythonResult> {
    if (this.alive) this.child.kill('SIGTERM');
    return this.wait(graceMs);
  }

  describe(): string {
    return `--- stdout ---\n${this.stdout.slice(-4000)}\n--- stderr ---\n${this.stderr.slice(-4000)}`;
  }
}

/** Runs a program to completion. `script` is relative to test/interop/. */
export async function runPython(
  script: string,
  args: string[] = [],
  opts: { env?: Record<string, string>; timeoutMs?: number; cwd?: string } = {},
): Promise<PythonResult> {
  const proc = new PythonProcess([path.join(interopDir, script), ...args], opts);
  return proc.wait(opts.timeoutMs ?? 60_000);
}

/** Human-readable dump for assertion messages. */
export function explain(result: PythonResult): string {
  return (
    `exit code ${result.code}${result.signal ? ` (signal ${result.signal})` : ''}\n` +
    `--- stdout ---\n${result.stdout.slice(-4000)}\n--- stderr ---\n${result.stderr.slice(-4000)}`
  );
}

/** The events named `name`, in order. */
export function eventsNamed(result: { events: Event[] }, name: string): Event[] {
  return result.events.filter((e) => e.event === name);
}

/** The single event named `name`; throws with the whole output when missing. */
export function theEvent(result: PythonResult, name: string): Event {
  const found = eventsNamed(result, name);
  if (found.length !== 1) throw new Error(`expected exactly one "${name}" event, got ${found.length}\n${explain(result)}`);
  return found[0]!;
}
