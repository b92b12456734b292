// Start-up time: process start to the first AMQP handshake, on an empty data dir and on one holding
// N persistent messages in a durable queue (filled with warren-perf, then a graceful stop).
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { PerfConnection } from '../src/perf/client.js';
import { DEFAULTS } from '../src/perf/options.js';
import { runPerf } from '../src/perf/runner.js';
import { parseAmqpUri } from '../src/perf/uri.js';
import type { BrokerKind, BrokerStarter } from './broker-process.js';
import { log, sleep } from './proc.js';
import type { Sample } from './samples.js';

export function freshDir(kind: BrokerKind): string {
  // RabbitMQ runs as the rabbitmq user: /var/tmp is reachable for it, a root-only tmp may not be
  const base = kind === 'rabbitmq' ? '/var/tmp' : os.tmpdir();
  return mkdtempSync(join(base, `warren-bench-${kind}-`));
}

export async function startupEmpty(kind: BrokerKind, start: BrokerStarter, port: number, round: number): Promise<Sample> {
  const dir = freshDir(kind);
  try {
    const b = await start(dir, port);
    await b.stop();
    log(`${kind}: empty start-up ${b.startupMs.toFixed(0)} ms`);
    return { scenario: 'startup-empty', tool: 'bench', metric: 'startup_ms', broker: kind, value: Math.round(b.startupMs), round };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const STORED_QUEUE = 'bench-stored';

async function storedCount(url: string): Promise<number> {
  const c = await PerfConnection.open(parseAmqpUri(url), { name: 'bench stored probe', readBuffer: 4096 });
  try {
    const ch = await c.openChannel();
    return (await c.declareQueue(ch, STORED_QUEUE, { passive: true })).messages;
  } finally {
    await c.close();
  }
}

export async function startupStored(kind: BrokerKind, start: BrokerStarter, port: number, n: number): Promise<Sample[]> {
  const dir = freshDir(kind);
  try {
    const first = await start(dir, port);
    const t0 = performance.now();
    const fill = await runPerf({
      ...DEFAULTS,
      uri: first.url,
      publishers: 1,
      consumers: 0,
      queue: STORED_QUEUE,
      persistent: true,
      durable: true,
      size: 16,
      confirm: 1000,
      pmessages: n,
      time: 3600,
      keep: true,
      quiet: true,
    });
    const stored = await storedCount(first.url);
    log(`${kind}: stored ${stored} persistent messages in ${((performance.now() - t0) / 1000).toFixed(1)} s (${fill.totals.confirmed} confirmed)`);
    await first.stop();
    await sleep(500);
    const again = await start(dir, port);
    const handshakeAt = performance.now();
    // accepting connections is not necessarily having recovered the queue: time that too
    let ready: number | null = null;
    let count = -1;
    const until = performance.now() + 600_000;
    while (performance.now() < until) {
      try {
        count = await storedCount(again.url);
        if (count >= stored) {
          ready = again.startupMs + (performance.now() - handshakeAt);
          break;
        }
      } catch {
        /* queue not there yet */
      }
      await sleep(20);
    }
    await again.stop();
    log(`${kind}: start-up with ${stored} stored messages: handshake ${again.startupMs.toFixed(0)} ms, queue ready ${ready === null ? 'never' : `${ready.toFixed(0)} ms`} (count ${count})`);
    const raw = { stored, recovered: count, fill_seconds: (performance.now() - t0) / 1000, size: 16 };
    const error = stored < n ? `only ${stored} of ${n} messages stored` : count < stored ? `only ${count} of ${stored} messages recovered` : undefined;
    return [
      { scenario: 'startup-stored', tool: 'bench', metric: 'startup_ms', broker: kind, value: Math.round(again.startupMs), round: 1, raw, ...(error ? { error } : {}) },
      { scenario: 'startup-stored', tool: 'bench', metric: 'ready_ms', broker: kind, value: ready === null ? null : Math.round(ready), round: 1, raw, ...(error ? { error } : {}) },
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
