// Entry point of a warren-perf worker thread: either a set of publishers or a set of consumer
// connections. It reports through the shared stats slot it owns and a few control messages.
import { parentPort, workerData } from 'node:worker_threads';
import { PerfConnection } from './client.js';
import { ConsumerConnection } from './consumer.js';
import { publishTemplate } from './methods.js';
import { Publisher, type SharedView } from './publisher.js';
import { C_ERRORS, control, slotBase, table } from './stats.js';
import type { AmqpUri } from './uri.js';

export interface PublisherPlan {
  index: number;
}

export interface ConsumerConnectionPlan {
  index: number;
  consumers: { index: number; queue: string }[];
}

export interface WorkerInit {
  role: 'publisher' | 'consumer';
  sab: SharedArrayBuffer;
  slots: number;
  slot: number;
  uri: AmqpUri;
  heartbeat: number;
  runId: string;
  // publishers
  publishers: PublisherPlan[];
  exchange: string;
  routingKeys: string[];
  size: number;
  persistent: boolean;
  confirm: number;
  ratePerPublisher: number;
  pmessages: number;
  batch: number;
  maxBacklog: number;
  copies: number;
  // consumers
  connections: ConsumerConnectionPlan[];
  autoAck: boolean;
  prefetch: number;
  multiAckEvery: number;
}

export type ToWorker = { cmd: 'start' } | { cmd: 'stop' } | { cmd: 'close' };
export type FromWorker =
  | { ev: 'ready' }
  | { ev: 'error'; message: string }
  | { ev: 'finished'; index: number }
  | { ev: 'closed' }
  | { ev: 'failed'; message: string };

const init = workerData as WorkerInit;
const port = parentPort!;
const send = (m: FromWorker): void => port.postMessage(m);
const shared: SharedView = {
  table: table({ sab: init.sab, slots: init.slots }),
  control: control({ sab: init.sab, slots: init.slots }),
  slots: init.slots,
  slot: init.slot,
};

let errorsSent = 0;
function reportError(message: string): void {
  if (errorsSent++ < 5) send({ ev: 'error', message });
}

const connections: PerfConnection[] = [];
const publishers: Publisher[] = [];
let closing = false;

function watch(conn: PerfConnection, what: string): void {
  conn.onClose = (err) => {
    if (closing) return;
    shared.table[slotBase(init.slot) + C_ERRORS]!++;
    reportError(`${what}: ${err.message}`);
  };
  conn.onChannelClose = (err) => {
    shared.table[slotBase(init.slot) + C_ERRORS]!++;
    reportError(`${what}: ${err.message}`);
  };
}

async function openPublisher(plan: PublisherPlan): Promise<void> {
  const conn = await PerfConnection.open(init.uri, { name: `${init.runId} publisher ${plan.index}`, heartbeat: init.heartbeat });
  connections.push(conn);
  const ch = await conn.openChannel();
  if (init.confirm > 0) await conn.confirmSelect(ch);
  const templates = init.routingKeys.map((routingKey) =>
    publishTemplate({ channel: ch, exchange: init.exchange, routingKey, bodySize: init.size, persistent: init.persistent, frameMax: conn.frameMax }),
  );
  const p = new Publisher(
    conn,
    ch,
    templates,
    {
      index: plan.index,
      confirm: init.confirm,
      rate: init.ratePerPublisher,
      pmessages: init.pmessages,
      batch: init.batch,
      maxBacklog: init.maxBacklog,
      copies: init.copies,
    },
    shared,
  );
  p.onFinished = () => send({ ev: 'finished', index: plan.index });
  p.onError = reportError;
  watch(conn, `publisher ${plan.index}`);
  publishers.push(p);
}

async function openConsumers(plan: ConsumerConnectionPlan): Promise<void> {
  const conn = await PerfConnection.open(init.uri, { name: `${init.runId} consumers ${plan.index}`, heartbeat: init.heartbeat });
  connections.push(conn);
  const cc = new ConsumerConnection(conn, init.autoAck, init.multiAckEvery, shared, init.size >= 8);
  cc.onError = reportError;
  watch(conn, `consumer connection ${plan.index}`);
  for (const c of plan.consumers) {
    const ch = await conn.openChannel();
    if (!init.autoAck && init.prefetch > 0) await conn.qos(ch, init.prefetch);
    await conn.consume(ch, c.queue, `${init.runId}-c${c.index}`, init.autoAck);
  }
}

async function closeAll(): Promise<void> {
  closing = true;
  for (const p of publishers) p.stop();
  await Promise.all(connections.map((c) => c.close(1000)));
}

port.on('message', (m: ToWorker) => {
  if (m.cmd === 'start') for (const p of publishers) p.start();
  else if (m.cmd === 'stop') for (const p of publishers) p.stop();
  else if (m.cmd === 'close') {
    void closeAll().then(() => {
      send({ ev: 'closed' });
      port.close();
    });
  }
});

try {
  if (init.role === 'publisher') await Promise.all(init.publishers.map(openPublisher));
  else await Promise.all(init.connections.map(openConsumers));
  send({ ev: 'ready' });
} catch (e) {
  closing = true;
  await Promise.all(connections.map((c) => c.close(500)));
  send({ ev: 'failed', message: e instanceof Error ? e.message : String(e) });
  port.close();
}
