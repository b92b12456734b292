/**
 * `node publish-probe.js URL QUEUE SECONDS SINCE`: for SECONDS, tries again and again to publish one
 * persistent message (body `probe-N`) to QUEUE on a fresh confirm channel and prints one JSON line per
 * attempt: {"at": ms since SINCE (epoch ms), "id", "outcome": confirmed | nacked | refused | closed | timeout}.
 * The partition test runs it inside the isolated leader's network namespace, the only place that
 * can still reach that node, to see whether it still accepts publishes.
 */
import amqp from 'amqplib';

const [url, queue, seconds, since] = process.argv.slice(2);
if (!url || !queue || !seconds || !since) {
  process.stderr.write('usage: publish-probe URL QUEUE SECONDS SINCE\n');
  process.exit(2);
}
const t0 = performance.now();
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function attempt(id: string): Promise<string> {
  let conn: Awaited<ReturnType<typeof amqp.connect>>;
  try {
    conn = await amqp.connect(url!, { timeout: 2000 });
  } catch {
    return 'refused';
  }
  conn.on('error', () => undefined);
  try {
    const ch = await conn.createConfirmChannel();
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
    await conn.close().catch(() => undefined);
  }
}

for (let n = 1; performance.now() - t0 < Number(seconds) * 1000; n++) {
  const id = `probe-${n}`;
  const at = Date.now() - Number(since);
  const outcome = await attempt(id);
  process.stdout.write(`${JSON.stringify({ at, id, outcome })}\n`);
  await sleep(200);
}
process.exit(0);
