/**
 * Failover under confirmed load (issue 20): etcd and three `warren --config node-N.conf` processes on
 * loopback; a confirming publisher and an acking consumer (amqplib) that reconnect through the node
 * list. Each node is killed in turn with SIGKILL — the leader first, then the others — and restarted
 * once the cluster serves again. At the end every confirmed message must have been delivered (none
 * lost), each publish stall must stay within 30 s (the issue's goal of 5 s is reported beside it),
 * duplicates are counted and printed, and each killed node must have rejoined as a follower.
 * Needs Debian's etcd-server (skips with a message without it); run from .ci/run.
 * WARREN_TEST_CLUSTER=rabbitmq runs the same body against a three-node RabbitMQ 3.10.8 cluster with a
 * quorum queue (test/support/rabbit-cluster.ts; "leader" = the queue's leader), for reference figures.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { WarrenCluster, type NodeView } from '../support/cluster.js';
import { ClusterConsumer, ClusterPublisher, confirmedNotDelivered, declareDurableQueue, duplicateDeliveries } from '../support/cluster-clients.js';
import { etcdAvailable } from '../support/etcd.js';
import { RabbitFailoverCluster } from '../support/rabbit-cluster.js';

const QUEUE = 'failover-q';
const STALL_LIMIT_MS = 30_000;
const STALL_GOAL_MS = 5_000;
const reference = process.env['WARREN_TEST_CLUSTER'] === 'rabbitmq';
const skip = reference || etcdAvailable() ? false : 'etcd is not installed (Debian package etcd-server): skipped';

/** What the test needs of a cluster, Warren's or the RabbitMQ reference. */
interface FailoverNode {
  readonly name: string;
  readonly url: string;
  readonly alive: boolean;
  kill(): Promise<void>;
  start(): void;
  waitListening(): Promise<void>;
}
interface FailoverCluster<N extends FailoverNode> {
  readonly nodes: N[];
  urls(): string[];
  waitForLeader(o: { timeoutMs?: number; not?: N | undefined; followers?: number; inSync?: boolean }): Promise<N>;
  view(): Promise<NodeView[] | null>;
  logs(): string;
  stop(): Promise<void>;
}

let cluster: FailoverCluster<FailoverNode> | null = null;
let queueArgs: Record<string, unknown> = {};
before(async () => {
  if (skip) return;
  if (reference) {
    const r = await RabbitFailoverCluster.start(QUEUE);
    queueArgs = r.queueArguments();
    cluster = r as FailoverCluster<FailoverNode>;
  } else {
    cluster = (await WarrenCluster.start({ size: 3 })) as FailoverCluster<FailoverNode>;
  }
});
after(async () => {
  await cluster?.stop();
});

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Longest gap between confirms in [from, to], counting the edges (a stall still going at `to` counts). */
function longestStall(times: number[], from: number, to: number): number {
  let prev = from;
  let worst = 0;
  for (const t of times) {
    if (t < from) continue;
    if (t > to) break;
    worst = Math.max(worst, t - prev);
    prev = t;
  }
  return Math.max(worst, to - prev);
}

/** How long after `since` the first message published after it was confirmed; fails after `limitMs`. */
async function confirmsResume(pub: ClusterPublisher, since: number, limitMs: number, what: string): Promise<number> {
  const ms = await pub.confirmingAgain(since, limitMs);
  if (ms === null) throw new Error(`no publish confirmed within ${limitMs} ms after ${what}:\n${cluster!.logs()}`);
  return ms;
}

/** Until the cluster reports `name` as gone (its registration expired), so a restart is a real rejoin. */
async function seenDown(c: FailoverCluster<FailoverNode>, name: string): Promise<void> {
  const deadline = performance.now() + 30_000;
  for (;;) {
    const mine = (await c.view())?.find((v) => v.name === name);
    if (mine && (!mine.running || mine.role === 'down')) return;
    if (performance.now() > deadline) throw new Error(`${name} still reported as ${JSON.stringify(mine?.raw)} 30 s after kill -9`);
    await sleep(200);
  }
}

test(`kill -9 each node in turn under confirmed load (${reference ? 'RabbitMQ reference' : 'Warren'}): no confirmed message lost, stalls bounded, rejoin as follower`, { skip, timeout: 300_000 }, async () => {
  const c = cluster!;
  const first = await c.waitForLeader({ followers: 2, inSync: true, timeoutMs: 90_000 });
  await declareDurableQueue(first.url, QUEUE, queueArgs);
  const pub = new ClusterPublisher(c.urls(), QUEUE, { window: 64, batch: 10, tickMs: 20 });
  const con = new ClusterConsumer(c.urls(), QUEUE);
  pub.start();
  con.start();
  await confirmsResume(pub, performance.now(), 30_000, 'start');
  await sleep(2000);

  // the leader first (so it is surely one of them), then the others in order
  const victims = [first, ...c.nodes.filter((n) => n !== first)];
  const report: { victim: string; wasLeader: boolean; newLeader: string; resumeMs: number; stallMs: number; rejoinMs: number }[] = [];
  try {
    for (const victim of victims) {
      const leaderBefore = await c.waitForLeader({ followers: 2, inSync: true, timeoutMs: 90_000 });
      const wasLeader = leaderBefore === victim;
      const killedAt = performance.now();
      await victim.kill();
      const resumeMs = await confirmsResume(pub, killedAt, STALL_LIMIT_MS * 2, `killing ${victim.name}`);
      const leader = await c.waitForLeader({ not: wasLeader ? victim : undefined, timeoutMs: 60_000 });
      await seenDown(c, victim.name);
      await sleep(2000); // load on the degraded cluster
      const restartAt = performance.now();
      victim.start();
      await victim.waitListening();
      await c.waitForLeader({ followers: 2, inSync: true, timeoutMs: 90_000 });
      const rejoinMs = performance.now() - restartAt;
      const view = await c.view();
      const mine = view?.find((v) => v.name === victim.name);
      assert.equal(mine?.role, 'follower', `${victim.name} rejoined as ${mine?.role}: ${JSON.stringify(view?.map((v) => v.raw))}`);
      await sleep(1000);
      const stallMs = longestStall(pub.confirmTimes, killedAt, performance.now());
      report.push({ victim: victim.name, wasLeader, newLeader: leader.name, resumeMs: Math.round(resumeMs), stallMs: Math.round(stallMs), rejoinMs: Math.round(rejoinMs) });
    }
  } finally {
    await pub.stop();
  }

  // everything confirmed must arrive; the consumer gets time to drain the backlog and reconnect
  const lost = await confirmedNotDelivered(pub, con);
  await con.stop();
  const dupCount = duplicateDeliveries(con);

  const lines = [
    `cluster failover, ${reference ? 'RabbitMQ 3.10 quorum queue' : 'Warren'} (kill -9, each node in turn):`,
    ...report.map((r) => `  kill ${r.victim}${r.wasLeader ? ' (leader)' : ' (follower)'}: confirms resumed after ${r.resumeMs} ms, longest publish stall ${r.stallMs} ms` +
      `${r.stallMs > STALL_GOAL_MS ? ` (over the ${STALL_GOAL_MS / 1000} s goal)` : ''}, leader then ${r.newLeader}, restarted node back in sync after ${r.rejoinMs} ms`),
    `  published and confirmed: ${pub.confirmed.size}; unconfirmed (nacked or in flight at a failure): ${pub.unconfirmed.size}`,
    `  delivered: ${con.received.size} distinct; duplicates: ${dupCount} deliveries of ${con.duplicates.size} messages; redelivered flag seen ${con.redelivered} times, ` +
      `repeats without it ${con.unflaggedRepeats}`,
    `  confirmed but never delivered: ${lost.length}${lost.length ? ` (first: ${lost.slice(0, 10).join(', ')})` : ''}`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  assert.equal(report.length, 3);
  assert.ok(report.some((r) => r.wasLeader), 'the leader was among the killed nodes');
  assert.ok(pub.confirmed.size > 0);
  assert.deepEqual(lost, [], `${lost.length} confirmed messages were never delivered`);
  // A delivery goes out only once the followers have its delivered mark: whatever the instant of a
  // kill, a message that went out comes back flagged (checked for Warren; printed for RabbitMQ).
  if (!reference) assert.equal(con.unflaggedRepeats, 0, 'a message delivered before a failover came back without the redelivered flag');
  for (const r of report) assert.ok(r.stallMs <= STALL_LIMIT_MS, `publish stall of ${r.stallMs} ms after killing ${r.victim}`);
});
