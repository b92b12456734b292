// Logs: every connection close with its reason in RabbitMQ's words, the log file reopened on
// SIGUSR1/SIGHUP (logrotate), RabbitMQ-style plain-text lines, and an embedded broker that prints
// nothing unless asked.
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import amqp from 'amqplib';
import { Broker } from '../src/index.js';
import { CliProcess, checkoutRoot, type LogLine } from './support/cli-process.js';
import { RawConnection } from './support/raw-amqp.js';
import { eventually } from './support/eventually.js';

const external = process.env['WARREN_TEST_AMQP_URL'];
const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'warren-log-test-'));
  dirs.push(d);
  return d;
};
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const closedWith = (reason: string | RegExp) => (l: LogLine) =>
  l.msg === 'connection closed' && (typeof reason === 'string' ? l['reason'] === reason : reason.test(String(l['reason'])));

describe('logs', { skip: external ? 'starts Warren processes' : false }, () => {
  test('each connection close is logged with its reason; the log file is reopened on SIGUSR1 and SIGHUP', { timeout: 60_000 }, async () => {
    const dir = tmp();
    const logFile = join(dir, 'warren.log');
    const p = CliProcess.start(['--port', '0', '--bind', '127.0.0.1', '--management-port', '0', '--prometheus-port', '0', '--data-dir', dir, '--log-file', logFile]);
    try {
      const { port } = await p.listening();

      // A client that stops sending heartbeats: RabbitMQ's "missed heartbeats from client, timeout: Ns".
      const { conn: silent } = await RawConnection.handshake('127.0.0.1', port, { heartbeat: 1 });
      const missed = await p.waitForLine(closedWith('missed heartbeats from client, timeout: 1s'), 10_000);
      assert.equal(missed.level, 'warn');
      assert.equal(missed['user'], 'guest');
      assert.ok(silent);

      // A client whose socket just goes away.
      const dropped = await amqp.connect(`amqp://guest:guest@127.0.0.1:${port}/%2F`);
      dropped.on('error', () => {});
      (dropped as unknown as { connection: { stream: { destroy(): void } } }).connection.stream.destroy();
      assert.equal((await p.waitForLine(closedWith('client unexpectedly closed TCP connection'))).level, 'warn');

      // A client that closes properly.
      const polite = await amqp.connect(`amqp://guest:guest@127.0.0.1:${port}/%2F`);
      await polite.close();
      assert.equal((await p.waitForLine(closedWith(/^client closed: 200/))).level, 'info');

      // The file got the same entries.
      const before = readFileSync(logFile, 'utf8');
      assert.match(before, /"msg":"listening"/);
      assert.match(before, /missed heartbeats from client, timeout: 1s/);

      // logrotate: move the file away, signal, and the broker starts a new one at the same path.
      for (const signal of ['SIGUSR1', 'SIGHUP'] as const) {
        const rotated = `${logFile}.${signal}`;
        renameSync(logFile, rotated);
        p.child.kill(signal);
        await eventually(() => assert.ok(existsSync(logFile) && /log file reopened/.test(readFileSync(logFile, 'utf8'))), 5000);
        assert.doesNotMatch(readFileSync(logFile, 'utf8'), /"msg":"listening"/);
      }
      const again = await amqp.connect(`amqp://guest:guest@127.0.0.1:${port}/%2F`);
      await again.close();
      await eventually(() => assert.match(readFileSync(logFile, 'utf8'), /client closed: 200/), 5000);
    } finally {
      await p.stop();
    }
  });

  test('logFormatter plaintext writes RabbitMQ-style lines', async () => {
    const dir = tmp();
    const logFile = join(dir, 'plain.log');
    const broker = await Broker.start({ port: 0, host: '127.0.0.1', managementPort: 0, prometheusPort: 0, dataDir: dir, logFile, logFormatter: 'plaintext', logFileLevel: 'info' });
    await broker.close();
    const lines = readFileSync(logFile, 'utf8').trim().split('\n');
    const listening = lines.find((l) => / \[info\] listening /.test(l));
    assert.ok(listening, lines.join('\n'));
    assert.match(listening, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}\+00:00 \[info\] listening port=\d+ /);
  });

  test('an embedded Broker.start() prints nothing unless asked', async () => {
    const dir = tmp();
    const script = `
      import { Broker } from ${JSON.stringify(join(checkoutRoot, 'dist', 'src', 'index.js'))};
      import amqp from 'amqplib';
      const b = await Broker.start({ port: 0, host: '127.0.0.1', managementPort: 0, prometheusPort: 0, dataDir: ${JSON.stringify(dir)} });
      const c = await amqp.connect('amqp://guest:guest@127.0.0.1:' + b.port);
      await c.close();
      await b.close();
      process.stderr.write('done');
    `;
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], { cwd: checkoutRoot });
    assert.equal(stderr, 'done');
    assert.equal(stdout, '');
  });
});
