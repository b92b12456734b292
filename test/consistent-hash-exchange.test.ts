/**
 * x-consistent-hash (RabbitMQ's consistent-hash exchange plugin, built into Warren): weights from
 * binding keys, the same key always to the same queue, hash-header / hash-property, and the
 * plugin's refusals. Checked on RabbitMQ 3.10.8 with the plugin enabled (WARREN_TEST_AMQP_URL).
 */
import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestBroker, uniq, type TestBroker } from './support/test-broker.js';
import { closeAllClients, connect } from './support/amqp-client.js';

describe('x-consistent-hash exchange', () => {
  let b: TestBroker;
  before(async () => {
    b = await startTestBroker();
  });
  afterEach(async () => closeAllClients());
  after(async () => b.close());

  async function ring(weights: number[], args: Record<string, unknown> = {}) {
    const conn = await connect(b.url);
    const ch = await conn.createConfirmChannel();
    const ex = uniq('chx');
    await ch.assertExchange(ex, 'x-consistent-hash', { durable: false, autoDelete: true, arguments: args });
    const queues: string[] = [];
    for (const w of weights) {
      const q = (await ch.assertQueue('', { exclusive: true })).queue;
      await ch.bindQueue(q, ex, String(w));
      queues.push(q);
    }
    return { ch, ex, queues };
  }

  test('shares follow the weights; one routing key always reaches the same queue', async () => {
    const { ch, ex, queues } = await ring([1, 3]);
    for (let i = 0; i < 2000; i++) ch.publish(ex, `key-${i}`, Buffer.from('x'));
    await ch.waitForConfirms();
    const [a, c] = await Promise.all(queues.map(async (q) => (await ch.checkQueue(q)).messageCount));
    assert.equal(a! + c!, 2000);
    assert.ok(c! > a! * 1.8 && c! < a! * 5, `weights 1:3 gave ${a}:${c}`);
    for (const q of queues) await ch.purgeQueue(q);
    for (let i = 0; i < 20; i++) ch.publish(ex, 'same-key', Buffer.from(String(i)));
    await ch.waitForConfirms();
    const counts = await Promise.all(queues.map(async (q) => (await ch.checkQueue(q)).messageCount));
    assert.deepEqual(counts.sort(), [0, 20]);
  });

  test('hash-header and hash-property route on a header or a property instead of the routing key', async () => {
    for (const [args, props] of [
      [{ 'hash-header': 'tenant' }, (i: number) => ({ headers: { tenant: i % 2 === 0 ? 'even' : 'odd' } })],
      [{ 'hash-property': 'message_id' }, (i: number) => ({ messageId: i % 2 === 0 ? 'even' : 'odd' })],
    ] as const) {
      const { ch, ex, queues } = await ring([5, 5, 5], args);
      for (let i = 0; i < 40; i++) ch.publish(ex, `rk-${i}`, Buffer.from('x'), props(i));
      await ch.waitForConfirms();
      const counts = await Promise.all(queues.map(async (q) => (await ch.checkQueue(q)).messageCount));
      assert.equal(counts.reduce((x, y) => x + y, 0), 40);
      // Two distinct keys: at most two queues got messages, in multiples of 20.
      assert.ok(counts.every((n) => n % 20 === 0), JSON.stringify(counts));
    }
  });

  test('refusals: a non-integer binding key, hash-header with hash-property, an unknown property', async () => {
    const conn = await connect(b.url);
    const reason = async (fn: (ch: import('amqplib').Channel) => Promise<unknown>) => {
      const ch = await conn.createChannel();
      ch.on('error', () => {});
      try {
        await fn(ch);
        return 'ok';
      } catch (e) {
        return (e as Error).message.replace(/^.*with message "/, '').replace(/"$/, '');
      }
    };
    const ex = uniq('chx-bad');
    assert.equal(await reason(async (ch) => {
      await ch.assertExchange(ex, 'x-consistent-hash', { autoDelete: true });
      const q = (await ch.assertQueue('', { exclusive: true })).queue;
      await ch.bindQueue(q, ex, 'abc');
    }), 'PRECONDITION_FAILED - The binding key must be an integer: <<"abc">>');
    assert.equal(await reason((ch) => ch.assertExchange(uniq('chx'), 'x-consistent-hash', { arguments: { 'hash-header': 'h', 'hash-property': 'message_id' } })),
      'PRECONDITION_FAILED - hash-header and hash-property are mutually exclusive');
    assert.equal(await reason((ch) => ch.assertExchange(uniq('chx'), 'x-consistent-hash', { arguments: { 'hash-property': 'bogus' } })),
      'PRECONDITION_FAILED - Unsupported property: bogus');
  });
});
