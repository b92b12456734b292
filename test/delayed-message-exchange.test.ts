/**
 * x-delayed-message (the delayed-message-exchange plugin, built in): a message with x-delay is
 * routed by the x-delayed-type's rules once the delay has passed; messages_delayed in the
 * management API counts the held ones; a durable exchange's persistent delayed messages survive a
 * clean restart and a kill -9. Warren-only (the plugin is not shipped with RabbitMQ 3.10).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import amqp from 'amqplib';
import { apiOk, eventually, startTarget, type Target } from './management-support.js';
import { spawnWarren } from './support/warren-child.js';

describe('x-delayed-message exchange', () => {
  let target: Target;
  before(async () => {
    target = await startTarget({ allowReference: false });
  });
  after(async () => target.close());

  test('delayed messages are routed after x-delay; others at once; messages_delayed counts the held ones', async () => {
    const conn = await amqp.connect(target.amqpUrl('guest', 'guest'));
    const ch = await conn.createConfirmChannel();
    await ch.assertExchange('dx', 'x-delayed-message', { durable: false, arguments: { 'x-delayed-type': 'direct' } });
    const q = (await ch.assertQueue('', { exclusive: true })).queue;
    await ch.bindQueue(q, 'dx', 'k');
    const sent = Date.now();
    ch.publish('dx', 'k', Buffer.from('later'), { headers: { 'x-delay': 3000 } });
    ch.publish('dx', 'other-key', Buffer.from('unrouted'), { headers: { 'x-delay': 2500 } });
    ch.publish('dx', 'k', Buffer.from('now'));
    await ch.waitForConfirms();
    assert.equal((await ch.get(q, { noAck: true }) || undefined)?.content.toString(), 'now');
    assert.equal((await apiOk(target, 'GET', '/api/exchanges/%2F/dx')).body.messages_delayed, 2);
    await eventually(async () => (await ch.checkQueue(q)).messageCount === 1, 15000);
    assert.ok(Date.now() - sent >= 2990, 'not before its delay');
    const m = await ch.get(q, { noAck: true });
    assert.equal(m && m.content.toString(), 'later');
    assert.equal(m && m.properties.headers?.['x-delay'], 3000);
    await eventually(async () => (await apiOk(target, 'GET', '/api/exchanges/%2F/dx')).body.messages_delayed === 0, 15000);
    await conn.close();
  });

  test('x-delayed-type is required', async () => {
    const conn = await amqp.connect(target.amqpUrl('guest', 'guest'));
    const ch = await conn.createChannel();
    ch.on('error', () => {});
    await assert.rejects(ch.assertExchange('dx-bad', 'x-delayed-message', {}), (e: Error) =>
      e.message.includes("PRECONDITION_FAILED - Invalid argument, 'x-delayed-type' must be an existing exchange type"));
    await conn.close();
  });

  test('persistent delayed messages of a durable exchange survive a restart and a kill -9', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'warren-delayed-'));
    let w = await spawnWarren({ dataDir });
    try {
      let conn = await amqp.connect(w.url);
      let ch = await conn.createConfirmChannel();
      await ch.assertExchange('dd', 'x-delayed-message', { durable: true, arguments: { 'x-delayed-type': 'fanout' } });
      await ch.assertQueue('dd-q', { durable: true });
      await ch.bindQueue('dd-q', 'dd', '');
      ch.publish('dd', '', Buffer.from('after-restart'), { persistent: true, headers: { 'x-delay': 1500 } });
      ch.publish('dd', '', Buffer.from('after-crash'), { persistent: true, headers: { 'x-delay': 4000 } });
      await ch.waitForConfirms();
      await conn.close();
      await w.kill('SIGTERM');
      w = await spawnWarren({ dataDir });
      conn = await amqp.connect(w.url);
      conn.on('error', () => {});
      ch = await conn.createConfirmChannel();
      ch.on('error', () => {});
      let first: amqp.GetMessage | false = false;
      for (let i = 0; i < 200 && !first; i++) {
        first = await ch.get('dd-q', { noAck: false });
        if (!first) await new Promise((r) => setTimeout(r, 25));
      }
      assert.ok(first, 'the first delayed message arrives after a clean restart');
      assert.equal(first.content.toString(), 'after-restart');
      ch.ack(first);
      await ch.checkQueue('dd-q');
      await w.kill('SIGKILL');
      w = await spawnWarren({ dataDir });
      conn = await amqp.connect(w.url);
      ch = await conn.createConfirmChannel();
      let second: amqp.GetMessage | false = false;
      for (let i = 0; i < 300 && !second; i++) {
        second = await ch.get('dd-q', { noAck: true });
        if (!second) await new Promise((r) => setTimeout(r, 25));
      }
      assert.ok(second, 'the second one arrives after a kill -9');
      assert.equal(second.content.toString(), 'after-crash');
      await conn.close();
    } finally {
      await w.kill('SIGTERM');
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
