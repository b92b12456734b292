// A queue's `memory` (management API, `rabbitmqctl list_queues memory`) and
// rabbitmq_queue_process_memory_bytes: what the queue holds in memory, which for a paging queue does
// not grow with its length (RabbitMQ reports its queue process's memory there, small for a paged
// queue). The estimate counted every message's body before, paged out or not.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import amqp from 'amqplib';
import { Broker } from '../src/index.js';
import { apiOk, seg, uniqueName } from './management-support.js';
import { freePort } from './support/free-port.js';
import { find, scrape } from './support/prometheus-text.js';

describe('queue memory', { timeout: 120_000 }, () => {
  let dataDir: string;
  let broker: Broker;
  let mgmt: string;
  let prom: string;
  let conn: amqp.ChannelModel;

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'warren-queue-memory-test-'));
    broker = await Broker.start({
      port: 0, host: '127.0.0.1', dataDir, managementPort: await freePort(), prometheusPort: await freePort(), streamPort: 0, logLevel: 'silent',
    });
    mgmt = `http://127.0.0.1:${broker.managementPort}`;
    prom = `http://127.0.0.1:${broker.prometheusPort}`;
    conn = await amqp.connect(`amqp://guest:guest@127.0.0.1:${broker.port}/%2F`);
  });
  after(async () => {
    await conn.close().catch(() => {});
    await broker.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  for (const durable of [true, false]) {
    test(`${durable ? 'durable' : 'transient'} queue: memory stays the same as it grows on disk, and comes back after a purge`, async () => {
      const q = uniqueName(durable ? 'mem-durable' : 'mem-transient');
      const ch = await conn.createConfirmChannel();
      await ch.assertQueue(q, { durable });
      const body = Buffer.alloc(1024, 7);
      const fill = async (n: number): Promise<void> => {
        for (let i = 0; i < n; i++) ch.sendToQueue(q, body, { persistent: durable });
        await ch.waitForConfirms();
      };
      const queue = async () => (await apiOk(mgmt, 'GET', `/api/queues/%2F/${seg(q)}`)).body;

      await fill(10_000);
      const first = await queue();
      assert.equal(first.messages, 10_000);
      assert.ok(first.messages_paged_out > 0, 'part of it is only on disk');
      assert.ok(first.memory >= first.message_bytes_ram, `memory ${first.memory} covers the bodies in memory (${first.message_bytes_ram})`);
      assert.ok(first.memory < first.message_bytes, `memory ${first.memory} is less than all bodies (${first.message_bytes})`);

      await fill(10_000);
      const second = await queue();
      assert.equal(second.messages, 20_000);
      assert.equal(second.messages_ram, first.messages_ram, 'the same messages in memory');
      assert.equal(second.memory, first.memory, 'twice as long, the same memory');
      const detailed = await scrape(`${prom}/metrics/detailed?family=queue_metrics`);
      assert.equal(find(detailed, 'rabbitmq_detailed_queue_process_memory_bytes', { vhost: '/', queue: q })[0]?.value, second.memory);

      await ch.purgeQueue(q);
      const purged = await queue();
      assert.ok(purged.memory > 0 && purged.memory < 4096, `an empty queue holds little: ${purged.memory}`);
      await ch.deleteQueue(q);
      await ch.close();
    });
  }
});
