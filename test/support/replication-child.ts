/**
 * One replication node as its own process, for tests and bench/replication-throughput.ts (no etcd):
 *
 *   node replication-child.js single DIR          a Broker alone
 *   node replication-child.js leader DIR [MAJORITY]   ReplicationLeader + Broker on DIR (majority
 *                                                    default 3: two followers must be in sync)
 *   node replication-child.js follower DIR NAME PORT   ReplicationFollower of the leader on PORT
 *
 * Prints one JSON line when ready ({"amqp":port,"repl":port}, or {"caughtUp":true} for a follower);
 * SIGTERM closes it cleanly (a follower's dir is then consistent and synced), SIGKILL is a crash.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Broker } from '../../src/index.js';
import { ReplicationFollower, ReplicationLeader } from '../../src/cluster/replication/index.js';

const quiet = (): void => {};

async function main(role: string, dataDir: string, name?: string, port?: string): Promise<void> {
  const majority = Number(name ?? 3);
  if (role === 'follower') {
    const f = await ReplicationFollower.start({ dataDir, nodeName: name!, leader: { host: '127.0.0.1', port: Number(port) }, log: quiet, reconnectMs: 100 });
    f.once('caught-up', () => console.log(JSON.stringify({ caughtUp: true })));
    process.on('SIGTERM', () => void f.close().then(() => process.exit(0)));
    return;
  }
  const leader = role === 'leader'
    ? await ReplicationLeader.start({ dataDir, host: '127.0.0.1', port: 0, nodeName: 'leader', majority: () => majority, log: quiet })
    : undefined;
  const broker = await Broker.start({
    port: 0, host: '127.0.0.1', managementPort: 0, prometheusPort: 0, streamPort: 0, dataDir, logLevel: 'silent',
    ...(leader ? { replication: leader.changes } : {}),
  });
  console.log(JSON.stringify({ amqp: broker.port, repl: leader?.port ?? 0 }));
  process.on('SIGTERM', () => void broker.close().then(() => leader?.close()).then(() => process.exit(0)));
}

export interface NodeProcess {
  proc: ChildProcess;
  info: { amqp?: number; repl?: number; caughtUp?: boolean };
  /** SIGTERM (clean close) or SIGKILL (crash), and wait for the exit. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/** Start a node process; resolves with what it printed when ready. */
export function startNodeProcess(args: string[]): Promise<NodeProcess> {
  const proc = spawn(process.execPath, [fileURLToPath(import.meta.url), ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  const stop = async (signal: NodeJS.Signals = 'SIGTERM'): Promise<void> => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
    await exited;
  };
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: proc.stdout! });
    lines.once('line', (line) => resolve({ proc, info: JSON.parse(line) as NodeProcess['info'], stop }));
    proc.once('exit', (code) => reject(new Error(`${args[0]} node exited ${code}`)));
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [role, dataDir, name, port] = process.argv.slice(2);
  await main(role!, dataDir!, name, port);
}
