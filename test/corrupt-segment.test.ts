/**
 * Damaged message files: the broker is stopped, bytes are flipped inside a durable queue's segment
 * file (`<data>/vhosts/<vhost>/queues/<queue>/<first seq>.seg`), and the broker is started again. It must start, say in
 * a JSON log line what it dropped (how many messages), and serve every other message intact and in
 * order, in that queue and in an untouched one; and the repaired queue must keep working across a
 * further restart without being reported again.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, openSync, closeSync, readSync, writeSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import amqp from 'amqplib';
import { checkedBody, checkedId } from './support/checked-body.js';
import { drainQueue } from './support/drain-queue.js';
import { spawnWarren, type LogLine, type WarrenChild } from './support/warren-child.js';

const MESSAGES = 3000;
const INTACT_MESSAGES = 200;
const PAYLOAD = 1000;

const dirs: string[] = [];
const running = new Set<WarrenChild>();
after(async () => {
  for (const broker of running) await broker.kill('SIGTERM');
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

async function start(dataDir: string): Promise<WarrenChild> {
  const broker = await spawnWarren({ dataDir });
  running.add(broker);
  return broker;
}

async function stop(broker: WarrenChild): Promise<void> {
  await broker.kill('SIGTERM');
  running.delete(broker);
}

/** A fresh broker with `damaged-q` and `intact-q` filled with confirmed persistent messages, then stopped. */
async function filledDataDir(): Promise<string> {
  const dataDir = mkdtempSync(join(tmpdir(), 'warren-corrupt-'));
  dirs.push(dataDir);
  const broker = await start(dataDir);
  const conn = await amqp.connect(broker.url);
  const ch = await conn.createConfirmChannel();
  await ch.assertQueue('damaged-q', { durable: true });
  await ch.assertQueue('intact-q', { durable: true });
  for (let id = 1; id <= MESSAGES; id++) {
    ch.sendToQueue('damaged-q', checkedBody(id, PAYLOAD), { persistent: true });
    if (id <= INTACT_MESSAGES) ch.sendToQueue('intact-q', checkedBody(id, PAYLOAD), { persistent: true });
    if (id % 500 === 0) await ch.waitForConfirms();
  }
  await ch.waitForConfirms();
  await conn.close();
  await stop(broker);
  return dataDir;
}

/** The segment files of one queue, found through the queue.json next to them (paths hash the names). */
function segmentsOf(dataDir: string, queue: string): string[] {
  const found: string[] = [];
  const vhostsDir = join(dataDir, 'vhosts');
  for (const vhost of readdirSync(vhostsDir)) {
    const queuesDir = join(vhostsDir, vhost, 'queues');
    for (const q of readdirSync(queuesDir)) {
      const dir = join(queuesDir, q);
      const meta = JSON.parse(readFileSync(join(dir, 'queue.json'), 'utf8')) as { name?: string };
      if (meta.name !== queue) continue;
      for (const f of readdirSync(dir)) if (f.endsWith('.seg')) found.push(join(dir, f));
    }
  }
  return found.sort();
}

/** XORs `count` bytes at `offset` of a file. */
function flipBytes(file: string, offset: number, count: number): void {
  const fd = openSync(file, 'r+');
  try {
    const bytes = Buffer.alloc(count);
    readSync(fd, bytes, 0, count, offset);
    for (let i = 0; i < count; i++) bytes[i]! ^= 0xa5;
    writeSync(fd, bytes, 0, count, offset);
  } finally {
    closeSync(fd);
  }
}

/** Drains a queue, checking every body; returns the ids in delivery order. */
async function drainIds(broker: WarrenChild, queue: string): Promise<{ ids: number[]; corrupt: number }> {
  const conn = await amqp.connect(broker.url);
  try {
    const ch = await conn.createChannel();
    const ids: number[] = [];
    let corrupt = 0;
    const result = await drainQueue(ch, queue, (message) => {
      const id = checkedId(message.content);
      if (id === undefined) corrupt++;
      else ids.push(id);
    });
    assert.equal(result.received, result.declaredCount, `${queue}: declare-ok count vs deliveries`);
    return { ids, corrupt };
  } finally {
    await conn.close();
  }
}

const damageLines = (logs: LogLine[], queue: string): LogLine[] =>
  logs.filter((l) => l['queue'] === queue && /damaged|torn/.test(String(l.msg)));

/** Sums the "messages dropped" count the log lines report. */
const reportedLost = (lines: LogLine[]): number =>
  lines.reduce((sum, l) => sum + Number(l['seqsLost'] ?? l['messagesLost'] ?? l['messages'] ?? 0), 0);

/** The totals line recovery logs at start-up. */
function storeRecovered(logs: LogLine[]): LogLine {
  const line = logs.find((l) => l.msg === 'message store recovered');
  assert.ok(line, 'recovery logs its totals');
  return line;
}

function assertIncreasing(ids: number[], what: string): void {
  for (let i = 1; i < ids.length; i++) assert.ok(ids[i]! > ids[i - 1]!, `${what}: ${ids[i]} after ${ids[i - 1]}`);
}

test('bytes flipped in the middle of a segment: the broker starts, reports the loss and serves the rest', async () => {
  const dataDir = await filledDataDir();
  const segments = segmentsOf(dataDir, 'damaged-q');
  assert.ok(segments.length > 0, 'damaged-q has no segment file');
  const segment = segments[0]!;
  flipBytes(segment, Math.floor(statSync(segment).size / 2), 24);

  const broker = await start(dataDir);
  const lines = damageLines(broker.logs, 'damaged-q');
  assert.ok(lines.length > 0, `no log line reports the damage:\n${broker.tail()}`);
  const lost = reportedLost(lines);
  assert.ok(lost >= 1 && lost <= 3, `24 flipped bytes damage one or two records; the log says ${lost}: ${JSON.stringify(lines)}`);
  assert.ok(lines.every((l) => l['messagesLost'] === l['seqsLost']), `nothing was acked: messages lost = seqs lost: ${JSON.stringify(lines)}`);
  const totals = storeRecovered(broker.logs);
  assert.equal(totals['messagesLost'], lost, 'the total in the recovery line');
  assert.equal(totals['messagesLostExact'], true);

  const damaged = await drainIds(broker, 'damaged-q');
  assert.equal(damaged.corrupt, 0, 'no damaged body is delivered');
  assert.equal(damaged.ids.length, MESSAGES - lost, 'count = total - dropped');
  assertIncreasing(damaged.ids, 'damaged-q order');
  // What is missing is one contiguous run of ids, the records the flip hit.
  const missing = [...Array(MESSAGES).keys()].map((i) => i + 1).filter((id) => !damaged.ids.includes(id));
  assert.equal(missing.length, lost);
  assert.equal(missing.at(-1)! - missing[0]!, lost - 1, `missing ids are contiguous: ${missing}`);

  const intact = await drainIds(broker, 'intact-q');
  assert.deepEqual(intact.ids, [...Array(INTACT_MESSAGES).keys()].map((i) => i + 1));
  assert.equal(intact.corrupt, 0);

  // The repaired queue keeps working, and a clean restart reports nothing more.
  const conn = await amqp.connect(broker.url);
  const ch = await conn.createConfirmChannel();
  for (let id = MESSAGES + 1; id <= MESSAGES + 10; id++) ch.sendToQueue('damaged-q', checkedBody(id, PAYLOAD), { persistent: true });
  await ch.waitForConfirms();
  await conn.close();
  await stop(broker);
  const again = await start(dataDir);
  assert.deepEqual(damageLines(again.logs, 'damaged-q'), [], 'the damage is reported once, not on every start');
  const afterRestart = await drainIds(again, 'damaged-q');
  assert.deepEqual(afterRestart.ids, [...Array(10).keys()].map((i) => MESSAGES + 1 + i));
  await stop(again);
});

test('bytes flipped in the last record: the torn tail is dropped and reported, the rest served', async () => {
  const dataDir = await filledDataDir();
  const segments = segmentsOf(dataDir, 'damaged-q');
  const segment = segments.at(-1)!;
  // The last record is a little over PAYLOAD + 36 bytes long: hit its body.
  flipBytes(segment, statSync(segment).size - 100, 8);

  const broker = await start(dataDir);
  const lines = damageLines(broker.logs, 'damaged-q');
  assert.ok(lines.length > 0, `no log line reports the damage:\n${broker.tail()}`);
  assert.ok(lines.every((l) => l['file'] === segment), `the log names the damaged file: ${JSON.stringify(lines)}`);
  // After a clean stop the store knows where the segment ended: the count is exact.
  assert.equal(reportedLost(lines), 1, `one message dropped with the torn tail: ${JSON.stringify(lines)}`);
  assert.ok(lines.every((l) => l['messagesLostExact'] === true));
  const totals = storeRecovered(broker.logs);
  assert.equal(totals['messagesLost'], 1, 'the total in the recovery line');
  assert.equal(totals['messagesLostExact'], true);

  const damaged = await drainIds(broker, 'damaged-q');
  assert.equal(damaged.corrupt, 0);
  assert.deepEqual(damaged.ids, [...Array(MESSAGES - 1).keys()].map((i) => i + 1), 'all but the last message, in order');
  const intact = await drainIds(broker, 'intact-q');
  assert.equal(intact.ids.length, INTACT_MESSAGES);
  await stop(broker);
});
