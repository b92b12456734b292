// A private RabbitMQ node for the bench (Debian's rabbitmq-server, installed if missing): its own
// node name, data dir and loopback port, management off, run as the rabbitmq user with the
// open-file limit at the hard limit. Same recipe as ../shared/tools/reference-rabbitmq.sh, but
// spawned directly so start-up can be timed from process start.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { waitForAmqp } from './amqp-probe.js';
import type { BrokerProcess } from './broker-process.js';
import { log, run, sleep } from './proc.js';

export async function ensureRabbitInstalled(): Promise<void> {
  if ((await run('dpkg', ['-s', 'rabbitmq-server'])).code === 0) return;
  log('rabbitmq-server is not installed: apt-get install -y rabbitmq-server');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const update = await run('apt-get', ['update', '-q'], { env });
  if (update.code !== 0) throw new Error(`apt-get update failed: ${update.stderr}`);
  const install = await run('apt-get', ['install', '-y', '-q', 'rabbitmq-server'], { env });
  if (install.code !== 0) throw new Error(`apt-get install rabbitmq-server failed: ${install.stderr}`);
}

export async function rabbitVersion(): Promise<string> {
  const r = await run('dpkg-query', ['-W', '-f', '${Version}', 'rabbitmq-server']);
  return r.code === 0 ? r.stdout.trim() : 'unknown';
}

export const nodeName = (port: number): string => `bench${port}@${os.hostname().split('.')[0]}`;

/** `streamPort`: enable rabbitmq_stream on that port (the stream scenarios); otherwise no plugins. */
export async function startRabbit(dir: string, port: number, streamPort?: number): Promise<BrokerProcess> {
  for (const d of ['mnesia', 'log', 'plugins-expand']) mkdirSync(join(dir, d), { recursive: true });
  const stream = streamPort === undefined ? '' : `stream.listeners.tcp.default = 127.0.0.1:${streamPort}\nstream.advertised_host = 127.0.0.1\n`;
  writeFileSync(join(dir, 'rabbitmq.conf'), `listeners.tcp.default = 127.0.0.1:${port}\n${stream}`);
  // no management: Warren runs without it too
  writeFileSync(join(dir, 'enabled_plugins'), streamPort === undefined ? '[].\n' : '[rabbitmq_stream].\n');
  const chown = await run('chown', ['-R', 'rabbitmq:rabbitmq', dir]);
  if (chown.code !== 0) throw new Error(`chown ${dir} failed (the bench needs root to run RabbitMQ): ${chown.stderr}`);
  const node = nodeName(port);
  const env = {
    ...process.env,
    HOME: '/var/lib/rabbitmq',
    RABBITMQ_NODENAME: node,
    RABBITMQ_NODE_IP_ADDRESS: '127.0.0.1',
    RABBITMQ_NODE_PORT: String(port),
    RABBITMQ_DIST_PORT: String(port + 20000),
    RABBITMQ_MNESIA_BASE: join(dir, 'mnesia'),
    RABBITMQ_LOG_BASE: join(dir, 'log'),
    RABBITMQ_PID_FILE: join(dir, 'node.pid'),
    RABBITMQ_CONFIG_FILE: join(dir, 'rabbitmq.conf'),
    RABBITMQ_ENABLED_PLUGINS_FILE: join(dir, 'enabled_plugins'),
    RABBITMQ_PLUGINS_EXPAND_DIR: join(dir, 'plugins-expand'),
    ERL_EPMD_ADDRESS: '127.0.0.1',
  };
  const url = `amqp://guest:guest@127.0.0.1:${port}/`;
  const t0 = performance.now();
  // setpriv, not su: su's PAM limits would drop the open-file limit to 1024
  const child = spawn(
    'sh',
    ['-c', 'ulimit -n "$(ulimit -Hn)"; cd /var/lib/rabbitmq && exec setpriv --reuid=rabbitmq --regid=rabbitmq --init-groups /usr/lib/rabbitmq/bin/rabbitmq-server'],
    { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let tail = '';
  const keepTail = (d: Buffer): void => void (tail = (tail + d.toString()).slice(-4000));
  child.stdout.on('data', keepTail);
  child.stderr.on('data', keepTail);
  let exited = false;
  const exit = new Promise<void>((r) => child.once('exit', () => ((exited = true), r())));
  try {
    await waitForAmqp(url, 180_000, () => !exited);
  } catch (e) {
    killGroup(child.pid!);
    throw new Error(`${(e as Error).message}\n--- rabbitmq output ---\n${tail}`);
  }
  const startupMs = performance.now() - t0;
  const pidFile = join(dir, 'node.pid');
  for (let i = 0; i < 100 && !existsSync(pidFile); i++) await sleep(50);
  const beamPid = Number(readFileSync(pidFile, 'utf8').trim());
  return {
    kind: 'rabbitmq',
    url,
    port,
    pid: beamPid,
    dataDir: dir,
    startupMs,
    kill: async () => {
      if (exited) return;
      killGroup(child.pid!);
      await exit;
    },
    stop: async () => {
      if (exited) return;
      const r = await run('rabbitmqctl', ['-n', node, 'stop'], { timeoutMs: 120_000 });
      if (r.code !== 0) log(`rabbitmqctl stop failed (${r.stderr.trim().slice(0, 200)}); killing the node`);
      const done = await Promise.race([exit.then(() => true), sleep(r.code === 0 ? 60_000 : 100).then(() => false)]);
      if (!done) {
        killGroup(child.pid!);
        await exit;
      }
    },
  };
}

function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL'); // detached: the node runs in its own process group
  } catch {
    /* already gone */
  }
}
