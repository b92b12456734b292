/**
 * kill -9 of the whole broker process under load, then recovery on the same data dir.
 *
 * Each iteration: a publisher on a confirm channel sends persistent messages (every tenth one
 * transient) through a durable topic exchange to three durable queues (one routing key reaches two
 * of them), while a consumer acks three of every four deliveries and holds the rest unacked. At a
 * random moment 10-400 ms into the load the broker gets SIGKILL; it is started again on the same
 * data dir and every queue is drained. Checked after each crash:
 * - every confirmed persistent message that was not acked is delivered (at least once);
 * - no body is corrupt (sha256 in the body), none lands in a queue it was not routed to, no
 *   transient message survives;
 * - per queue, deliveries come in publish order (ids increase);
 * - a message that had been delivered before (unacked at the crash, or acked but the ack lost)
 *   comes back with redelivered=true.
 * The restarted broker then carries the next iteration's load.
 *
 * BROKER_CRASH_ITERATIONS (default 5) bounds the iterations; BROKER_CRASH_SECONDS (default 60)
 * stops early once spent (always at least one iteration).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import amqp from 'amqplib';
import type { ChannelModel, ConsumeMessage } from 'amqplib';
import { checkedBody, checkedId } from './support/checked-body.js';
import { drainQueue } from './support/drain-queue.js';
import { spawnWarren, type WarrenChild } from './support/warren-child.js';

const EXCHANGE = 'crash-x';
const QUEUES = ['crash-q0', 'crash-q1', 'crash-q2'] as const;
const BINDINGS: Array<[queue: string, key: string]> = [
  ['crash-q0', 'k.0'],
  ['crash-q1', 'k.1'],
  ['crash-q2', 'k.2'],
  ['crash-q2', 'k.0'],
];
const MAX_IN_FLIGHT = 300;
const ID_STRIDE = 10_000_000;

const routingKey = (id: number): string => `k.${id % 3}`;
const routedTo = (id: number): string[] => BINDINGS.filter(([, k]) => k === routingKey(id)).map(([q]) => q);
const isTransient = (id: number): boolean => id % 10 === 9;
/** Mostly small bodies; every 50th spans several frames (frame_max is 128 KiB). */
const payloadBytes = (id: number): number => (id % 50 === 0 ? 300_000 : 16 + ((id * 7919) % 1500));
/** The consumer holds every fourth delivery unacked until the crash. */
const consumerHolds = (id: number): boolean => id % 4 === 3;

/** What the clients saw, across all iterations. */
class Ledger {
  /** Per queue: confirmed persistent messages not acked yet, so they must come back. */
  readonly pending = new Map<string, Set<number>>(QUEUES.map((q) => [q, new Set()]));
  /** Per queue: every id ever delivered to a client (a later delivery must be flagged redelivered). */
  readonly delivered = new Map<string, Set<number>>(QUEUES.map((q) => [q, new Set()]));
  /** Per queue: acks sent during the current load (a confirm may arrive after the ack). */
  readonly ackedThisLoad = new Map<string, Set<number>>(QUEUES.map((q) => [q, new Set()]));
  /** Ids handed to publish() (anything else showing up is not ours). */
  readonly published = new Set<number>();
  confirmed = 0;
  checked = 0;
  resurrectedAcked = 0;
  /** Of those, ones acked in an earlier drain (their ack was sent before this load even began). */
  resurrectedFromDrain = 0;
  /** First id of the load being checked. */
  currentFirstId = 0;
  problems: string[] = [];

  problem(text: string): void {
    if (this.problems.length < 20) this.problems.push(text);
  }
}

const dataDir = mkdtempSync(join(tmpdir(), 'warren-broker-crash-'));
let broker: WarrenChild | undefined;
after(async () => {
  await broker?.kill('SIGTERM');
  rmSync(dataDir, { recursive: true, force: true });
});

const iterations = Math.max(1, Number(process.env.BROKER_CRASH_ITERATIONS ?? 5));
const budgetSeconds = Number(process.env.BROKER_CRASH_SECONDS ?? 60);

test('kill -9 of the broker under load loses no confirmed message', { timeout: (budgetSeconds + 180) * 1000 }, async () => {
  const deadline = Date.now() + budgetSeconds * 1000;
  const ledger = new Ledger();
  broker = await spawnWarren({ dataDir, args: ['--heartbeat', '0'] });
  await declareTopology(broker.url);

  let done = 0;
  let unconfirmedPublished = 0;
  // On a loaded machine an fdatasync can outlast a kill 10-400 ms into the load, so a run of cycles may
  // end with nothing confirmed, and then nothing was checked. Until a confirm arrives, each further cycle
  // waits longer before its kill (up to 8 s), with at most 10 cycles beyond the requested count.
  let noConfirmDelayMs = 0;
  const mustGoOn = (i: number): boolean =>
    ledger.confirmed === 0 ? i <= iterations + 10 : i <= iterations && (done === 0 || Date.now() < deadline);
  for (let i = 1; mustGoOn(i); i++) {
    const killAfterMs = 10 + Math.random() * 390 + noConfirmDelayMs;
    ledger.currentFirstId = i * ID_STRIDE;
    const load = await runLoadAndKill(broker, i * ID_STRIDE, killAfterMs, ledger);
    unconfirmedPublished += load.published - load.confirmed;
    if (ledger.confirmed === 0) noConfirmDelayMs = Math.min(8000, Math.max(500, noConfirmDelayMs * 2));
    broker = await spawnWarren({ dataDir, args: ['--heartbeat', '0'] });
    await drainAndCheck(broker.url, ledger, `after crash ${i} (kill at ${killAfterMs.toFixed(0)} ms, ${load.published} published, ${load.confirmed} confirmed)`);
    assert.deepEqual(ledger.problems, [], `crash ${i}: ${broker.tail().split('\n').slice(-20).join('\n')}`);
    done++;
  }
  process.stderr.write(
    `broker crash test: ${done} kill -9 cycles, ${ledger.confirmed} confirmed persistent messages, ` +
      `${ledger.checked} confirmed-unacked deliveries checked after restarts, 0 lost; ` +
      `${unconfirmedPublished} published but unconfirmed at the kills, ${ledger.resurrectedAcked} acked ones redelivered (ack lost in the crash; ${ledger.resurrectedFromDrain} of them acked in an earlier drain)\n`,
  );
  assert.ok(ledger.confirmed > 0, 'the publisher got no confirm in any iteration');
});

async function declareTopology(url: string): Promise<void> {
  const conn = await amqp.connect(url);
  const ch = await conn.createChannel();
  await ch.assertExchange(EXCHANGE, 'topic', { durable: true });
  for (const q of QUEUES) await ch.assertQueue(q, { durable: true });
  for (const [q, key] of BINDINGS) await ch.bindQueue(q, EXCHANGE, key);
  await conn.close();
}

/** Publishes and consumes until the broker is killed; returns the publisher's figures. */
async function runLoadAndKill(
  target: WarrenChild,
  firstId: number,
  killAfterMs: number,
  ledger: Ledger,
): Promise<{ published: number; confirmed: number }> {
  const ignore = (): void => {};
  const pubConn = await amqp.connect(target.url);
  const subConn = await amqp.connect(target.url);
  const closed = Promise.all([pubConn, subConn].map(closedPromise));
  for (const c of [pubConn, subConn]) c.on('error', ignore);
  const pub = await pubConn.createConfirmChannel();
  const sub = await subConn.createChannel();
  pub.on('error', ignore);
  sub.on('error', ignore);
  await sub.prefetch(200);
  for (const set of ledger.ackedThisLoad.values()) set.clear();

  const lastDelivered = new Map<string, number>();
  for (const q of QUEUES) {
    await sub.consume(q, (message: ConsumeMessage | null) => {
      if (!message) return;
      const id = checkedId(message.content);
      if (id === undefined) return ledger.problem(`${q}: corrupt body delivered during the load`);
      const last = lastDelivered.get(q) ?? 0;
      if (id <= last && !message.fields.redelivered) ledger.problem(`${q}: ${id} delivered after ${last} during the load`);
      lastDelivered.set(q, Math.max(last, id));
      ledger.delivered.get(q)!.add(id);
      if (consumerHolds(id)) return;
      // Recorded before the ack is sent: an ack that went out is always known.
      ledger.ackedThisLoad.get(q)!.add(id);
      ledger.pending.get(q)!.delete(id);
      try {
        sub.ack(message);
      } catch {
        // The broker is gone: the message simply stays unacked.
      }
    });
  }

  let published = 0;
  let confirmed = 0;
  let inFlight = 0;
  let stopped = false;
  let wake: (() => void) | undefined;
  const kick = (): void => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  void closed.then(() => {
    stopped = true;
    kick();
  });
  const killed = new Promise<void>((resolve) =>
    setTimeout(() => {
      void target.kill('SIGKILL').then(resolve);
    }, killAfterMs),
  );

  let id = firstId;
  while (!stopped) {
    if (inFlight >= MAX_IN_FLIGHT) {
      await new Promise<void>((resolve) => (wake = resolve));
      continue;
    }
    const thisId = id++;
    const persistent = !isTransient(thisId);
    ledger.published.add(thisId);
    inFlight++;
    published++;
    let ok: boolean;
    try {
      ok = pub.publish(EXCHANGE, routingKey(thisId), checkedBody(thisId, payloadBytes(thisId)), { persistent }, (err) => {
        inFlight--;
        if (!err) {
          confirmed++;
          if (persistent) {
            ledger.confirmed++;
            for (const q of routedTo(thisId)) {
              if (!ledger.ackedThisLoad.get(q)!.has(thisId)) ledger.pending.get(q)!.add(thisId);
            }
          }
        }
        kick();
      });
    } catch {
      break; // channel already closed under us
    }
    // Let the socket and the confirms through now and then, as a real publisher would.
    if (!ok || published % 50 === 0) await new Promise<void>((resolve) => setImmediate(resolve));
  }
  await killed;
  await closed;
  return { published, confirmed };
}

function closedPromise(conn: ChannelModel): Promise<void> {
  return new Promise((resolve) => conn.once('close', () => resolve()));
}

/** Drains every queue of the restarted broker and checks what came back against the ledger. */
async function drainAndCheck(url: string, ledger: Ledger, when: string): Promise<void> {
  const conn = await amqp.connect(url);
  const ch = await conn.createChannel();
  for (const q of QUEUES) {
    const pending = ledger.pending.get(q)!;
    const delivered = ledger.delivered.get(q)!;
    let last = 0;
    const result = await drainQueue(ch, q, (message) => {
      const id = checkedId(message.content);
      if (id === undefined) return ledger.problem(`${when}: ${q}: corrupt body (${message.content.length} bytes)`);
      if (!ledger.published.has(id)) return ledger.problem(`${when}: ${q}: id ${id} was never published`);
      if (!routedTo(id).includes(q)) ledger.problem(`${when}: ${q}: message ${id} was routed elsewhere`);
      if (isTransient(id)) ledger.problem(`${when}: ${q}: transient message ${id} survived the crash`);
      if (id <= last) ledger.problem(`${when}: ${q}: ${id} delivered after ${last} (order broken or duplicate)`);
      last = id;
      if (delivered.has(id)) {
        if (!message.fields.redelivered) ledger.problem(`${when}: ${q}: ${id} was delivered before the crash but redelivered=false`);
        if (!pending.has(id)) {
          ledger.resurrectedAcked++;
          if (id < ledger.currentFirstId) ledger.resurrectedFromDrain++;
        }
      }
      if (pending.delete(id)) ledger.checked++;
      delivered.add(id);
    });
    if (result.received !== result.declaredCount) {
      ledger.problem(`${when}: ${q}: declare-ok said ${result.declaredCount} messages, ${result.received} were delivered`);
    }
    if (pending.size > 0) {
      const sample = [...pending].slice(0, 10).join(', ');
      ledger.problem(`${when}: ${q}: LOST ${pending.size} confirmed unacked messages, e.g. ${sample}`);
      pending.clear();
    }
  }
  await conn.close();
}
