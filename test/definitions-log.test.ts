/**
 * Durable queues, exchanges and bindings are stored as lines of definitions.log (not by rewriting
 * definitions.json for every declare): after a kill -9 the broker comes back with exactly what it
 * had answered, deletions, unbinds, exchange-to-exchange bindings and auto-deleted exchanges
 * included; declaring and deleting transient and exclusive queues writes nothing.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import amqp from 'amqplib';
import { startWarren, type WarrenProcess } from './support/warren-process.js';

const started: WarrenProcess[] = [];
after(() => Promise.all(started.map((w) => w.stop())));

async function start(options: Parameters<typeof startWarren>[0] = {}): Promise<WarrenProcess> {
  const w = await startWarren(options);
  started.push(w);
  return w;
}

interface Exported {
  queues: { name: string; vhost: string; arguments: Record<string, unknown> }[];
  exchanges: { name: string; type: string }[];
  bindings: { source: string; destination: string; destination_type: string; routing_key: string }[];
}

async function exported(w: WarrenProcess): Promise<Exported> {
  const response = await fetch(`${w.managementUrl}/api/definitions`, {
    headers: { authorization: `Basic ${Buffer.from('guest:guest').toString('base64')}` },
  });
  assert.equal(response.status, 200);
  return (await response.json()) as Exported;
}

const bindingKey = (b: Exported['bindings'][number]): string => `${b.source}>${b.destination_type}:${b.destination}/${b.routing_key}`;

test('definitions changed over AMQP come back after kill -9 exactly as answered; transient churn writes nothing', { timeout: 120_000 }, async () => {
  const w = await start();
  const snapshot = path.join(w.dataDir, 'definitions.json');
  const log = path.join(w.dataDir, 'definitions.log');
  const before = fs.readFileSync(snapshot);
  const c = await amqp.connect(w.url);
  const ch = await c.createChannel();
  await ch.assertExchange('dl-x', 'direct', { durable: true });
  await ch.assertExchange('dl-gone', 'fanout', { durable: true });
  const queues = new Map<string, number>();
  const bindings = new Set<string>();
  for (let i = 0; i < 120; i++) {
    const q = `dl-q${i}`;
    await ch.assertQueue(q, { durable: true, arguments: { 'x-max-length': i + 1 } });
    queues.set(q, i + 1);
    await ch.bindQueue(q, 'dl-x', `k${i}`);
    bindings.add(`dl-x>queue:${q}/k${i}`);
    if (i % 10 === 0) await ch.bindQueue(q, 'dl-gone', '');
  }
  await ch.bindExchange('dl-gone', 'dl-x', 'e2e');
  for (let i = 0; i < 120; i += 4) {
    await ch.deleteQueue(`dl-q${i}`);
    queues.delete(`dl-q${i}`);
    bindings.delete(`dl-x>queue:dl-q${i}/k${i}`);
  }
  for (let i = 1; i < 120; i += 4) {
    await ch.unbindQueue(`dl-q${i}`, 'dl-x', `k${i}`);
    bindings.delete(`dl-x>queue:dl-q${i}/k${i}`);
  }
  // Its bindings go with it, the exchange-to-exchange one included.
  await ch.deleteExchange('dl-gone');
  // An auto-delete exchange goes with its last binding.
  await ch.assertExchange('dl-auto', 'topic', { durable: true, autoDelete: true });
  await ch.bindQueue('dl-q2', 'dl-auto', '#');
  await ch.unbindQueue('dl-q2', 'dl-auto', '#');
  await ch.assertExchange('dl-kept', 'headers', { durable: true, autoDelete: true });
  await ch.bindQueue('dl-q3', 'dl-kept', '', { 'x-match': 'any', a: 1 });
  bindings.add('dl-kept>queue:dl-q3/');

  assert.deepEqual(fs.readFileSync(snapshot), before, 'definitions.json is not rewritten for these changes');
  const logBytes = fs.statSync(log).size;
  for (let i = 0; i < 20; i++) {
    const { queue } = await ch.assertQueue('', { exclusive: true });
    await ch.bindQueue(queue, 'amq.topic', 'x.#');
    await ch.bindQueue(queue, 'dl-x', 'transient');
    await ch.deleteQueue(queue);
    await ch.assertQueue('dl-transient', { durable: false });
    await ch.bindQueue('dl-transient', 'dl-x', 'transient');
    await ch.deleteQueue('dl-transient');
  }
  assert.equal(fs.statSync(log).size, logBytes, 'transient and exclusive queues write nothing');
  await c.close();

  await w.kill();
  await w.restart();
  for (const when of ['after kill -9', 'after a second, graceful restart']) {
    const defs = await exported(w);
    const mine = defs.queues.filter((q) => q.name.startsWith('dl-'));
    assert.deepEqual(new Map(mine.map((q) => [q.name, q.arguments['x-max-length']])), queues, `queues ${when}`);
    assert.deepEqual(defs.exchanges.filter((e) => e.name.startsWith('dl-')).map((e) => e.name).sort(), ['dl-kept', 'dl-x'], `exchanges ${when}`);
    assert.deepEqual(new Set(defs.bindings.map(bindingKey)), bindings, `bindings ${when}`);
    if (when.startsWith('after kill')) await w.restart();
  }
  await w.stop();
});

test('an import of 2,000 durable queues under a 256-file limit: every one is stored, confirms flow, all back after a restart', { timeout: 120_000 }, async () => {
  // The group-commit round after it fsyncs 2,000 new queue directories; all at once, that ran the
  // broker out of descriptors (EMFILE: confirms withheld, and a statistics sample crashed it).
  const w = await start({ fileLimit: 256 });
  const names = Array.from({ length: 2000 }, (_, i) => `imp-${i}`);
  const response = await fetch(`${w.managementUrl}/api/definitions`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from('guest:guest').toString('base64')}`, 'content-type': 'application/json' },
    body: JSON.stringify({ queues: names.map((name) => ({ name, vhost: '/', durable: true, auto_delete: false, arguments: {} })) }),
  });
  assert.equal(response.status, 204, await response.text());
  const c = await amqp.connect(w.url);
  const ch = await c.createConfirmChannel();
  for (const name of [names[0]!, names[1999]!]) ch.sendToQueue(name, Buffer.from('kept'), { persistent: true });
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    ch.waitForConfirms(),
    new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`no confirm in 20 s; broker log:\n${w.logs()}`)), 20_000))),
  ]).finally(() => clearTimeout(timer));
  await c.close();
  assert.doesNotMatch(w.logs(), /fsync failed|EMFILE/);
  await w.restart();
  const defs = await exported(w);
  assert.equal(defs.queues.filter((q) => q.name.startsWith('imp-')).length, 2000);
  const c2 = await amqp.connect(w.url);
  const ch2 = await c2.createChannel();
  assert.equal((await ch2.checkQueue(names[1999]!)).messageCount, 1);
  await c2.close();
  await w.stop();
});
