// Stream scenarios (issue 19): the native stream protocol against Warren and RabbitMQ (rabbitmq_stream
// enabled), the same client for both (src/stream/client.ts: RabbitMQ 3.10 lacks the command-version
// exchange today's npm client needs). Per broker: publish for a fixed time with confirms (a window of
// unconfirmed messages, 100 per publish frame), then read the whole backlog from `first` with credit,
// sampling the broker's RSS: the backlog is read from segment files, so memory should stay flat.
import os from 'node:os';
import { StreamClient } from '../src/stream/client.js';
import { Key } from '../src/stream/constants.js';
import type { BrokerProcess } from './broker-process.js';
import { cpuSeconds, rssKiB } from './proc.js';
import { consumeFromFirst } from './stream-consume.js';
import { publishFor } from './stream-publish.js';
import type { Sample } from './samples.js';

export async function streamLoad(b: BrokerProcess, streamPort: number, scenario: string, size: number, seconds: number): Promise<Sample[]> {
  const sample = (metric: string, value: number | null, error?: string): Sample => ({
    scenario, tool: 'bench', metric, broker: b.kind, value, round: 1, ...(error ? { error } : {}),
  });
  // The machine is shared: the 1-minute load average at the start says how quiet the run was.
  const load = os.loadavg()[0]!;
  try {
    const c = await StreamClient.connect({ host: '127.0.0.1', port: streamPort });
    const stream = `bench-${scenario}-${Date.now()}`;

    // --- publish with confirms (stream-publish.ts) ---
    const { published, seconds: publishSeconds, measured: publishUse } = await publishFor(c, stream, size, seconds, () => cpuMeter(b.pid));

    // --- consume the backlog from first (stream-consume.ts: the skimming client, ample credit) ---
    let peakKiB = rssKiB(b.pid) ?? 0;
    const sampler = setInterval(() => void (peakKiB = Math.max(peakKiB, rssKiB(b.pid) ?? 0)), 100);
    const run = await consumeFromFirst(streamPort, stream, published, seconds * 20_000, () => cpuMeter(b.pid));
    const { consumed, seconds: consumeSeconds, measured: consumeUse } = run;
    clearInterval(sampler);
    await c.request({ key: Key.Delete, stream });
    await c.close();
    return [
      sample('confirm_rate', published / publishSeconds),
      sample('consume_rate', consumed / consumeSeconds),
      sample('backlog_mib', (published * size) / 1048576),
      sample('consume_peak_rss_mb', peakKiB / 1024),
      sample('load_average', load),
      sample('publish_broker_cpu_pct', publishUse.broker),
      sample('publish_client_cpu_pct', publishUse.client),
      sample('consume_broker_cpu_pct', consumeUse.broker),
      sample('consume_client_cpu_pct', consumeUse.client),
    ];
  } catch (e) {
    const msg = (e as Error).message;
    return ['confirm_rate', 'consume_rate', 'backlog_mib', 'consume_peak_rss_mb'].map((m) => sample(m, null, msg));
  }
}

/**
 * CPU used by the broker and by this client (the load generator) over a phase, in % of one core:
 * with both near 100 % of their core the client, not the broker, may be what limits the rate.
 */
function cpuMeter(pid: number): (seconds: number) => { broker: number | null; client: number } {
  const broker0 = cpuSeconds(pid);
  const client0 = process.cpuUsage();
  return (seconds) => {
    const broker1 = cpuSeconds(pid);
    const c = process.cpuUsage(client0);
    return {
      broker: broker0 === null || broker1 === null ? null : ((broker1 - broker0) / seconds) * 100,
      client: ((c.user + c.system) / 1e6 / seconds) * 100,
    };
  };
}
