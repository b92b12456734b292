/**
 * Network partition (issue 20): three Warren nodes, each in its own network namespace joined to a
 * bridge by a veth pair (test/support/netns.ts), etcd and the clients on the bridge. Under confirmed
 * load the leader's link is taken down, cutting it off from etcd, its peers and the clients. Then:
 * a new leader is elected among the two others and confirms resume there; the isolated node stops
 * accepting publishes — a probe run inside its namespace never gets a confirm and soon finds its
 * connections closed or refused — rather than diverge; a consumer the probe keeps on that node (the
 * cut does not separate them) is never handed a probe message: a leader delivers only what its
 * followers have; after the link comes back it rejoins as a follower and what it took while
 * isolated (the probe's messages) is discarded, never delivered; no confirmed message is lost. Needs root, iproute2 and etcd-server (skips with a message otherwise);
 * every namespace and link is removed even on failure. Run from .ci/run.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { checkoutRoot } from '../support/cli-process.js';
import { WarrenCluster } from '../support/cluster.js';
import { ClusterConsumer, ClusterPublisher, confirmedNotDelivered, declareDurableQueue, duplicateDeliveries } from '../support/cluster-clients.js';
import { etcdAvailable, startEtcd, type EtcdServer } from '../support/etcd.js';
import { NetnsLab, netnsProblem } from '../support/netns.js';

const QUEUE = 'partition-q';
const PROBE_SECONDS = 20;
/** The probe gets this long to connect before the cut (it publishes probe-1 once the link is down). */
const PROBE_LEAD_MS = 10_000;
const probeScript = fileURLToPath(new URL('../support/publish-probe.js', import.meta.url));

const skip = !etcdAvailable()
  ? 'etcd is not installed (Debian package etcd-server): skipped'
  : (netnsProblem() ?? false);

let lab: NetnsLab | null = null;
let etcd: EtcdServer | null = null;
let cluster: WarrenCluster | null = null;
/** The test's clients, stopped after it even when it fails (they would reconnect forever). */
const clients: { stop(): Promise<void> }[] = [];

before(async () => {
  if (skip) return;
  lab = NetnsLab.create(3);
  etcd = await startEtcd({ host: lab.bridgeIp });
  const l = lab;
  cluster = await WarrenCluster.start({
    size: 3,
    etcd,
    host: (i) => l.hostIp(i),
    wrap: (i) => l.wrap(i),
    // clients and the API come from the bridge, not loopback; peers find each other by these addresses
    extraConf: ['loopback_users = none'],
    advertise: true,
  });
});

after(async () => {
  for (const c of clients) await c.stop();
  await cluster?.stop();
  await etcd?.stop();
  lab?.destroy();
});

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

interface ProbeLine { at: number; id: string; outcome: string; done: number; openedBeforeCut?: boolean }

interface Probe {
  /** True once the probe is connected and consuming, false if it could not connect in time. */
  ready: Promise<boolean>;
  /** Tell it the link is down (epoch ms): it publishes probe-1 at once. */
  cut(epoch: number): void;
  /** Its lines (times since the cut). */
  lines: Promise<ProbeLine[]>;
}

/** Starts the publish probe inside a namespace against `url`, connected ahead of the cut (see publish-probe.ts). */
function probe(wrap: string[], url: string): Probe {
  const [cmd, ...args] = [...wrap, process.execPath, probeScript, url, QUEUE, String(PROBE_SECONDS), 'stdin'];
  const child = spawn(cmd!, args, { cwd: checkoutRoot, stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  let onReady: (ok: boolean) => void = () => undefined;
  const ready = new Promise<boolean>((resolve) => {
    onReady = resolve;
    setTimeout(() => resolve(false), PROBE_LEAD_MS).unref();
  });
  child.stdout.on('data', (c: Buffer) => {
    out += c.toString();
    if (out.includes('"ready":true')) onReady(true);
  });
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  const lines = new Promise<ProbeLine[]>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => {
      onReady(false);
      if (code !== 0) return reject(new Error(`publish probe exited ${code}: ${err}`));
      resolve(out.split('\n').filter((l) => l.startsWith('{"at"')).map((l) => JSON.parse(l) as ProbeLine));
    });
  });
  return { ready, lines, cut: (epoch) => child.stdin.end(`cut ${epoch}\n`) };
}

/** "0-2900 ms: timeout ×3, 3100-19900 ms: refused ×80": the probe's outcomes, runs of equal ones merged. */
function runs(lines: ProbeLine[]): string {
  const out: { from: number; to: number; outcome: string; n: number }[] = [];
  for (const p of lines) {
    const last = out[out.length - 1];
    if (last?.outcome === p.outcome) Object.assign(last, { to: p.at, n: last.n + 1 });
    else out.push({ from: p.at, to: p.at, outcome: p.outcome, n: 1 });
  }
  return out.map((r) => `${r.from}-${r.to} ms: ${r.outcome} ×${r.n}`).join(', ');
}

test('an isolated leader stops accepting publishes, a new leader takes over, the old one rejoins as follower with its tail discarded', { skip, timeout: 300_000 }, async () => {
  const c = cluster!;
  const l = lab!;
  const oldLeader = await c.waitForLeader({ followers: 2, inSync: true, timeoutMs: 90_000 });
  await declareDurableQueue(oldLeader.url, QUEUE);
  // heartbeats: a client whose node is cut off hears nothing more, not even a FIN
  const urls = c.urls('?heartbeat=2');
  const pub = new ClusterPublisher(urls, QUEUE, { window: 64, batch: 10, tickMs: 20 });
  const con = new ClusterConsumer(urls, QUEUE);
  clients.push(pub, con);
  pub.start();
  con.start();
  if ((await pub.confirmingAgain(performance.now(), 30_000)) === null) throw new Error(`no confirms before the partition:\n${c.logs()}`);
  await sleep(3000);

  const others = c.nodes.filter((n) => n !== oldLeader);
  // Inside the isolated namespace the node stays reachable: does it still take publishes, and does
  // it deliver them? The probe connects (and consumes) ahead of the cut and publishes probe-1 the
  // moment the link is down, so the isolated leader takes a message before it can notice anything.
  const probing = probe(l.wrap(oldLeader.index), oldLeader.url);
  const probeReady = await probing.ready;
  const cutAt = performance.now();
  l.cut(oldLeader.index);
  probing.cut(Date.now());
  let probeLines: ProbeLine[] = [];
  try {
    const newLeader = await c.waitForLeader({ not: oldLeader, ask: others, timeoutMs: 60_000 });
    const resumed = await pub.confirmingAgain(cutAt, 60_000);
    if (resumed === null) throw new Error(`confirms did not resume on ${newLeader.name} within 60 s:\n${c.logs()}`);
    const resumeMs = Math.round(resumed);
    probeLines = await probing.lines;
    process.stdout.write(`partition: ${oldLeader.name} cut off; ${newLeader.name} leads, confirms resumed ${resumeMs} ms after the cut\n` +
      `  probe inside the isolated namespace (ms after the cut): ${runs(probeLines)}\n`);
    assert.ok(others.includes(newLeader));
  } finally {
    l.heal(oldLeader.index);
  }

  const confirmedByIsolated = probeLines.filter((p) => p.outcome === 'confirmed');
  assert.deepEqual(confirmedByIsolated, [], 'the isolated old leader confirmed publishes');
  // A consumer on the isolated node itself must not get what the followers never had.
  const deliveredByIsolated = probeLines.filter((p) => p.outcome === 'delivered');
  assert.deepEqual(deliveredByIsolated, [], 'the isolated old leader delivered an unreplicated message');
  const first = probeLines.find((p) => p.openedBeforeCut);
  process.stdout.write(`  probe-1 on a channel opened before the cut: ${probeReady && first ? `${first.outcome} ${first.done} ms after the cut` : 'no (the probe could not connect in time)'}\n`);
  // it must also have stopped serving (connections closed or refused), not just gone quiet
  const stopped = probeLines.find((p) => p.outcome === 'closed' || p.outcome === 'refused');
  assert.ok(stopped && stopped.at <= 15_000, `the isolated leader kept its connections open: ${JSON.stringify(probeLines)}`);

  // healed: the old leader comes back as a follower, in sync
  await c.waitForLeader({ followers: 2, inSync: true, timeoutMs: 90_000 });
  const view = await c.view();
  const old = view?.find((v) => v.name === oldLeader.name || v.name.startsWith(`${oldLeader.name}@`));
  assert.equal(old?.role, 'follower', `${oldLeader.name} after healing: ${JSON.stringify(view?.map((v) => v.raw))}`);
  await sleep(2000);
  await pub.stop();

  const lost = await confirmedNotDelivered(pub, con);
  // leave time for anything from the discarded tail to show up if it wrongly survived
  await sleep(2000);
  await con.stop();
  const probeDelivered = [...con.received].filter((id) => id.startsWith('probe-'));
  const dupCount = duplicateDeliveries(con);
  process.stdout.write(`  confirmed ${pub.confirmed.size}, delivered ${con.received.size} distinct, duplicates ${dupCount} ` +
    `(without the redelivered flag ${con.unflaggedRepeats}), ` +
    `confirmed but never delivered ${lost.length}, probe messages delivered ${probeDelivered.length}\n`);
  assert.deepEqual(lost, [], `${lost.length} confirmed messages were never delivered`);
  assert.deepEqual(probeDelivered, [], 'messages taken by the isolated leader survived its demotion');
  assert.equal(con.unflaggedRepeats, 0, 'a message delivered before the partition came back without the redelivered flag');
});
