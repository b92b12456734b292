// Embedding: `import { Broker } from 'warren'` → Broker.start({ port: 0 }) gives a running broker
// with its port and close(), so Node projects can run Warren inside their own tests.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Broker } from '../src/index.js';
import { externalUrl } from './support/test-broker.js';
import { checkoutRoot } from './support/cli-process.js';
import { channel, connect, consume } from './support/amqp-client.js';

describe('embedding', { skip: externalUrl ? 'embeds Warren' : false }, () => {
  test('Broker.start({ port: 0 }) listens on a free port that real clients can use; close() stops it', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'warren-embed-test-'));
    const broker = await Broker.start({ port: 0, host: '127.0.0.1', managementPort: 0, prometheusPort: 0, dataDir, logLevel: 'silent' });
    try {
      assert.ok(Number.isInteger(broker.port) && broker.port > 0);
      const conn = await connect(`amqp://guest:guest@127.0.0.1:${broker.port}/%2F`);
      const ch = await channel(conn);
      const q = (await ch.assertQueue('', { exclusive: true })).queue;
      const inbox = await consume(ch, q, { noAck: true });
      ch.sendToQueue(q, Buffer.from('embedded'));
      assert.equal((await inbox.waitFor(1))[0]!.content.toString(), 'embedded');
      await conn.close();
    } finally {
      await broker.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  test('two embedded brokers in one process are independent', async () => {
    const dirs = [mkdtempSync(join(tmpdir(), 'warren-embed-a-')), mkdtempSync(join(tmpdir(), 'warren-embed-b-'))];
    const [a, z] = await Promise.all(dirs.map((dataDir) => Broker.start({ port: 0, host: '127.0.0.1', managementPort: 0, prometheusPort: 0, dataDir, logLevel: 'silent' })));
    try {
      assert.notEqual(a!.port, z!.port);
      const ca = await connect(`amqp://guest:guest@127.0.0.1:${a!.port}/%2F`);
      const cz = await connect(`amqp://guest:guest@127.0.0.1:${z!.port}/%2F`);
      const cha = await channel(ca);
      await cha.assertQueue('only-in-a', { exclusive: true });
      const chz = await channel(cz);
      await assert.rejects(chz.checkQueue('only-in-a'), /404/);
      await ca.close();
      await cz.close();
    } finally {
      await Promise.all([a!.close(), z!.close()]);
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    }
  });

  test('close() is idempotent', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'warren-embed-test-'));
    const broker = await Broker.start({ port: 0, host: '127.0.0.1', managementPort: 0, prometheusPort: 0, dataDir, logLevel: 'silent' });
    await broker.close();
    await broker.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('package.json exports the Broker as the package entry point', () => {
    const pkg = JSON.parse(readFileSync(join(checkoutRoot, 'package.json'), 'utf8')) as { name: string; exports: Record<string, string>; main: string };
    assert.equal(pkg.name, 'warren');
    assert.equal(pkg.exports['.'], './dist/src/index.js');
  });

  test('a custom logger receives structured entries', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'warren-embed-test-'));
    const entries: Array<{ level: string; msg: string; fields?: Record<string, unknown> | undefined }> = [];
    const broker = await Broker.start({
      port: 0, host: '127.0.0.1', managementPort: 0, prometheusPort: 0, dataDir, logger: (level, msg, fields) => entries.push({ level, msg, fields }),
    });
    try {
      const listening = entries.find((e) => e.msg === 'listening');
      assert.ok(listening, JSON.stringify(entries));
      assert.equal(listening.fields?.['port'], broker.port);
    } finally {
      await broker.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
