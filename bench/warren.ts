// Starts Warren the way a user would: `node dist/src/cli/warren.js` on loopback, management off,
// with the open-file limit raised to the hard limit (10,000 idle connections need it).
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { NODE_FLAGS, withNodeEnvironment } from '../src/cli/node-flags.js';
import { waitForAmqp } from './amqp-probe.js';
import type { BrokerProcess } from './broker-process.js';

const warrenCli = fileURLToPath(new URL('../src/cli/warren.js', import.meta.url));

/**
 * `streamPort`: the stream protocol listener's port (the stream scenarios); otherwise it is off.
 * `cli`: another build's dist/src/cli/warren.js (A/B tools), this build's by default.
 */
export async function startWarren(dataDir: string, port: number, streamPort?: number, cli = warrenCli): Promise<BrokerProcess> {
  const url = `amqp://guest:guest@127.0.0.1:${port}/`;
  const t0 = performance.now();
  const child = spawn(
    'sh',
    ['-c', 'ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$@"', 'sh', process.execPath, ...NODE_FLAGS, cli,
      '--port', String(port), '--bind', '127.0.0.1', '--data-dir', dataDir, '--management-port', '0', '--prometheus-port', '0',
      '--stream-port', String(streamPort ?? 0), '--stream-bind', '127.0.0.1'],
    { env: withNodeEnvironment(), stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let tail = '';
  const keepTail = (d: Buffer): void => void (tail = (tail + d.toString()).slice(-4000));
  child.stdout.on('data', keepTail);
  child.stderr.on('data', keepTail);
  let exited = false;
  const exit = new Promise<void>((r) => child.once('exit', () => ((exited = true), r())));
  try {
    await waitForAmqp(url, 120_000, () => !exited);
  } catch (e) {
    child.kill('SIGKILL');
    throw new Error(`${(e as Error).message}\n--- warren output ---\n${tail}`);
  }
  const startupMs = performance.now() - t0;
  return {
    kind: 'warren',
    url,
    port,
    pid: child.pid!,
    dataDir,
    startupMs,
    stop: async () => {
      if (exited) return;
      child.kill('SIGTERM');
      // A broker that ignores SIGTERM for a minute is killed; the timer must not keep the bench alive after a clean exit.
      const killer = setTimeout(() => child.kill('SIGKILL'), 60_000);
      await exit;
      clearTimeout(killer);
    },
  };
}
