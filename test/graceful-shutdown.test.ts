// Graceful shutdown: SIGTERM / SIGINT (or broker.close() when embedded) closes every connection
// with connection.close 320 CONNECTION_FORCED, RabbitMQ's text, and the process exits 0 promptly.
import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tcpConnect } from 'node:net';
import { externalUrl, startTestBroker } from './support/test-broker.js';
import { CliProcess } from './support/cli-process.js';
import { RawConnection } from './support/raw-amqp.js';
import { channel, closeReason, connect, consume } from './support/amqp-client.js';

const FORCED = "CONNECTION_FORCED - broker forced connection closure with reason 'shutdown'";

describe('graceful shutdown', { skip: externalUrl ? 'stops the broker' : false }, () => {
  const dirs: string[] = [];
  const procs: CliProcess[] = [];
  const startCli = async () => {
    const d = mkdtempSync(join(tmpdir(), 'warren-shutdown-test-'));
    dirs.push(d);
    const p = CliProcess.start(['--port', '0', '--bind', '127.0.0.1', '--management-port', '0', '--prometheus-port', '0', '--data-dir', d]);
    procs.push(p);
    const { port } = await p.listening();
    return { p, port };
  };
  after(async () => {
    await Promise.all(procs.map((p) => p.stop()));
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    test(`${signal}: every client gets connection.close 320 CONNECTION_FORCED and the process exits 0`, async () => {
      const { p, port } = await startCli();
      const url = `amqp://guest:guest@127.0.0.1:${port}/%2F`;
      const conns = [await connect(url), await connect(url)];
      const ch = await channel(conns[0]!);
      const q = (await ch.assertQueue('', { exclusive: true })).queue;
      await consume(ch, q);
      const t0 = Date.now();
      p.signalGroup(signal);
      for (const c of conns) assert.deepEqual(await closeReason(c), { code: 320, text: FORCED });
      assert.ok(await p.waitExit(5000), 'did not exit');
      assert.equal(p.exitCode, 0);
      assert.ok(Date.now() - t0 < 3000, `shutdown took ${Date.now() - t0} ms`);
    });
  }

  test('a raw client sees close 320 with class/method 0/0, and the socket is closed after close-ok', async () => {
    const { p, port } = await startCli();
    const { conn: r } = await RawConnection.handshake('127.0.0.1', port);
    try {
      await r.openChannel(1);
      p.signalGroup('SIGTERM');
      const close = await r.expectConnectionClose();
      assert.deepEqual(close, { code: 320, text: FORCED, classId: 0, methodId: 0 });
      assert.ok(await r.closedWithin(3000));
      assert.ok(await p.waitExit(5000));
    } finally {
      r.destroy();
    }
  });

  test('a client that never answers close-ok does not keep the broker from exiting', async () => {
    const { p, port } = await startCli();
    const { conn: r } = await RawConnection.handshake('127.0.0.1', port);
    try {
      r.socket.pause(); // read nothing, answer nothing
      p.signalGroup('SIGTERM');
      assert.ok(await p.waitExit(5000), 'broker waited forever for close-ok');
      assert.equal(p.exitCode, 0);
    } finally {
      r.destroy();
    }
  });

  test('embedded: broker.close() sends 320 to clients and stops listening', async () => {
    const b = await startTestBroker();
    const conn = await connect(b.url);
    await b.close();
    assert.deepEqual(await closeReason(conn), { code: 320, text: FORCED });
    const refused = await new Promise<boolean>((resolve) => {
      const s = tcpConnect({ host: '127.0.0.1', port: b.port });
      s.once('connect', () => { s.destroy(); resolve(false); });
      s.once('error', () => resolve(true));
    });
    assert.ok(refused, 'port still accepts connections after close()');
  });
});
