// Memory per idle connection and per idle queue: the broker's RSS before and after opening N of
// them (and a 3 s settle), divided by N. Everything is closed/deleted again afterwards.
import { PerfConnection } from '../src/perf/client.js';
import { parseAmqpUri } from '../src/perf/uri.js';
import type { BrokerProcess } from './broker-process.js';
import { log, rssKiB, sleep } from './proc.js';
import type { Sample } from './samples.js';

async function inParallel<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

function samples(scenario: string, b: BrokerProcess, n: number, before: number, after: number, extra: Record<string, unknown>): Sample[] {
  const raw = { n, rss_before_mb: before / 1024, rss_after_mb: after / 1024, ...extra };
  return [
    { scenario, tool: 'bench', metric: 'kib_per_item', broker: b.kind, value: Math.round(((after - before) / n) * 100) / 100, round: 1, raw },
    { scenario, tool: 'bench', metric: 'rss_mb', broker: b.kind, value: Math.round(after / 102.4) / 10, round: 1, raw },
  ];
}

export async function idleConnections(b: BrokerProcess, n: number): Promise<Sample[]> {
  const uri = parseAmqpUri(b.url);
  await sleep(2000);
  const before = rssKiB(b.pid)!;
  const conns: PerfConnection[] = [];
  const t0 = performance.now();
  let failed: string | undefined;
  await inParallel(
    Array.from({ length: n }, (_, i) => i),
    50,
    async (i) => {
      if (failed) return;
      try {
        const c = await PerfConnection.open(uri, { name: `bench idle ${i}`, readBuffer: 1024, timeoutMs: 60_000 });
        await c.openChannel(); // an idle client usually holds one channel
        conns.push(c);
      } catch (e) {
        failed = `connection ${i}: ${(e as Error).message}`;
      }
    },
  );
  const openSeconds = (performance.now() - t0) / 1000;
  await sleep(3000);
  const after = rssKiB(b.pid)!;
  log(`${b.kind}: ${conns.length} idle connections in ${openSeconds.toFixed(1)} s, RSS ${(before / 1024).toFixed(0)} -> ${(after / 1024).toFixed(0)} MiB`);
  await inParallel(conns, 200, (c) => c.close(5000));
  const out = samples('idle-connections', b, conns.length || 1, before, after, { open_seconds: openSeconds });
  if (failed || conns.length < n) for (const s of out) s.error = `opened ${conns.length} of ${n}: ${failed ?? ''}`;
  return out;
}

export async function idleQueues(b: BrokerProcess, n: number): Promise<Sample[]> {
  const uri = parseAmqpUri(b.url);
  const conn = await PerfConnection.open(uri, { name: 'bench idle queues' });
  const names = Array.from({ length: n }, (_, i) => `bench-idle-${process.pid}-${i}`);
  const channels: number[] = [];
  for (let i = 0; i < 32; i++) channels.push(await conn.openChannel());
  await sleep(2000);
  const before = rssKiB(b.pid)!;
  const t0 = performance.now();
  // 32 channels, one declare in flight on each
  const perChannel = (k: number): string[] => names.filter((_, i) => i % channels.length === k);
  await Promise.all(channels.map(async (ch, k) => {
    for (const q of perChannel(k)) await conn.declareQueue(ch, q, { durable: false });
  }));
  const declareSeconds = (performance.now() - t0) / 1000;
  await sleep(3000);
  const after = rssKiB(b.pid)!;
  log(`${b.kind}: ${n} idle queues in ${declareSeconds.toFixed(1)} s, RSS ${(before / 1024).toFixed(0)} -> ${(after / 1024).toFixed(0)} MiB`);
  await Promise.all(channels.map(async (ch, k) => {
    for (const q of perChannel(k)) await conn.deleteQueue(ch, q);
  }));
  await conn.close();
  return samples('idle-queues', b, n, before, after, { declare_seconds: declareSeconds });
}
