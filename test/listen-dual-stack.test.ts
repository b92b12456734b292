// By default Warren listens on [::] like RabbitMQ: one dual-stack socket takes IPv6 clients
// (amqp://[::1]) and IPv4 ones, and guest counts as local over both loopbacks. Warren-only: it is
// about Warren's own default bind address (the reference node is started bound to 127.0.0.1).
import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Broker } from '../src/index.js';
import { channel, closeAllClients, connect } from './support/amqp-client.js';

describe('default listen address', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'warren-dual-stack-'));
  let broker: Broker | undefined;
  after(async () => {
    await closeAllClients();
    await broker?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('no host given: amqp://[::1] and amqp://127.0.0.1 both connect and log in as guest', async () => {
    broker = await Broker.start({ port: 0, managementPort: 0, prometheusPort: 0, dataDir, logLevel: 'silent' });
    for (const host of ['[::1]', '127.0.0.1']) {
      const conn = await connect(`amqp://guest:guest@${host}:${broker.port}/%2F`);
      const ch = await channel(conn);
      const q = (await ch.assertQueue('', { exclusive: true })).queue;
      ch.sendToQueue(q, Buffer.from(host));
      const m = await ch.get(q, { noAck: true });
      assert.equal(m && m.content.toString(), host);
      await conn.close();
    }
  });
});
