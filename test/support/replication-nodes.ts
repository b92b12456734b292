/**
 * A replicated "cluster" in one process, for the replication tests (no etcd): a ReplicationLeader
 * with a Broker on its data dir, and ReplicationFollowers in data dirs of their own, all on free
 * loopback ports. The role logic (who leads, when to promote) is not involved: tests drive it.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Broker, type BrokerOptions } from '../../src/index.js';
import { ReplicationFollower, ReplicationLeader } from '../../src/cluster/replication/index.js';
import { LOCAL_ONLY } from '../../src/data-dir-changes.js';
import { eventually } from './eventually.js';

export const quiet = process.env['REPL_DEBUG'] ? (l: string, m: string, f?: unknown): void => console.log('LOG', l, m, JSON.stringify(f)) : (): void => {};

export function tempDir(tag: string): string {
  return mkdtempSync(path.join(tmpdir(), `warren-repl-${tag}-`));
}

export interface LeaderNode {
  dataDir: string;
  leader: ReplicationLeader;
  broker: Broker;
  url: string;
  close(): Promise<void>;
}

export async function startLeader(dataDir: string, majority: () => number, options: BrokerOptions = {}, maxLagBytes?: number): Promise<LeaderNode> {
  const leader = await ReplicationLeader.start({
    dataDir, host: '127.0.0.1', port: 0, nodeName: 'leader', majority, log: quiet, ...(maxLagBytes ? { maxLagBytes } : {}),
  });
  const broker = await Broker.start({
    port: 0, host: '127.0.0.1', managementPort: 0, prometheusPort: 0, streamPort: 0, dataDir, logLevel: 'silent',
    replication: leader.changes, ...options,
  });
  return {
    dataDir, leader, broker, url: `amqp://guest:guest@127.0.0.1:${broker.port}/%2F`,
    close: async () => {
      await broker.close();
      await leader.close();
    },
  };
}

export function startFollower(dataDir: string, nodeName: string, leaderPort: number): Promise<ReplicationFollower> {
  return ReplicationFollower.start({ dataDir, nodeName, leader: { host: '127.0.0.1', port: leaderPort }, log: quiet, reconnectMs: 100 });
}

/** Wait until `node` is in sync and has acked everything the leader reported so far. */
export async function waitAcked(leader: ReplicationLeader, node: string, timeoutMs = 30_000): Promise<void> {
  const target = leader.position;
  await eventually(() => {
    const f = leader.followers().find((s) => s.node === node);
    if (!f || !f.inSync || f.ackedPosition < target) throw new Error(`${node} not at ${target}: ${JSON.stringify(f)}`);
  }, timeoutMs, 20);
}

/** sha256 of every replicated file (and each directory) under a data dir. */
export function treeDigest(dataDir: string): Map<string, string> {
  const out = new Map<string, string>();
  const visit = (rel: string): void => {
    for (const d of fs.readdirSync(path.join(dataDir, rel), { withFileTypes: true })) {
      if (!rel && LOCAL_ONLY.includes(d.name)) continue;
      const child = rel ? `${rel}/${d.name}` : d.name;
      if (d.isDirectory()) {
        out.set(child, 'dir');
        visit(child);
      } else {
        out.set(child, createHash('sha256').update(fs.readFileSync(path.join(dataDir, child))).digest('hex'));
      }
    }
  };
  visit('');
  return out;
}

export function removeDirs(...dirs: string[]): void {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
}

export interface ReplicatedNodes {
  node: LeaderNode;
  /** Data dir of each follower, by node name. */
  dirs: Record<string, string>;
  follower(name: string): ReplicationFollower;
  stopFollower(name: string): Promise<void>;
  startFollower(name: string): Promise<ReplicationFollower>;
}

/**
 * A leader (with its Broker) and the named followers, each in a fresh data dir, all in sync before
 * `body` runs (unless `waitInSync` is false); everything is closed and removed afterwards.
 */
export async function withReplicatedNodes(
  followers: string[],
  body: (n: ReplicatedNodes) => Promise<void>,
  o: { majority?: number; waitInSync?: boolean; maxLagBytes?: number; broker?: BrokerOptions } = {},
): Promise<void> {
  const leaderDir = tempDir('leader');
  const dirs: Record<string, string> = Object.fromEntries(followers.map((f) => [f, tempDir(f)]));
  const running = new Map<string, ReplicationFollower>();
  let node: LeaderNode | undefined;
  try {
    node = await startLeader(leaderDir, () => o.majority ?? 2, o.broker ?? {}, o.maxLagBytes);
    const leaderPort = node.leader.port;
    const n: ReplicatedNodes = {
      node,
      dirs,
      follower: (name) => running.get(name)!,
      stopFollower: async (name) => {
        await running.get(name)?.close();
        running.delete(name);
      },
      startFollower: async (name) => {
        const f = await startFollower(dirs[name]!, name, leaderPort);
        running.set(name, f);
        return f;
      },
    };
    if (o.waitInSync !== false) {
      for (const f of followers) await n.startFollower(f);
      const leader = node.leader;
      await eventually(() => {
        if (leader.inSync().join() !== [...followers].sort().join()) throw new Error(`in sync: ${leader.inSync().join()}`);
      }, 30_000, 20);
    }
    await body(n);
  } finally {
    for (const f of running.values()) await f.close();
    await node?.close();
    removeDirs(leaderDir, ...Object.values(dirs));
  }
}
