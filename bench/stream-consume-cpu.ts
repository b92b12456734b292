/**
 * Stream consume rate and CPU per consumed message, brokers side by side (issue 19 item 4): RabbitMQ
 * 3.10.8 with rabbitmq_stream, this build's Warren and optionally another build's (`--compare`, A/B).
 * Each broker gets one stream of `--messages` messages of `--size` bytes; then, rounds alternating
 * between the brokers, the whole stream is read from `first` by the bench's consumer
 * (stream-consume.ts), while the broker's CPU is read per thread from /proc (Warren's event loop is
 * the main thread, its reads run on the libuv pool) and the client's with process.cpuUsage. On a
 * shared machine rates swing with the other tenants, CPU per message much less.
 *
 *   npm run build && node dist/bench/stream-consume-cpu.js [--messages 1000000] [--size 1024]
 *     [--rounds 3] [--rabbit-port 5744 | --no-rabbit] [--compare PATH/dist/src/cli/warren.js] [--elu]
 *     [--credits 128]
 *
 * --credits 10,128: each round reads the stream once per initial credit, alternating.
 * --elu: Warren brokers also report their event loop's utilisation over each run (elu-preload.ts).
 */
import { readFileSync, rmSync } from 'node:fs';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { StreamClient } from '../src/stream/client.js';
import { Code, Key } from '../src/stream/constants.js';
import { consumeFromFirst, INITIAL_CREDIT } from './stream-consume.js';
import { BROKER_OPTIONS, describeCpu, phaseCpu, startBrokers, type BrokerUnderTest } from './stream-cpu.js';

interface Target extends BrokerUnderTest {
  stream: string;
  /** Warren's event-loop utilisation samples (--elu). */
  eluLog?: string;
}

/** Publishes `count` messages of `size` bytes with confirms (100 per frame, 20,000 unconfirmed at most). */
async function fill(t: Target, count: number, size: number): Promise<void> {
  const c = await StreamClient.connect({ host: '127.0.0.1', port: t.streamPort });
  const created = await c.request({ key: Key.Create, stream: t.stream, arguments: {} });
  if (created.code !== Code.Ok) throw new Error(`${t.label}: create: code ${created.code}`);
  await c.request({ key: Key.DeclarePublisher, publisherId: 1, reference: '', stream: t.stream });
  const perFrame = 100;
  const messages = Array.from({ length: perFrame }, (_, i) => ({ publishingId: BigInt(i), body: Buffer.alloc(size, 0x62) }));
  let confirmed = 0;
  let wake = (): void => {};
  c.onConfirm = (_id, n) => {
    confirmed += n;
    wake();
  };
  for (let sent = 0; sent < count; sent += perFrame) {
    while (sent - confirmed >= 20_000) await new Promise<void>((r) => (wake = r));
    for (const m of messages) m.publishingId += BigInt(perFrame);
    if (!c.send({ key: Key.Publish, publisherId: 1, messages })) await new Promise((r) => c.socket.once('drain', r));
  }
  while (confirmed < count) await new Promise<void>((r) => (wake = r));
  await c.close();
}

async function measure(t: Target, round: number, expected: number, size: number, credit: number): Promise<void> {
  const pid = t.broker.pid;
  const { consumed, seconds, measured } = await consumeFromFirst(t.streamPort, t.stream, expected, 600_000, () => phaseCpu(pid), credit);
  const wall = measured.wall;
  // The event loop's utilisation over the 100 ms samples inside the run (elu-preload.ts).
  let elu = '';
  if (t.eluLog) {
    const inRun = readFileSync(t.eluLog, 'utf8').trim().split('\n').map((l) => l.split(' ').map(Number)).filter(([at]) => at! > wall[0] + 100 && at! <= wall[1]);
    if (inRun.length > 0) elu = `, event loop utilisation ${(inRun.reduce((sum, [, u]) => sum + u!, 0) / inRun.length).toFixed(2)}`;
  }
  console.log(
    `round ${round} ${t.label}, credit ${credit}: ${Math.round(consumed / seconds).toLocaleString('en')} msg/s ` +
      `(${((consumed * size) / seconds / 1e9).toFixed(2)} GB/s of bodies, ${seconds.toFixed(2)} s); ` +
      `${describeCpu(measured, consumed, seconds)}${elu}; load ${loadavg().map((l) => l.toFixed(2)).join(' ')}`,
  );
}

async function main(): Promise<void> {
  const { values: o } = parseArgs({
    options: {
      messages: { type: 'string', default: '1000000' },
      size: { type: 'string', default: '1024' },
      rounds: { type: 'string', default: '3' },
      ...BROKER_OPTIONS,
      elu: { type: 'boolean', default: false },
      credits: { type: 'string', default: String(INITIAL_CREDIT) },
    },
  });
  const messages = Number(o.messages);
  const credits = o.credits.split(',').map(Number);
  const size = Number(o.size);
  const dirs: string[] = [];
  const stream = `consume-cpu-${Date.now()}`;
  let targets: Target[] = [];
  try {
    // --elu: the preload reaches the broker through its environment.
    const elu = (dir: string): Record<string, string> => (o.elu ? { NODE_OPTIONS: `--import ${fileURLToPath(new URL('./elu-preload.js', import.meta.url))}`, WARREN_ELU_LOG: `${dir}-elu.log` } : {});
    targets = (await startBrokers(o, dirs, elu)).map((b) => ({ ...b, stream, ...(o.elu && b.label !== 'RabbitMQ' ? { eluLog: `${b.dir}-elu.log` } : {}) }));
    for (const t of targets) if (t.eluLog) dirs.push(t.eluLog);
    for (const t of targets) {
      const t0 = performance.now();
      await fill(t, messages, size);
      console.log(`${t.label}: ${messages} messages of ${size} B published in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    }
    for (let round = 1; round <= Number(o.rounds); round++) {
      for (const t of round % 2 ? targets : [...targets].reverse()) {
        for (const credit of round % 2 ? credits : [...credits].reverse()) await measure(t, round, messages, size, credit);
      }
    }
  } finally {
    for (const t of targets) await t.broker.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
}

await main();
