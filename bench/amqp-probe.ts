// "Accepting connections" as the bench defines it: a full AMQP handshake (connection.open-ok)
// succeeds. Polled every 10 ms, so start-up figures have that resolution.
import { PerfConnection } from '../src/perf/client.js';
import { parseAmqpUri } from '../src/perf/uri.js';
import { sleep } from './proc.js';

export async function canHandshake(url: string, timeoutMs = 2000): Promise<boolean> {
  try {
    const c = await PerfConnection.open(parseAmqpUri(url), { name: 'bench probe', readBuffer: 4096, timeoutMs });
    await c.close(1000);
    return true;
  } catch {
    return false;
  }
}

/** Resolves when a handshake succeeds; rejects after `deadlineMs` or when `stillAlive` says no. */
export async function waitForAmqp(url: string, deadlineMs: number, stillAlive: () => boolean = () => true): Promise<void> {
  const until = performance.now() + deadlineMs;
  for (;;) {
    if (await canHandshake(url, 2000)) return;
    if (!stillAlive()) throw new Error(`broker at ${url} exited while starting`);
    if (performance.now() > until) throw new Error(`broker at ${url} did not accept AMQP connections within ${deadlineMs} ms`);
    await sleep(10);
  }
}
