// Builds a compiled client's program once per test run, into a temporary
// directory (never into the repo), and reports the compiler's output on failure.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A temporary directory for build output, removed when the test process exits. */
export function buildDir(client: string): string {
  const dir = mkdtempSync(join(tmpdir(), `warren-interop-${client}-`));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export function runBuild(command: string, args: string[], cwd?: string, timeoutMs = 240_000): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { cwd, timeout: timeoutMs, maxBuffer: 8 << 20 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${command} ${args.join(' ')} failed: ${error.message}\n${stdout}\n${stderr}`));
      else resolve();
    });
  });
}
