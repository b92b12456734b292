/**
 * Stream publish rate with confirms and CPU per confirmed message, brokers side by side (issue 19
 * item 4): this build's Warren, optionally another build's (`--compare`, A/B) and RabbitMQ 3.10.8 with
 * rabbitmq_stream. Rounds alternate the brokers' order; each run publishes to a new stream for
 * `--seconds` with the bench's publisher (stream-publish.ts, the same client for all) and reads the
 * broker's CPU per thread from /proc (Warren's event loop is the main thread, its segment writes
 * and fdatasyncs run on the libuv pool) and the client's with process.cpuUsage; the stream is deleted
 * after the run. On a shared machine rates swing with the other tenants, CPU per message much less.
 *
 *   npm run build && node dist/bench/stream-publish-cpu.js [--seconds 5] [--size 1024] [--rounds 3]
 *     [--rabbit-port 5744 | --no-rabbit] [--no-warren] [--compare PATH/dist/src/cli/warren.js]
 */
import { rmSync } from 'node:fs';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { StreamClient } from '../src/stream/client.js';
import { Key } from '../src/stream/constants.js';
import { BROKER_OPTIONS, describeCpu, phaseCpu, startBrokers, type BrokerUnderTest } from './stream-cpu.js';
import { publishFor } from './stream-publish.js';

async function measure(t: BrokerUnderTest, round: number, size: number, seconds: number): Promise<void> {
  const c = await StreamClient.connect({ host: '127.0.0.1', port: t.streamPort });
  const stream = `publish-cpu-${round}-${Date.now()}`;
  try {
    const load = loadavg()[0]!;
    const run = await publishFor(c, stream, size, seconds, () => phaseCpu(t.broker.pid));
    console.log(
      `round ${round} ${t.label}: ${Math.round(run.published / run.seconds).toLocaleString('en')} confirmed msg/s ` +
        `(${run.published.toLocaleString('en')} in ${run.seconds.toFixed(2)} s); ${describeCpu(run.measured, run.published, run.seconds)}; ` +
        `load ${load.toFixed(2)} → ${loadavg()[0]!.toFixed(2)}`,
    );
  } finally {
    await c.request({ key: Key.Delete, stream });
    await c.close();
  }
}

async function main(): Promise<void> {
  const { values: o } = parseArgs({
    options: {
      seconds: { type: 'string', default: '5' },
      size: { type: 'string', default: '1024' },
      rounds: { type: 'string', default: '3' },
      ...BROKER_OPTIONS,
    },
  });
  const size = Number(o.size);
  const seconds = Number(o.seconds);
  const dirs: string[] = [];
  let targets: BrokerUnderTest[] = [];
  try {
    targets = await startBrokers(o, dirs);
    for (let round = 1; round <= Number(o.rounds); round++) {
      for (const t of round % 2 ? targets : [...targets].reverse()) await measure(t, round, size, seconds);
    }
  } finally {
    for (const t of targets) await t.broker.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
}

await main();
