// Warren-only scenarios about resources rather than speed against RabbitMQ (issue 15): memory under a
// transient flood and after it, many busy durable queues, bytes written per byte published, and
// 10,000 connections with heartbeats while a publisher/consumer pair measures latency. Each runs on a
// freshly started Warren (started by the caller) with warren-perf as a separate process.
import { readFileSync } from 'node:fs';
import { PerfConnection } from '../src/perf/client.js';
import type { PerfSummary } from '../src/perf/runner.js';
import { parseAmqpUri } from '../src/perf/uri.js';
import type { BrokerProcess } from './broker-process.js';
import { log, rssKiB, sleep } from './proc.js';
import type { Sample } from './samples.js';
import { phaseCpu } from './stream-cpu.js';
import { runWarrenPerf } from './warren-perf-run.js';

const MiB = 1024 * 1024;

type Perf = PerfSummary | { error: string };

function sample(scenario: string, metric: string, value: number | null, raw: unknown, error?: string): Sample {
  return { scenario, tool: 'bench', metric, broker: 'warren', value, round: 1, raw, ...(error ? { error } : {}) };
}

async function perf(b: BrokerProcess, args: string[], seconds: number): Promise<Perf> {
  return runWarrenPerf(['--uri', b.url, '--time', String(seconds), ...args], seconds * 1000 + 180_000);
}

const perfError = (p: Perf): string | undefined => ('error' in p ? p.error : p.errors.length ? p.errors.slice(0, 3).join('; ') : undefined);

/** Samples a process's RSS every 200 ms; stop() returns the peak in KiB. */
function watchRss(pid: number): { stop(): number } {
  let peak = rssKiB(pid) ?? 0;
  const timer = setInterval(() => (peak = Math.max(peak, rssKiB(pid) ?? 0)), 200);
  return {
    stop() {
      clearInterval(timer);
      return Math.max(peak, rssKiB(pid) ?? 0);
    },
  };
}

/** Polls RSS until it is within `slackKiB` of `targetKiB` or `ms` pass; returns [rss KiB, seconds waited]. */
async function rssSettles(pid: number, targetKiB: number, slackKiB: number, ms: number): Promise<[number, number]> {
  const t0 = performance.now();
  let rss = rssKiB(pid) ?? 0;
  while (rss > targetKiB + slackKiB && performance.now() - t0 < ms) {
    await sleep(250);
    rss = rssKiB(pid) ?? 0;
  }
  return [rss, Math.round((performance.now() - t0) / 100) / 10];
}

/** Queues the flood scenario fills (issue 15: memory must come back for many queues, not just one). */
const FLOOD_QUEUES = 4;
/** How close to its idle RSS the broker must come back, and how long the scenario waits for it. */
const SETTLE_SLACK_KIB = 8 * 1024;
const SETTLE_MS = 10_000;

/**
 * Transient flood with default settings: 4 publishers, 1 KiB, no consumer, into FLOOD_QUEUES
 * non-durable queues. Peak RSS during it; then half the queues are purged (and deleted empty),
 * half deleted with their backlog, and RSS is watched for 10 s. Then two consumed backlogs, each
 * filled for a third of the time and read to the end at full speed, with the peak RSS while read and
 * RSS watched for 10 s after: persistent messages read by 4 no-ack consumers, then transient ones
 * read by 4 consumers acking without a prefetch limit (each delivery is held until its ack is read,
 * so the broker must read acks while it writes). Memory must come back after a consumed backlog
 * too, and stay bounded while one is read.
 */
export async function flood(b: BrokerProcess, seconds: number): Promise<Sample[]> {
  const prefix = `bench-flood-${process.pid}`;
  const queues = ['--queues', String(FLOOD_QUEUES), '--queue-prefix', prefix];
  await sleep(1000);
  const idle = rssKiB(b.pid) ?? 0;
  const rss = watchRss(b.pid);
  const p = await perf(b, ['--publishers', '4', '--consumers', '0', '--size', '1024', ...queues, '--keep'], seconds);
  const peak = rss.stop();
  const conn = await PerfConnection.open(parseAmqpUri(b.url), { name: 'bench flood cleanup' });
  const ch = await conn.openChannel();
  const held = rssKiB(b.pid) ?? 0;
  let purged = 0;
  for (let i = 0; i < FLOOD_QUEUES; i++) {
    if (i % 2 === 0) purged += await conn.purgeQueue(ch, `${prefix}-${i}`);
    purged += await conn.deleteQueue(ch, `${prefix}-${i}`);
  }
  const [after, settleSeconds] = await rssSettles(b.pid, idle, SETTLE_SLACK_KIB, SETTLE_MS);

  const fillSeconds = Math.max(2, Math.round(seconds / 3));
  const consumedBacklog = async (fill: string[], consumers: string[]) => {
    await perf(b, ['--publishers', '4', '--consumers', '0', '--size', '1024', ...fill, ...queues, '--keep'], fillSeconds);
    const backlog = await queueDepth(conn, ch, prefix);
    const reading = watchRss(b.pid);
    const read = await perf(b, ['--publishers', '0', '--consumers', String(FLOOD_QUEUES), ...consumers, ...queues, '--predeclared', '--keep', '--drain', '0'], seconds);
    const readPeak = reading.stop();
    const left = await queueDepth(conn, ch, prefix);
    for (let i = 0; i < FLOOD_QUEUES; i++) await conn.deleteQueue(ch, `${prefix}-${i}`);
    const [rssAfter, settle] = await rssSettles(b.pid, idle, SETTLE_SLACK_KIB, SETTLE_MS);
    const error = perfError(read) ?? (left > 0 ? `${left} of ${backlog} messages not consumed in ${seconds} s` : undefined);
    return { backlog, left, peak: readPeak, after: rssAfter, settle, perf: read, error };
  };
  const consumed = await consumedBacklog(['--persistent'], ['--autoack']);
  const acked = await consumedBacklog([], ['--manual-ack', '--prefetch', '0']);
  await conn.close();

  const raw = {
    queues: FLOOD_QUEUES, idle_rss_mb: idle / 1024, peak_rss_mb: peak / 1024, rss_with_backlog_mb: held / 1024, rss_after_purge_mb: after / 1024,
    settle_seconds: settleSeconds, purged, perf: p, consume_backlog: consumed.backlog, consume_left: consumed.left, consume_peak_rss_mb: consumed.peak / 1024,
    rss_after_consume_mb: consumed.after / 1024, consume_settle_seconds: consumed.settle, consume_perf: consumed.perf,
    ack_read_backlog: acked.backlog, ack_read_left: acked.left, ack_read_peak_rss_mb: acked.peak / 1024, rss_after_ack_read_mb: acked.after / 1024,
    ack_read_settle_seconds: acked.settle, ack_read_perf: acked.perf,
  };
  const mb = (kib: number): string => (kib / 1024).toFixed(0);
  log(`flood: ${'error' in p ? p.error : `${p.totals.published} published into ${FLOOD_QUEUES} queues (${p.publish_rate} msg/s), blocked ${p.blocked_ms} ms`}; RSS idle ${mb(idle)} MiB, peak ${mb(peak)} MiB, after purge/delete ${mb(after)} MiB in ${settleSeconds} s; ` +
    `${consumed.backlog} persistent read by no-ack consumers (${consumed.left} left, peak ${mb(consumed.peak)} MiB), then ${mb(consumed.after)} MiB in ${consumed.settle} s; ` +
    `${acked.backlog} transient read by acking consumers without prefetch (${acked.left} left, peak ${mb(acked.peak)} MiB), then ${mb(acked.after)} MiB in ${acked.settle} s`);
  const err = perfError(p);
  const r = (kib: number): number => Math.round(kib / 102.4) / 10;
  return [
    sample('flood', 'publish_rate', 'error' in p ? null : p.publish_rate, raw, err),
    sample('flood', 'published', 'error' in p ? null : p.totals.published, raw, err),
    sample('flood', 'peak_rss_mb', r(peak), raw),
    sample('flood', 'after_purge_rss_mb', r(after), raw),
    sample('flood', 'consume_peak_rss_mb', r(consumed.peak), raw, consumed.error),
    sample('flood', 'after_consume_rss_mb', r(consumed.after), raw, consumed.error),
    sample('flood', 'ack_read_peak_rss_mb', r(acked.peak), raw, acked.error),
    sample('flood', 'after_ack_read_rss_mb', r(acked.after), raw, acked.error),
    sample('flood', 'idle_rss_mb', r(idle), raw),
  ];
}

/** Messages ready in the flood's queues. */
async function queueDepth(conn: PerfConnection, ch: number, prefix: string): Promise<number> {
  let n = 0;
  for (let i = 0; i < FLOOD_QUEUES; i++) n += (await conn.declareQueue(ch, `${prefix}-${i}`, { passive: true })).messages;
  return n;
}

/**
 * Confirmed persistent throughput into one durable queue, then into 100 busy durable queues. The
 * original comparison (1 queue with 4 publishers and 4 consumers against 100 queues with 100 of
 * each) mixes the cost of 100 connections with that of 100 queues, so a third run puts the same 100
 * publishers and 100 consumers on ONE queue: against it the number of queues is the only variable.
 * A fourth run spreads the first run's 4 publishers over the 100 queues (each needs a consumer: 100,
 * on 4 connections), the comparison with the fewest connections. Each run also reports the broker's
 * CPU per confirmed message (its main thread, and all threads) over the measured window: the main
 * thread is what limits these rates, and on a shared machine its cost per message moves far less
 * than the rates do.
 */
export async function manyDurableQueues(b: BrokerProcess, seconds: number): Promise<Sample[]> {
  const common = ['--persistent', '--size', '1024', '--manual-ack', '--prefetch', '100', '--warmup', String(WARMUP_SECONDS)];
  const hundredClients = ['--publishers', '100', '--consumers', '100', '--consumer-connections', '10', '--publisher-threads', '2', '--confirm', '16'];
  const one = await perfWithCpu(b, [...common, '--queues', '1', '--publishers', '4', '--consumers', '4', '--confirm', '256'], seconds);
  await sleep(1000);
  const oneSameClients = await perfWithCpu(b, [...common, '--queues', '1', ...hundredClients], seconds);
  await sleep(1000);
  const many = await perfWithCpu(b, [...common, '--queues', '100', ...hundredClients], seconds);
  await sleep(1000);
  // The first run's 4 publishers spread over 100 queues (one consumer each, on 4 connections):
  // against the first run, the store's cost per queue without that of 100 connections.
  const manyFewClients = await perfWithCpu(b, [...common, '--queues', '100', '--publishers', '4', '--confirm', '256', '--consumers', '100', '--consumer-connections', '4'], seconds);
  const rate = (p: Perf): number | null => ('error' in p ? null : p.confirm_rate);
  const pct = (a: number | null, base: number | null): number | null => (base && a !== null ? Math.round((a / base) * 100) : null);
  const r1 = rate(one.perf);
  const r1c = rate(oneSameClients.perf);
  const r100 = rate(many.perf);
  const r100f = rate(manyFewClients.perf);
  const ratio = pct(r100, r1);
  const ratioSameClients = pct(r100, r1c);
  const ratioFewClients = pct(r100f, r1);
  const cpu = (c: RunCpu): string => (c.mainUs === null ? 'CPU n/a' : `main thread ${c.mainUs} µs/msg, all threads ${c.brokerUs} µs/msg, load ${c.load}`);
  log(
    `many-durable-queues: 1 queue ${r1} confirmed msg/s (4 clients; ${cpu(one)}), 1 queue ${r1c} (100 clients; ${cpu(oneSameClients)}), ` +
      `100 queues ${r100} (${cpu(many)}) (${ratio} % of the first, ${ratioSameClients} % of the second), ` +
      `100 queues with the first run's 4 publishers ${r100f} (${cpu(manyFewClients)}) (${ratioFewClients} % of the first)`,
  );
  const raw = { one, oneSameClients, many, manyFewClients };
  return [
    sample('many-durable-queues', 'one_queue_confirm_rate', r1, raw, perfError(one.perf)),
    sample('many-durable-queues', 'one_queue_100_clients_confirm_rate', r1c, raw, perfError(oneSameClients.perf)),
    sample('many-durable-queues', 'hundred_queues_confirm_rate', r100, raw, perfError(many.perf)),
    sample('many-durable-queues', 'hundred_vs_one_pct', ratio, raw),
    sample('many-durable-queues', 'hundred_vs_one_same_clients_pct', ratioSameClients, raw),
    sample('many-durable-queues', 'hundred_queues_4_publishers_confirm_rate', r100f, raw, perfError(manyFewClients.perf)),
    sample('many-durable-queues', 'hundred_vs_one_4_publishers_pct', ratioFewClients, raw),
    sample('many-durable-queues', 'hundred_queues_4_publishers_main_us', manyFewClients.mainUs, raw),
    sample('many-durable-queues', 'one_queue_main_us', one.mainUs, raw),
    sample('many-durable-queues', 'one_queue_100_clients_main_us', oneSameClients.mainUs, raw),
    sample('many-durable-queues', 'hundred_queues_main_us', many.mainUs, raw),
  ];
}

const WARMUP_SECONDS = 2;

interface RunCpu {
  perf: Perf;
  /** Broker CPU per confirmed message over the measured window, µs: its main thread, all its threads. */
  mainUs: number | null;
  brokerUs: number | null;
  /** /proc/loadavg's 1-minute figure at the end of the window. */
  load: number;
}

/**
 * A warren-perf run with the broker's CPU read from /proc just after its warm-up and just before
 * its end (half a second inside each edge), divided by the messages confirmed in between.
 */
async function perfWithCpu(b: BrokerProcess, args: string[], seconds: number): Promise<RunCpu> {
  const running = perf(b, args, seconds);
  await sleep((WARMUP_SECONDS + 0.5) * 1000);
  const end = phaseCpu(b.pid);
  await sleep((seconds - 1) * 1000);
  const cpu = end();
  const load = Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);
  const p = await running;
  const confirmed = 'error' in p ? 0 : (p.confirm_rate * (cpu.wall[1] - cpu.wall[0])) / 1000;
  if (confirmed <= 0) return { perf: p, mainUs: null, brokerUs: null, load };
  const us = (s: number): number => Math.round((s / confirmed) * 1e7) / 10;
  const main = cpu.threads.find(([name]) => name === 'main')?.[1] ?? 0;
  return { perf: p, mainUs: us(main), brokerUs: us(cpu.broker), load };
}

interface ProcIo {
  write_bytes: number;
  cancelled_write_bytes: number;
  wchar: number;
}

function procIo(pid: number): ProcIo | null {
  try {
    const out: Record<string, number> = {};
    for (const line of readFileSync(`/proc/${pid}/io`, 'utf8').split('\n')) {
      const [k, v] = line.split(':');
      if (k && v) out[k.trim()] = Number(v.trim());
    }
    return { write_bytes: out['write_bytes'] ?? 0, cancelled_write_bytes: out['cancelled_write_bytes'] ?? 0, wchar: out['wchar'] ?? 0 };
  } catch {
    return null;
  }
}

/**
 * Bytes the broker wrote to disk (/proc/<pid>/io write_bytes: pages it dirtied, counted once per
 * dirtying, so a page rewritten after each fdatasync counts each time) per byte of persistent 1 KiB
 * bodies published: with a consumer keeping up, and with a backlog (no consumer).
 */
export async function writeAmplification(b: BrokerProcess, seconds: number): Promise<Sample[]> {
  const out: Sample[] = [];
  const shapes: [string, string[]][] = [
    ['keeping_up', ['--consumers', '1', '--manual-ack', '--prefetch', '100']],
    ['backlog', ['--consumers', '0']],
  ];
  for (const [name, args] of shapes) {
    const before = procIo(b.pid);
    const p = await perf(b, ['--persistent', '--size', '1024', '--confirm', '256', ...args], seconds);
    const after = procIo(b.pid);
    let ratio: number | null = null;
    let raw: Record<string, unknown> = { perf: p, before, after };
    if (before && after && !('error' in p) && p.totals.published > 0) {
      const published = p.totals.published * 1024;
      const written = after.write_bytes - before.write_bytes;
      ratio = Math.round((written / published) * 100) / 100;
      raw = { ...raw, published_bytes: published, write_bytes: written, cancelled_write_bytes: after.cancelled_write_bytes - before.cancelled_write_bytes };
      log(`write-amplification ${name}: ${(written / MiB).toFixed(0)} MiB written for ${(published / MiB).toFixed(0)} MiB of bodies: ${ratio}`);
    }
    out.push(sample('write-amplification', name, ratio, raw, 'error' in p ? p.error : before ? undefined : 'no /proc/<pid>/io'));
    await sleep(1000);
  }
  return out;
}

/**
 * `n` connections (one channel each) with 10 s heartbeats held open while one publisher and one
 * consumer exchange 1,000 msg/s: RSS per connection, and the pair's latency (and without them, for comparison).
 */
export async function connectionsHeartbeat(b: BrokerProcess, n: number, seconds: number): Promise<Sample[]> {
  const pairArgs = ['--publishers', '1', '--consumers', '1', '--autoack', '--rate', '1000', '--size', '64'];
  const quiet = await perf(b, pairArgs, seconds);
  const uri = parseAmqpUri(b.url);
  await sleep(2000);
  const before = rssKiB(b.pid) ?? 0;
  const conns: PerfConnection[] = [];
  const t0 = performance.now();
  let failed: string | undefined;
  let next = 0;
  await Promise.all(
    Array.from({ length: 50 }, async () => {
      while (next < n && !failed) {
        const i = next++;
        try {
          const c = await PerfConnection.open(uri, { name: `bench hb ${i}`, readBuffer: 1024, heartbeat: 10, timeoutMs: 60_000 });
          await c.openChannel();
          conns.push(c);
        } catch (e) {
          failed = `connection ${i}: ${(e as Error).message}`;
        }
      }
    }),
  );
  const openSeconds = (performance.now() - t0) / 1000;
  const loaded = await perf(b, pairArgs, seconds);
  const after = rssKiB(b.pid) ?? 0;
  let next2 = 0;
  await Promise.all(Array.from({ length: 200 }, async () => { while (next2 < conns.length) await conns[next2++]!.close(5000).catch(() => undefined); }));
  const perConn = conns.length ? Math.round(((after - before) / conns.length) * 100) / 100 : null;
  const lat = (p: Perf, k: 'p50_us' | 'p99_us'): number | null => ('error' in p || !p.latency ? null : p.latency[k]);
  const raw = { n, opened: conns.length, open_seconds: openSeconds, rss_before_mb: before / 1024, rss_after_mb: after / 1024, quiet, loaded };
  log(`connections-heartbeat: ${conns.length} connections in ${openSeconds.toFixed(1)} s, ${perConn} KiB each; pair latency p50/p99 ${lat(quiet, 'p50_us')}/${lat(quiet, 'p99_us')} µs alone, ${lat(loaded, 'p50_us')}/${lat(loaded, 'p99_us')} µs with them`);
  const err = failed ?? (conns.length < n ? `opened ${conns.length} of ${n}` : undefined);
  return [
    sample('connections-heartbeat', 'kib_per_connection', perConn, raw, err),
    sample('connections-heartbeat', 'open_seconds', Math.round(openSeconds * 10) / 10, raw, err),
    sample('connections-heartbeat', 'p50_us_alone', lat(quiet, 'p50_us'), raw, perfError(quiet)),
    sample('connections-heartbeat', 'p99_us_alone', lat(quiet, 'p99_us'), raw, perfError(quiet)),
    sample('connections-heartbeat', 'p50_us_with_connections', lat(loaded, 'p50_us'), raw, perfError(loaded)),
    sample('connections-heartbeat', 'p99_us_with_connections', lat(loaded, 'p99_us'), raw, perfError(loaded)),
  ];
}
