// Runs one warren-perf measurement: declares the topology, starts consumer workers then publisher
// workers, samples the shared counters once a second, stops, drains, cleans up, and summarises.
import { randomBytes } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import { PerfConnection } from './client.js';
import { summarize, type LatencySummary } from './histogram.js';
import { startNullBroker } from './null-broker.js';
import type { PerfOptions } from './options.js';
import * as st from './stats.js';
import { declareTopology, deleteTopology, planTopology, type Topology } from './topology.js';
import { parseAmqpUri } from './uri.js';
import type { ConsumerConnectionPlan, FromWorker, ToWorker, WorkerInit } from './worker.js';

export interface Rates {
  publish_rate: number;
  confirm_rate: number;
  nack_rate: number;
  consume_rate: number;
  latency: LatencySummary | null;
  confirm_latency: LatencySummary | null;
}

export interface Tick extends Rates {
  type: 'tick';
  /** seconds since publishers started */
  t: number;
  phase: 'warmup' | 'run';
}

export interface PerfSummary extends Rates {
  type: 'summary';
  uri: string;
  config: Record<string, unknown>;
  /** length of the measured window, s */
  seconds: number;
  totals: { published: number; confirmed: number; nacked: number; returned: number; consumed: number; errors: number };
  /** consumed everything that was published (x queue copies) before the drain timeout */
  drained: boolean;
  expected_consumed: number;
  /** messages still in the queues when they were deleted (null when kept or predeclared) */
  left_in_queues: number | null;
  blocked_ms: number;
  /** CPU used by warren-perf itself during the window, % of one core */
  tool_cpu_pct: number;
  errors: string[];
}

interface RunningWorker {
  worker: Worker;
  role: 'publisher' | 'consumer';
  ready: Promise<void>;
  closed: Promise<void>;
}

const round = (x: number): number => Math.round(x);

function rates(a: st.Snapshot, b: st.Snapshot): Rates {
  const secs = (b.at - a.at) / 1000 || 1;
  const d = st.diff(a.counters, b.counters);
  return {
    publish_rate: round(d[st.C_PUBLISHED]! / secs),
    confirm_rate: round(d[st.C_CONFIRMED]! / secs),
    nack_rate: round(d[st.C_NACKED]! / secs),
    consume_rate: round(d[st.C_CONSUMED]! / secs),
    latency: summarize(st.diff(a.latency, b.latency)),
    confirm_latency: summarize(st.diff(a.confirmLatency, b.confirmLatency)),
  };
}

function spreadOver<T>(items: T[], buckets: number): T[][] {
  const out: T[][] = Array.from({ length: Math.min(buckets, items.length) }, () => []);
  items.forEach((it, i) => out[i % out.length]!.push(it));
  return out;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export interface RunHooks {
  onTick?: (t: Tick) => void;
  onError?: (message: string) => void;
  /** aborting ends the measurement early; the run still drains, cleans up and summarises */
  signal?: AbortSignal;
}

export async function runPerf(o: PerfOptions, hooks: RunHooks = {}): Promise<PerfSummary> {
  const nullBroker = o.nullBroker ? await startNullBroker() : null;
  try {
    return await runAgainst(nullBroker ? nullBroker.uri : o.uri, o, hooks);
  } finally {
    await nullBroker?.close();
  }
}

async function runAgainst(uriText: string, o: PerfOptions, hooks: RunHooks): Promise<PerfSummary> {
  const uri = parseAmqpUri(uriText);
  const runId = `warren-perf-${process.pid}-${randomBytes(2).toString('hex')}`;
  const topo: Topology = planTopology(o, runId);
  const errors: string[] = [];
  const noteError = (message: string): void => {
    if (errors.length < 20) errors.push(message);
    hooks.onError?.(message);
  };

  const admin = await PerfConnection.open(uri, { name: `${runId} admin` });
  const workers: RunningWorker[] = [];
  let leftInQueues: number | null = null;
  try {
    if (!o.predeclared) await declareTopology(admin, topo, o.durable);

    // consumers: consumer i reads queue i mod Q, on connection i mod C
    const connCount = o.consumers === 0 ? 0 : Math.min(o.consumerConnections || o.consumers, o.consumers);
    const conns: ConsumerConnectionPlan[] = Array.from({ length: connCount }, (_, index) => ({ index, consumers: [] }));
    for (let i = 0; i < o.consumers; i++) conns[i % connCount]!.consumers.push({ index: i, queue: topo.queues[i % topo.queues.length]! });
    const consumerGroups = spreadOver(conns, o.consumerThreads);
    const publisherGroups = spreadOver(
      Array.from({ length: o.publishers }, (_, index) => ({ index })),
      o.publisherThreads,
    );
    const stats = st.createSharedStats(consumerGroups.length + publisherGroups.length);
    const table = st.table(stats);

    const base: Omit<WorkerInit, 'role' | 'slot' | 'publishers' | 'connections'> = {
      sab: stats.sab,
      slots: stats.slots,
      uri,
      heartbeat: o.heartbeat,
      runId,
      exchange: topo.exchange,
      routingKeys: topo.routingKeys,
      size: o.size,
      persistent: o.persistent,
      confirm: o.confirm,
      ratePerPublisher: o.publishers > 0 ? o.rate / o.publishers : 0,
      pmessages: o.pmessages,
      batch: o.batch,
      maxBacklog: o.consumers > 0 ? o.maxBacklog : 0,
      copies: topo.copies,
      autoAck: o.autoAck,
      prefetch: o.prefetch,
      multiAckEvery: o.multiAckEvery,
    };
    let finishedPublishers = 0;
    const spawn = (init: WorkerInit): RunningWorker => {
      const worker = new Worker(new URL('./worker.js', import.meta.url), { workerData: init });
      let readyResolve!: () => void;
      let readyReject!: (e: Error) => void;
      const ready = new Promise<void>((res, rej) => ((readyResolve = res), (readyReject = rej)));
      ready.catch(() => {}); // awaited below; this only keeps a late failure from being "unhandled"
      const closed = new Promise<void>((res) => worker.once('exit', () => res()));
      worker.on('message', (m: FromWorker) => {
        if (m.ev === 'ready') readyResolve();
        else if (m.ev === 'failed') readyReject(new Error(`${init.role} worker: ${m.message}`));
        else if (m.ev === 'error') noteError(m.message);
        else if (m.ev === 'finished') finishedPublishers++;
      });
      worker.on('error', (e) => {
        noteError(`${init.role} worker crashed: ${e.message}`);
        readyReject(e);
      });
      worker.once('exit', () => readyReject(new Error(`${init.role} worker exited before it was ready`)));
      const rw = { worker, role: init.role, ready, closed };
      workers.push(rw);
      return rw;
    };
    const post = (role: 'publisher' | 'consumer', m: ToWorker): void => {
      for (const w of workers) if (w.role === role) w.worker.postMessage(m);
    };

    let slot = 0;
    const consumerWorkers = consumerGroups.map((connections) =>
      spawn({ ...base, role: 'consumer', slot: slot++, publishers: [], connections }),
    );
    await Promise.all(consumerWorkers.map((w) => w.ready));
    const publisherWorkers = publisherGroups.map((publishers) =>
      spawn({ ...base, role: 'publisher', slot: slot++, publishers, connections: [] }),
    );
    await Promise.all(publisherWorkers.map((w) => w.ready));

    // --- measurement ---------------------------------------------------------------------------
    post('publisher', { cmd: 'start' });
    const started = st.snapshot(stats, table);
    let windowStart = o.warmup > 0 ? null : started;
    let last = started;
    const endAt = started.at + (o.warmup + o.time) * 1000;
    let aborted = hooks.signal?.aborted ?? false;
    const onAbort = (): void => void (aborted = true);
    hooks.signal?.addEventListener('abort', onAbort);
    let nextTick = started.at + 1000;
    for (;;) {
      const now = performance.now();
      const allDone = o.publishers > 0 && o.pmessages > 0 && finishedPublishers >= o.publishers;
      if (aborted || now >= endAt || allDone) break;
      if (now >= nextTick) {
        const snap = st.snapshot(stats, table);
        const t = Math.round((snap.at - started.at) / 100) / 10;
        const phase = windowStart === null ? 'warmup' : 'run';
        hooks.onTick?.({ type: 'tick', t, phase, ...rates(last, snap) });
        last = snap;
        if (windowStart === null && snap.at >= started.at + o.warmup * 1000) windowStart = snap;
        nextTick += 1000;
      }
      await sleep(Math.max(1, Math.min(nextTick, endAt) - performance.now()));
    }
    hooks.signal?.removeEventListener('abort', onAbort);
    const windowEnd = st.snapshot(stats, table);
    post('publisher', { cmd: 'stop' });
    if (windowEnd.at - last.at >= 200) {
      // the last, partial second
      const t = Math.round((windowEnd.at - started.at) / 100) / 10;
      hooks.onTick?.({ type: 'tick', t, phase: windowStart === null ? 'warmup' : 'run', ...rates(last, windowEnd) });
    }
    if (windowStart === null) windowStart = started; // ended inside the warm-up: report what there is

    // --- drain: let consumers receive (and the broker confirm) what was published ------------------
    const drainUntil = performance.now() + o.drain * 1000;
    let drained = false;
    for (;;) {
      const published = st.total(table, stats.slots, st.C_PUBLISHED);
      const consumedAll = o.consumers === 0 || st.total(table, stats.slots, st.C_CONSUMED) >= published * topo.copies;
      const settled = o.confirm === 0 || st.total(table, stats.slots, st.C_CONFIRMED) + st.total(table, stats.slots, st.C_NACKED) >= published;
      if (consumedAll && settled) {
        drained = true;
        break;
      }
      if (performance.now() >= drainUntil) break;
      await sleep(20);
    }
    const final = st.snapshot(stats, table);

    post('publisher', { cmd: 'close' });
    post('consumer', { cmd: 'close' });
    await Promise.race([Promise.all(workers.map((w) => w.closed)), sleep(5000)]);
    await Promise.all(workers.map((w) => w.worker.terminate()));

    if (!o.predeclared && !o.keep) leftInQueues = await deleteTopology(admin, topo);
    const c = final.counters;
    return {
      type: 'summary',
      uri: `amqp://${uri.user}@${uri.host}:${uri.port}/${uri.vhost === '/' ? '' : encodeURIComponent(uri.vhost)}`,
      config: describe(o, topo),
      seconds: Math.round((windowEnd.at - windowStart.at) / 10) / 100,
      ...rates(windowStart, windowEnd),
      totals: {
        published: c[st.C_PUBLISHED]!,
        confirmed: c[st.C_CONFIRMED]!,
        nacked: c[st.C_NACKED]!,
        returned: c[st.C_RETURNED]!,
        consumed: c[st.C_CONSUMED]!,
        errors: c[st.C_ERRORS]!,
      },
      drained,
      expected_consumed: o.consumers === 0 ? 0 : c[st.C_PUBLISHED]! * topo.copies,
      left_in_queues: leftInQueues,
      blocked_ms: Math.round(c[st.C_BLOCKED_MS]!),
      tool_cpu_pct: Math.round(((windowEnd.cpuUs - windowStart.cpuUs) / 10 / (windowEnd.at - windowStart.at || 1)) * 10) / 10,
      errors,
    };
  } finally {
    await Promise.all(workers.map((w) => w.worker.terminate()));
    await admin.close();
  }
}

function describe(o: PerfOptions, t: Topology): Record<string, unknown> {
  return {
    publishers: o.publishers,
    consumers: o.consumers,
    queues: t.queues.length,
    size: o.size,
    exchange: t.exchange,
    exchange_type: t.exchangeType,
    routing_keys: t.routingKeys.length,
    bindings: t.bindings.length,
    confirm: o.confirm,
    persistent: o.persistent,
    durable: o.durable,
    ack: o.autoAck ? 'auto' : o.multiAckEvery > 1 ? `multiple every ${o.multiAckEvery}` : 'each',
    prefetch: o.autoAck ? null : o.prefetch,
    rate: o.rate,
    max_backlog: o.maxBacklog,
    time: o.time,
    warmup: o.warmup,
    consumer_connections: Math.min(o.consumerConnections || o.consumers, o.consumers),
  };
}
