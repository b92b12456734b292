// The `warren` command as operators and tools run it: start-up time, the JSON "listening" line,
// connection logs, options from flags / WARREN_* environment / a config file, --help, bad input,
// and `npm start -- --port P --data-dir D` from the checkout.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { externalUrl } from './support/test-broker.js';
import { CliProcess, warrenCli, warrenProcesses } from './support/cli-process.js';
import { freePort } from './support/free-port.js';
import { NODE_ENVIRONMENT_WORDS, NODE_FLAGS } from '../src/cli/node-flags.js';
import { channel, connect } from './support/amqp-client.js';

/** The options every broker of these tests gets: loopback only, no HTTP listeners, its own data dir. */
const baseOptions = (dataDir: string) => ['--bind', '127.0.0.1', '--management-port', '0', '--prometheus-port', '0', '--data-dir', dataDir];

describe('warren CLI start-up', { skip: externalUrl ? 'starts Warren processes' : false }, () => {
  const { start, tmp } = warrenProcesses();
  const base = () => baseOptions(tmp());

  // How fast it starts is measured by `npm run bench` (scenarios startup-empty, startup-stored), not here.
  test('starts and logs a JSON "listening" line with the real port', async () => {
    const p = start(['--port', '0', ...base()]);
    const { port } = await p.listening();
    assert.ok(port > 0);
    const line = p.lines.find((l) => l.msg === 'listening')!;
    assert.equal(typeof line['time'], 'string');
    assert.equal(line.level, 'info');
    const conn = await connect(`amqp://guest:guest@127.0.0.1:${port}/%2F`);
    await (await channel(conn)).checkExchange('amq.direct');
    await conn.close();
  });
});

// Independent processes: run them side by side to keep the suite short.
describe('warren CLI options and logs', { skip: externalUrl ? 'starts Warren processes' : false, concurrency: true }, () => {
  const { start, adopt, tmp } = warrenProcesses();
  const base = () => baseOptions(tmp());

  test('logs connection opened and closed with the peer and the user', async () => {
    const p = start(['--port', '0', ...base()]);
    const { port } = await p.listening();
    const conn = await connect(`amqp://guest:guest@127.0.0.1:${port}/%2F`);
    const opened = await p.waitForLine((l) => l.msg === 'connection opened');
    assert.equal(opened['user'], 'guest');
    assert.match(String(opened['peer']), /127\.0\.0\.1:\d+/);
    await conn.close();
    const closed = await p.waitForLine((l) => l.msg === 'connection closed');
    assert.equal(closed['user'], 'guest');
    assert.equal(closed['peer'], opened['peer']);
  });

  test('logs a failed login with the peer and user name', async () => {
    const p = start(['--port', '0', ...base()]);
    const { port } = await p.listening();
    const amqp = (await import('amqplib')).default;
    await assert.rejects(amqp.connect(`amqp://guest:wrong@127.0.0.1:${port}/%2F`));
    const line = await p.waitForLine((l) => /auth/i.test(String(l.msg)));
    assert.equal(line['user'], 'guest');
    assert.ok(line['peer']);
  });

  test('--port, WARREN_PORT and a --config file all set the port; flags win over the environment', async () => {
    const [p1, p2, p3, p4] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
    const cfg = join(tmp(), 'warren.json');
    writeFileSync(cfg, JSON.stringify({ port: p3, bind: '127.0.0.1', 'management-port': 0, 'prometheus-port': 0 }));
    const byFlag = start(['--port', String(p1), ...base()]);
    const byEnv = start(base(), { WARREN_PORT: String(p2) });
    const byFile = start(['--config', cfg, '--data-dir', tmp()]);
    const flagBeatsEnv = start(['--port', String(p4), ...base()], { WARREN_PORT: String(p2 + 1) });
    assert.equal((await byFlag.listening()).port, p1);
    assert.equal((await byEnv.listening()).port, p2);
    assert.equal((await byFile.listening()).port, p3);
    assert.equal((await flagBeatsEnv.listening()).port, p4);
  });

  test('--help explains at least --port, --management-port, --bind and --data-dir', async () => {
    const p = start(['--help']);
    let out = '';
    p.child.stdout?.on('data', (c: string) => (out += c));
    assert.ok(await p.waitExit(5000));
    assert.equal(p.exitCode, 0);
    for (const flag of ['--port', '--management-port', '--bind', '--data-dir']) assert.ok(out.includes(flag), `--help lacks ${flag}`);
  });

  test('an unknown flag is refused with exit code 2 and the usage', async () => {
    const p = start(['--no-such-flag']);
    assert.ok(await p.waitExit(5000));
    assert.equal(p.exitCode, 2);
    assert.match(p.stderr.join(''), /--port/);
  });

  test('--node-name names the node in the management API; a bad name is refused with exit code 2', async () => {
    const mgmt = await freePort();
    const p = start(['--port', '0', ...base(), '--management-port', String(mgmt), '--node-name', 'warren-7']);
    await p.listening();
    const res = await fetch(`http://127.0.0.1:${mgmt}/api/overview`, { headers: { authorization: `Basic ${Buffer.from('guest:guest').toString('base64')}` } });
    assert.equal(((await res.json()) as { node: string }).node, 'warren-7');
    const bad = start(['--node-name', 'a b']);
    assert.ok(await bad.waitExit(5000));
    assert.equal(bad.exitCode, 2);
    assert.match(bad.stderr.join(''), /--node-name must be letters, digits.*got 'a b'/);
  });

  test('a port already in use makes it exit non-zero with an error, not hang', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    const port = (blocker.address() as { port: number }).port;
    try {
      const p = start(['--port', String(port), ...base()]);
      assert.ok(await p.waitExit(5000), 'still running');
      assert.notEqual(p.exitCode, 0);
    } finally {
      blocker.close();
    }
  });

  // Tools outside the project rely on exactly this command. It rebuilds first (prestart), so it is slow.
  test('the installed command (shebang) and npm start give node the same V8 flags and glibc tunables as src/cli/node-flags.ts', () => {
    const shebang = readFileSync(warrenCli, 'utf8').split('\n')[0]!;
    const start = (JSON.parse(readFileSync(join(warrenCli, '../../../../package.json'), 'utf8')) as { scripts: { start: string } }).scripts.start;
    const env = NODE_ENVIRONMENT_WORDS.join(' ');
    assert.equal(shebang, `#!/usr/bin/env -S ${env} node ${NODE_FLAGS.join(' ')}`);
    assert.equal(start, `${env} node ${NODE_FLAGS.join(' ')} dist/src/cli/warren.js`);
  });

  test('npm start -- --port P --data-dir D starts a broker from the checkout', { timeout: 60_000 }, async () => {
    const port = await freePort();
    const p = adopt(CliProcess.command('npm', ['start', '--silent', '--', '--port', String(port), '--data-dir', tmp(), '--management-port', '0', '--prometheus-port', '0']));
    assert.equal((await p.listening(45_000)).port, port);
    const conn = await connect(`amqp://guest:guest@127.0.0.1:${port}/%2F`);
    await (await channel(conn)).checkExchange('amq.direct');
    await conn.close();
    await p.stop();
  });
});
