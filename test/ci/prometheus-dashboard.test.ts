// The real scraper: Debian's `prometheus` (started here on loopback with its own config and data dir)
// scrapes Warren while clients publish, consume, get, reject, return and churn connections, channels
// and queues; then every query of RabbitMQ's RabbitMQ-Overview dashboard (v3.10.8) is evaluated
// through Prometheus's HTTP API and must return data, as Grafana would show it. Run by .ci/run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import amqp from 'amqplib';
import { startTestBroker } from '../support/test-broker.js';
import { freePort } from '../support/free-port.js';
import { eventually } from '../support/eventually.js';
import { PANELS, VARIABLES } from './overview-dashboard-queries.js';

const PROMETHEUS = process.env['PROMETHEUS_BIN'] ?? '/usr/bin/prometheus';
const NAMESPACE = 'warren-ci';

/** Panels whose figure the load below drives above zero (the others may rightly be 0). */
const NON_ZERO = [
  'Ready messages', 'Incoming messages / s', 'Connections', 'Queues', 'Unacknowledged messages', 'Outgoing messages / s',
  'Consumers', 'Channels', 'Nodes', 'Messages published / s', 'Messages confirmed to publishers / s',
  'Messages routed to queues / s', 'Unroutable messages dropped / s', 'Unroutable messages returned to publishers / s',
  'Messages delivered / s', 'Messages redelivered / s', 'Messages delivered with manual ack / s', 'Messages delivered auto ack / s',
  'Messages acknowledged / s', 'Polling operations with auto ack / s', 'Polling operations that yield no result / s',
  'Polling operations with manual ack / s', 'Queues declared / s', 'Queues created / s', 'Queues deleted / s',
  'Channels opened / s', 'Channels closed / s', 'Connections opened / s', 'Connections closed / s',
  'Memory available before publishers blocked', 'Disk space available before publishers blocked', 'File descriptors available',
  'TCP sockets available',
];

interface PromResult {
  status: string;
  data: { resultType: string; result: { metric: Record<string, string>; value: [number, string] }[] } | string[];
}

async function promGet(base: string, path: string, params: Record<string, string | string[]>): Promise<PromResult> {
  const u = new URL(path, base);
  for (const [k, v] of Object.entries(params)) for (const x of [v].flat()) u.searchParams.append(k, x);
  const res = await fetch(u);
  const body = (await res.json()) as PromResult;
  assert.equal(body.status, 'success', `${u}: ${JSON.stringify(body)}`);
  return body;
}

/** Clients doing a bit of everything the dashboard shows, until stopped. */
async function load(url: string, stop: { stopped: boolean }): Promise<void> {
  const conn = await amqp.connect(url);
  const pub = await conn.createConfirmChannel();
  const work = 'dash-work';
  const polled = 'dash-polled';
  await pub.assertQueue(work, { durable: false });
  await pub.assertQueue(polled, { durable: false });
  await pub.assertQueue('dash-backlog', { durable: false });
  await pub.assertQueue('dash-empty', { durable: false });
  const manual = await conn.createChannel();
  await manual.prefetch(50);
  let n = 0;
  await manual.consume(work, (m) => {
    if (!m) return;
    // Every tenth delivery is rejected once and comes back redelivered.
    if (!m.fields.redelivered && n++ % 10 === 0) manual.nack(m, false, true);
    else manual.ack(m);
  });
  const auto = await conn.createChannel();
  const autoQueue = (await auto.assertQueue('', { exclusive: true })).queue;
  await auto.consume(autoQueue, () => {}, { noAck: true });
  // A consumer that never acks: unacknowledged messages stay above zero.
  const holder = await conn.createChannel();
  await holder.prefetch(5);
  await holder.consume('dash-backlog', () => {});
  while (!stop.stopped) {
    for (let i = 0; i < 50; i++) {
      pub.sendToQueue(work, Buffer.from(`m${i}`));
      pub.sendToQueue(autoQueue, Buffer.from('a'));
      pub.sendToQueue(polled, Buffer.from('p'));
      pub.sendToQueue('dash-backlog', Buffer.from('b'));
    }
    pub.publish('amq.direct', 'no-such-key', Buffer.from('dropped'));
    pub.publish('amq.direct', 'no-such-key', Buffer.from('returned'), { mandatory: true });
    await pub.waitForConfirms();
    const m = await pub.get(polled, { noAck: false });
    if (m) pub.ack(m);
    await pub.get(polled, { noAck: true });
    await pub.get('dash-empty', { noAck: true });
    // Churn: a short-lived connection with a channel and a queue created and deleted.
    const c = await amqp.connect(url);
    const ch = await c.createChannel();
    const q = (await ch.assertQueue('', { exclusive: false })).queue;
    await ch.deleteQueue(q);
    await c.close();
    await new Promise((r) => setTimeout(r, 50));
  }
  await conn.close();
}

test('RabbitMQ-Overview dashboard queries return data from Warren through a real Prometheus', { timeout: 180_000 }, async () => {
  const tb = await startTestBroker({ prometheusPort: await freePort(), heartbeat: 0 });
  const dir = mkdtempSync(join(tmpdir(), 'warren-prometheus-'));
  const promPort = await freePort();
  let prom: ChildProcess | undefined;
  const stop = { stopped: false };
  let loading: Promise<void> | undefined;
  try {
    const target = new URL(`http://127.0.0.1:${tb.broker!.prometheusPort}`);
    writeFileSync(join(dir, 'prometheus.yml'), [
      'global:',
      '  scrape_interval: 1s',
      '  evaluation_interval: 1s',
      'scrape_configs:',
      '  - job_name: warren',
      '    static_configs:',
      `      - targets: ['${target.host}']`,
      '        labels:',
      `          namespace: ${NAMESPACE}`,
      '',
    ].join('\n'));
    prom = spawn(PROMETHEUS, [
      `--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${promPort}`, '--log.level=warn',
    ], { stdio: ['ignore', 'ignore', 'pipe'] });
    let promLog = '';
    prom.stderr!.on('data', (d: Buffer) => (promLog += d.toString()).length > 100_000 && (promLog = promLog.slice(-50_000)));
    const base = `http://127.0.0.1:${promPort}`;
    await eventually(async () => {
      const res = await fetch(`${base}/-/ready`);
      assert.equal(res.status, 200, promLog);
    }, 30_000, 200);

    loading = load(tb.url, stop);
    // The scrape target is up and reports Warren as healthy.
    await eventually(async () => {
      const up = await promGet(base, '/api/v1/query', { query: 'up{job="warren"}' });
      const r = (up.data as { result: { value: [number, string] }[] }).result;
      assert.equal(r[0]?.value[1], '1', `target not up yet; prometheus log: ${promLog.slice(-2000)}`);
    }, 30_000, 500);

    // The dashboard's variables, resolved as Grafana does (label values of rabbitmq_identity_info).
    let namespace = '';
    let cluster = '';
    await eventually(async () => {
      const ns = await promGet(base, '/api/v1/label/namespace/values', { 'match[]': 'rabbitmq_identity_info' });
      assert.deepEqual(ns.data, [NAMESPACE], VARIABLES.namespace);
      namespace = (ns.data as string[])[0]!;
      const cl = await promGet(base, '/api/v1/label/rabbitmq_cluster/values', { 'match[]': `rabbitmq_identity_info{namespace="${namespace}"}` });
      assert.equal((cl.data as string[]).length, 1, VARIABLES.rabbitmq_cluster);
      cluster = (cl.data as string[])[0]!;
    }, 30_000, 500);

    // Rates need two samples inside their 60 s window; poll until every panel has data.
    const missing = new Set(PANELS.map(([title]) => title));
    await eventually(async () => {
      for (const [title, expr] of PANELS) {
        if (!missing.has(title)) continue;
        const query = expr.replaceAll('$rabbitmq_cluster', cluster).replaceAll('$namespace', namespace);
        const r = await promGet(base, '/api/v1/query', { query });
        const result = (r.data as { result: { value: [number, string] }[] }).result;
        if (result.length === 0) continue;
        if (NON_ZERO.includes(title) && !result.some((x) => Number(x.value[1]) > 0)) continue;
        missing.delete(title);
      }
      assert.deepEqual([...missing], [], 'dashboard panels without data');
    }, 90_000, 1000);
  } finally {
    stop.stopped = true;
    await loading?.catch(() => undefined);
    if (prom && prom.exitCode === null) {
      prom.kill('SIGTERM');
      await new Promise((r) => prom!.once('exit', r));
    }
    await tb.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
