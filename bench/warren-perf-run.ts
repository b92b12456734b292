// Runs the warren-perf CLI as its own process (like amqp-load, so it never shares a runtime with the
// broker) and returns its JSON summary.
import { fileURLToPath } from 'node:url';
import type { PerfSummary } from '../src/perf/runner.js';
import { run } from './proc.js';

const cli = fileURLToPath(new URL('../src/cli/warren-perf.js', import.meta.url));

export async function runWarrenPerf(args: string[], timeoutMs: number): Promise<PerfSummary | { error: string }> {
  const r = await run(process.execPath, [cli, ...args, '--json', '--quiet'], { timeoutMs });
  const line = r.stdout.trim().split('\n').filter((l) => l.startsWith('{')).pop();
  if (!line) return { error: `warren-perf exited ${r.code}: ${r.stderr.trim().slice(-500)}` };
  return JSON.parse(line) as PerfSummary;
}

/** The topic-routing shape of amqp-load, for warren-perf: 1000 bindings over 10 queues, 1000 keys. */
export function topicKeys(): { bindings: string[]; routing: string[] } {
  const bindings: string[] = [];
  const routing: string[] = [];
  for (let i = 0; i < 500; i++) {
    bindings.push(`a.*.c${i}`, `x.#.${i}`);
    routing.push(`a.k${i % 7}.c${i}`, `x.${i % 5}.y.${i}`);
  }
  return { bindings, routing };
}
