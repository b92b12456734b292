/**
 * Memory comes back (issue 15): a transient flood into a queue with no consumer grows the broker's
 * memory; once the queue is purged and deleted and the broker goes quiet, its RSS must fall back to
 * within RSS_SLACK of what it was before the flood, within seconds. Two things make it: the CLI's
 * --max-semi-space-size (src/cli/node-flags.ts; V8 never shrinks the young generation) and the
 * memory reclaimer's full GC once the broker is idle (src/broker/memory-reclaimer.ts), which frees
 * the dead bodies and shrinks the old space. Warren only: it reads the broker's RSS from /proc.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import amqp from 'amqplib';
import { spawnWarren, type WarrenChild } from './support/warren-child.js';

const FLOOD_SECONDS = 10;
/**
 * 2 KiB: since the publish path makes less garbage (ackperf), 1 KiB floods grew the broker by only
 * 16-21 MiB, under the slack, so the test proved nothing; 2 KiB grows it by ~30 MiB.
 */
const FLOOD_BODY_BYTES = 2048;
const perfCli = fileURLToPath(new URL('../src/cli/warren-perf.js', import.meta.url));
const BODY = Buffer.alloc(1024, 3);
const MiB = 1024 * 1024;
/** How far above its pre-flood RSS the broker may stay once the flood is gone. */
const RSS_SLACK = 24 * MiB;
const SETTLE_MS = 30_000;

let broker: WarrenChild | undefined;
let dataDir = '';
after(async () => {
  await broker?.kill('SIGTERM');
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

function rss(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmRSS:'))!;
  return Number(line.split(/\s+/)[1]) * 1024;
}

test('after a transient flood is purged and deleted, RSS returns near its level before the flood', { skip: process.platform !== 'linux' && 'reads /proc', timeout: 300_000 }, async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'warren-memory-'));
  broker = await spawnWarren({ dataDir, args: ['--heartbeat', '0'] });
  const conn = await amqp.connect(broker.url);
  const ch = await conn.createConfirmChannel();
  const queue = 'memory-flood';
  await ch.assertQueue(queue, { durable: false });
  // Warm up (code compiled, pools made) so that "before" is the level of a broker that has worked.
  for (let i = 0; i < 20_000; i++) ch.sendToQueue(queue, BODY);
  await ch.waitForConfirms();
  await ch.purgeQueue(queue);
  await new Promise((r) => setTimeout(r, 12_000)); // the reclaimer's first chance, as after any load
  const before = rss(broker.pid);
  let peak = before;
  // The flood: warren-perf's 4 publishers as fast as the broker takes them, no consumer.
  const pid = broker.pid;
  const sampler = setInterval(() => (peak = Math.max(peak, rss(pid))), 200);
  const perf = spawn(process.execPath, [perfCli, '--uri', broker.url, '--time', String(FLOOD_SECONDS), '--publishers', '4', '--consumers', '0', '--size', String(FLOOD_BODY_BYTES), '--queue', queue, '--keep', '--quiet'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  perf.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((resolve) => perf.once('exit', resolve));
  clearInterval(sampler);
  assert.equal(code, 0, stderr);
  const { messageCount } = await ch.checkQueue(queue);
  assert.ok(messageCount > 100_000, `flooded ${messageCount}`);
  assert.equal((await ch.purgeQueue(queue)).messageCount, messageCount);
  await ch.deleteQueue(queue);
  await conn.close();
  const deadline = Date.now() + SETTLE_MS;
  let now = rss(broker.pid);
  while (now > before + RSS_SLACK && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 250));
    now = rss(broker.pid);
  }
  const report = `RSS before ${(before / MiB).toFixed(0)} MiB, peak ${(peak / MiB).toFixed(0)} MiB, after ${(now / MiB).toFixed(0)} MiB`;
  process.stderr.write(`memory reclaim: ${report}\n`);
  assert.ok(peak > before + RSS_SLACK, `the flood grew the broker beyond the slack (else this test proves nothing): ${report}`);
  assert.ok(now <= before + RSS_SLACK, `RSS came back within ${RSS_SLACK / MiB} MiB of its level before the flood: ${report}`);
});
