/**
 * `node publish-probe.js URL QUEUE SECONDS SINCE`: for SECONDS, tries again and again to publish one
 * persistent message (body `probe-N`) to QUEUE on a fresh confirm channel and prints one JSON line per
 * attempt: {"at": ms since SINCE (epoch ms), "id", "outcome": confirmed | nacked | refused | closed | timeout,
 * "done": ms since SINCE when the outcome was known},
 * with "openedBeforeCut": true on probe-1 when it went out on a channel opened ahead (below).
 * The partition test runs it inside the isolated leader's network namespace, the only place that
 * can still reach that node, to see whether it still accepts publishes.
 *
 * `SINCE` may be `stdin`: the probe then first opens a connection with a confirm channel and a
 * consumer on QUEUE, prints {"ready": true}, and waits for a line `cut EPOCH_MS` on its standard
 * input (the test writes it once the link is down), then publishes `probe-1` on that channel at
 * once, with times from EPOCH_MS: the isolated leader takes it before it can notice the cut. The consumer, a client the cut does not separate
 * from that node, prints {"outcome": "delivered"} for every probe message it is handed: a leader
 * must never deliver what its followers do not have. It acknowledges nothing.
 */
import amqp from 'amqplib';

const [url, queue, seconds, sinceArg] = process.argv.slice(2);
if (!url || !queue || !seconds || !sinceArg) {
  process.stderr.write('usage: publish-probe URL QUEUE SECONDS SINCE\n');
  process.exit(2);
}
const t0 = performance.now();
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Waits for `cut EPOCH_MS` on standard input; returns the epoch. */
function cutLine(): Promise<string> {
  return new Promise((resolve) => {
    let buf = '';
    process.stdin.on('data', (c: Buffer) => {
      buf += c.toString();
      const m = /cut (\d+)\n/.exec(buf);
      if (m) {
        process.stdin.pause();
        resolve(m[1]!);
      }
    });
  });
}

type Connection = Awaited<ReturnType<typeof amqp.connect>>;
type ConfirmChannel = Awaited<ReturnType<Connection['createConfirmChannel']>>;

const print = (at: number, id: string, outcome: string, openedBeforeCut = false): void =>
  void process.stdout.write(`${JSON.stringify({ at, id, outcome, done: Date.now() - Number(since), ...(openedBeforeCut ? { openedBeforeCut } : {}) })}\n`);

/** Connected ahead of the cut: a confirm channel for probe-1 and a consumer reporting probe deliveries. */
async function openAhead(): Promise<{ conn: Connection; ch: ConfirmChannel } | undefined> {
  try {
    const conn = await amqp.connect(url!, { timeout: 2000 });
    conn.on('error', () => undefined);
    const ch = await conn.createConfirmChannel();
    ch.on('error', () => undefined);
    const consumer = await conn.createChannel();
    consumer.on('error', () => undefined);
    await consumer.prefetch(1000);
    await consumer.consume(queue!, (m) => {
      const id = m?.content.toString() ?? '';
      if (id.startsWith('probe-')) print(Date.now() - Number(since), id, 'delivered');
    });
    return { conn, ch };
  } catch {
    return undefined;
  }
}

async function attempt(id: string, open?: { conn: Connection; ch: ConfirmChannel }): Promise<string> {
  let conn: Connection;
  if (open) {
    conn = open.conn;
  } else {
    try {
      conn = await amqp.connect(url!, { timeout: 2000 });
    } catch {
      return 'refused';
    }
    conn.on('error', () => undefined);
  }
  try {
    const ch = open?.ch ?? await conn.createConfirmChannel();
    ch.on('error', () => undefined);
    const outcome = await Promise.race([
      new Promise<string>((resolve) => {
        ch.sendToQueue(queue!, Buffer.from(id), { persistent: true, messageId: id }, (err) => resolve(err ? (/nack/.test(err.message) ? 'nacked' : 'closed') : 'confirmed'));
      }),
      new Promise<string>((resolve) => conn.once('close', () => resolve('closed'))),
      sleep(3000).then(() => 'timeout'),
    ]);
    return outcome;
  } catch {
    return 'closed';
  } finally {
    if (!open) await conn.close().catch(() => undefined);
  }
}

/** The cut's epoch ms, from the command line or, with `stdin`, from the test once the link is down. */
let since = sinceArg === 'stdin' ? '' : sinceArg;
const ahead = since ? undefined : await openAhead();
if (!since) {
  if (ahead) process.stdout.write(`${JSON.stringify({ ready: true })}\n`);
  since = await cutLine();
}
for (let n = 1; performance.now() - t0 < Number(seconds) * 1000; n++) {
  const id = `probe-${n}`;
  const at = Date.now() - Number(since);
  // The connection opened ahead serves probe-1 only; it stays open for its consumer.
  const outcome = await attempt(id, n === 1 ? ahead : undefined);
  print(at, id, outcome, n === 1 && ahead !== undefined);
  await sleep(200);
}
process.exit(0);
