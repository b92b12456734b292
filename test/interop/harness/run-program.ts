// Runs one client program to completion and extracts its verdict. Every
// program in test/interop/<client>/ follows the same contract:
//   <program> <scenario> <amqp-url> <name-prefix>
// prints exactly one line `RESULT {json}` on stdout and exits 0, or explains
// itself on stderr and exits non-zero.
import { spawn } from 'node:child_process';

export interface ProgramRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** The parsed RESULT line, or undefined when the program printed none. */
  result: Record<string, unknown> | undefined;
}

export interface RunOptions {
  cwd?: string | undefined;
  env?: NodeJS.ProcessEnv | undefined;
  timeoutMs?: number;
  input?: string;
}

export function runProgram(command: string, args: string[], options: RunOptions = {}): Promise<ProgramRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
      stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    if (options.input !== undefined) child.stdin!.end(options.input);
    // A hung client must fail its test, not the whole suite's time budget.
    const timer = setTimeout(() => {
      stderr += `\n[harness] killed after ${options.timeoutMs ?? 30_000} ms`;
      child.kill('SIGKILL');
    }, options.timeoutMs ?? 30_000);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, result: parseResult(stdout) });
    });
  });
}

function parseResult(stdout: string): Record<string, unknown> | undefined {
  const line = stdout.split('\n').reverse().find((l) => l.startsWith('RESULT '));
  if (!line) return undefined;
  try {
    return JSON.parse(line.slice('RESULT '.length)) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

/** A failure message that shows everything needed to diagnose without rerunning. */
export function describeRun(run: ProgramRun, brokerLogs = ''): string {
  const parts = [
    `exit code ${run.code}${run.signal ? ` (signal ${run.signal})` : ''}`,
    `stdout:\n${run.stdout.trim().slice(-3000)}`,
    `stderr:\n${run.stderr.trim().slice(-3000)}`,
  ];
  if (brokerLogs) parts.push(`broker log tail:\n${brokerLogs.split('\n').slice(-30).join('\n')}`);
  return parts.join('\n');
}
