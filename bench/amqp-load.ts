// The independent Go load generator (../shared/tools/amqp-load): built once into a cache dir outside
// the repo (the shared tree is read-only), rebuilt when its sources change, run one scenario at a time.
import { createHash } from 'node:crypto';
import { chmodSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { log, run } from './proc.js';

const repoRoot = resolve(fileURLToPath(new URL('../..', import.meta.url)));

export function amqpLoadSourceDir(): string {
  return process.env['AMQP_LOAD_DIR'] ?? resolve(repoRoot, '../shared/tools/amqp-load');
}

function sourceHash(dir: string): string {
  const h = createHash('sha256');
  for (const f of readdirSync(dir).sort()) {
    if (/\.(go|mod|sh)$/.test(f)) h.update(f).update(readFileSync(join(dir, f)));
  }
  return h.digest('hex').slice(0, 16);
}

/** Path of a built amqp-load binary matching the current sources. */
export async function ensureAmqpLoad(): Promise<string> {
  const src = amqpLoadSourceDir();
  if (!existsSync(join(src, 'build.sh'))) throw new Error(`amqp-load sources not found at ${src} (set AMQP_LOAD_DIR)`);
  const hash = sourceHash(src);
  const work = join(os.tmpdir(), 'warren-bench', `amqp-load-${hash}`);
  const bin = join(work, 'amqp-load');
  if (existsSync(bin)) return bin;
  log(`building amqp-load from ${src} in ${work}`);
  rmSync(work, { recursive: true, force: true });
  mkdirSync(join(os.tmpdir(), 'warren-bench'), { recursive: true });
  cpSync(src, work, { recursive: true });
  chmodSync(work, 0o755);
  for (const f of readdirSync(work)) if (f !== 'third_party') chmodSync(join(work, f), 0o644);
  const r = await run('sh', [join(work, 'build.sh')], { cwd: work, timeoutMs: 15 * 60_000 });
  if (r.code !== 0 || !existsSync(bin)) throw new Error(`amqp-load build failed:\n${r.stderr}\n${r.stdout}`);
  writeFileSync(join(work, 'SOURCE'), `${src}\n`);
  return bin;
}

export type AmqpLoadResult = Record<string, number | string | null>;

export interface AmqpLoadTarget {
  url: string;
  brokerPid: number;
  extra?: string[];
}

/** Runs one amqp-load scenario and returns its JSON line (errors are reported in the result). */
export async function runAmqpLoad(bin: string, scenario: string, r: AmqpLoadTarget | null, seconds: number, warmup: number): Promise<AmqpLoadResult> {
  const args = ['--seconds', String(seconds), '--warmup', String(warmup), '--prefix', `bench-${process.pid}`];
  if (r) args.push('--url', r.url, '--broker-pid', String(r.brokerPid), ...(r.extra ?? []));
  args.push(scenario);
  const res = await run(bin, args, { timeoutMs: (seconds + warmup) * 1000 + 180_000 });
  const line = res.stdout.trim().split('\n').filter((l) => l.startsWith('{')).pop();
  if (!line) return { scenario, errors: 1, error_first: `amqp-load exited ${res.code}: ${res.stderr.trim().slice(-500)}` };
  return JSON.parse(line) as AmqpLoadResult;
}
