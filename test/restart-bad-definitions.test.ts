// A stored definition that cannot be restored never keeps the broker from starting: it is logged,
// left out, written to a definitions-skipped-*.json file in the data dir, and its queue's message
// files are kept, so fixing the definition brings the messages back. Warren-only (RabbitMQ stores
// its definitions in Mnesia, not in a file an operator can damage).
import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Broker } from '../src/index.js';
import { channel, closeAllClients, confirmChannel, connect } from './support/amqp-client.js';

const dataDir = mkdtempSync(join(tmpdir(), 'warren-bad-defs-'));
const logged: Array<{ level: string; msg: string; fields: Record<string, unknown> | undefined }> = [];

async function start(): Promise<Broker> {
  return Broker.start({
    port: 0, host: '127.0.0.1', managementPort: 0, dataDir,
    logger: (level, msg, fields) => logged.push({ level, msg, fields }),
  });
}

const url = (b: Broker) => `amqp://guest:guest@127.0.0.1:${b.port}/%2F`;

async function fill(b: Broker, queue: string, count: number): Promise<void> {
  const conn = await connect(url(b));
  const ch = await confirmChannel(conn);
  await ch.assertQueue(queue, { durable: true });
  for (let i = 0; i < count; i++) ch.sendToQueue(queue, Buffer.from(`${queue} ${i}`), { persistent: true });
  await ch.waitForConfirms();
  await conn.close();
}

async function messageCount(b: Broker, queue: string): Promise<number> {
  const conn = await connect(url(b));
  const ch = await channel(conn);
  const { messageCount: n } = await ch.checkQueue(queue);
  await conn.close();
  return n;
}

describe('restart with damaged stored definitions', () => {
  after(async () => {
    await closeAllClients();
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('bad items are skipped and kept aside; the rest is served; fixing them restores the messages', async () => {
    let broker = await start();
    await fill(broker, 'good-q', 3);
    await fill(broker, 'doomed-q', 4);
    await broker.close();

    // Damage the stored definitions the ways a hand edit or an older/newer version could.
    const file = join(dataDir, 'definitions.json');
    const defs = JSON.parse(readFileSync(file, 'utf8'));
    const doomed = defs.queues.find((q: { name: string }) => q.name === 'doomed-q');
    doomed.arguments = { 'x-overflow': 'bogus' };
    defs.queues.push({ name: 'orphan-q', vhost: 'no-such-vhost', durable: true, auto_delete: false, arguments: {} });
    defs.exchanges.push({ name: 'odd-x', vhost: '/', type: 'nonsense', durable: true, auto_delete: false, internal: false, arguments: {} });
    defs.bindings.push({ source: 'amq.direct', vhost: '/', destination: 'missing-q', destination_type: 'queue', routing_key: 'k', arguments: {} });
    defs.permissions.push({ user: 'guest', vhost: '/', configure: '(', write: '.*', read: '.*' });
    writeFileSync(file, JSON.stringify(defs));

    broker = await start();
    assert.equal(await messageCount(broker, 'good-q'), 3, 'the good queue and its messages are served');
    const errors = logged.filter((l) => l.msg === 'stored definition skipped at start-up');
    assert.deepEqual(errors.map((l) => l.fields?.['kind']).sort(), ['bindings', 'exchanges', 'permissions', 'queues', 'queues']);
    assert.ok(errors.every((l) => l.level === 'error'));
    assert.match(String(errors.find((l) => String(l.fields?.['item']).includes('doomed-q'))?.fields?.['reason']), /x-overflow/);
    const skippedFiles = readdirSync(dataDir).filter((f) => f.startsWith('definitions-skipped-'));
    assert.equal(skippedFiles.length, 1);
    const skipped = JSON.parse(readFileSync(join(dataDir, skippedFiles[0]!), 'utf8'));
    assert.deepEqual(skipped.queues.map((q: { name: string }) => q.name).sort(), ['doomed-q', 'orphan-q']);
    assert.equal(skipped.exchanges[0].name, 'odd-x');
    await broker.close();

    // The operator fixes the definition: the queue comes back with every message it held.
    const saved = JSON.parse(readFileSync(file, 'utf8'));
    assert.ok(!saved.queues.some((q: { name: string }) => q.name === 'doomed-q'), 'the bad item is not in the saved definitions');
    saved.queues.push({ ...skipped.queues.find((q: { name: string }) => q.name === 'doomed-q'), arguments: {} });
    writeFileSync(file, JSON.stringify(saved));
    broker = await start();
    assert.equal(await messageCount(broker, 'doomed-q'), 4, 'the skipped queue\'s messages were kept');
    assert.equal(await messageCount(broker, 'good-q'), 3);
    await broker.close();
  });
});
