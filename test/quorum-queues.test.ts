/**
 * Quorum queues' client-visible contract, as RabbitMQ 3.10.8 shows it (WARREN_TEST_REFERENCE runs
 * the same bodies there): declaration rules and texts, type "quorum" in the management API,
 * x-delivery-count on deliveries, delivery-limit (argument or policy) dead-lettering with reason
 * delivery_limit, returns through a closing channel counted too. `x-queue-type: stream` is refused
 * (Warren-only: RabbitMQ has streams) until streams are wired into AMQP declaration.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { api, apiOk, connect, eventually, seg, startTarget, uniqueName, type Target } from './management-support.js';

describe('quorum queues', () => {
  let target: Target;
  const queues: string[] = [];
  before(async () => {
    target = await startTarget();
  });
  after(async () => {
    for (const q of queues) await api(target, 'DELETE', `/api/queues/%2F/${seg(q)}`);
    await target.close();
  });

  const refusal = async (name: string, options: Record<string, unknown>) => {
    const conn = await connect(target.amqpUrl('guest', 'guest'));
    const ch = await conn.createChannel();
    ch.on('error', () => {});
    try {
      await ch.assertQueue(name, options);
      queues.push(name);
      return 'accepted';
    } catch (e) {
      return (e as Error).message.replace(/^.*with message "/, '').replace(/"$/, '');
    } finally {
      await conn.close().catch(() => {});
    }
  };

  test('declaration rules with RabbitMQ\'s texts', async () => {
    const q = uniqueName('qq');
    const quorum = { 'x-queue-type': 'quorum' };
    assert.equal(await refusal(q, { durable: false, arguments: quorum }), `PRECONDITION_FAILED - invalid property 'non-durable' for queue '${q}' in vhost '/'`);
    assert.equal(await refusal(q, { durable: true, exclusive: true, arguments: quorum }), `PRECONDITION_FAILED - invalid property 'exclusive-owner' for queue '${q}' in vhost '/'`);
    assert.equal(await refusal(q, { durable: true, autoDelete: true, arguments: quorum }), `PRECONDITION_FAILED - invalid property 'auto-delete' for queue '${q}' in vhost '/'`);
    assert.equal(await refusal(q, { durable: true, arguments: { ...quorum, 'x-max-priority': 5 } }),
      `PRECONDITION_FAILED - invalid arg 'x-max-priority' for queue '${q}' in vhost '/' of queue type rabbit_quorum_queue`);
    assert.equal(await refusal('', { durable: true, arguments: quorum }), 'PRECONDITION_FAILED - Cannot declare a server-named queue for type rabbit_quorum_queue');
    assert.equal(await refusal(q, { durable: false, arguments: { 'x-queue-type': 'bogus' } }),
      `PRECONDITION_FAILED - invalid arg 'x-queue-type' for queue '${q}' in vhost '/': "unsupported queue type 'bogus'"`);
    assert.equal(await refusal(q, { durable: true, arguments: quorum }), 'accepted');
    await eventually(async () => (await apiOk(target, 'GET', `/api/queues/%2F/${seg(q)}`)).body.type === 'quorum', 15000);
  });

  test('x-delivery-count on every delivery; past x-delivery-limit dead-lettered with reason delivery_limit', async () => {
    const conn = await connect(target.amqpUrl('guest', 'guest'));
    const ch = await conn.createConfirmChannel();
    const q = uniqueName('qq-dl');
    const dlq = uniqueName('qq-dlq');
    queues.push(q);
    await ch.assertQueue(dlq, { durable: false, exclusive: true });
    await ch.assertQueue(q, { durable: true, arguments: { 'x-queue-type': 'quorum', 'x-delivery-limit': 2, 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': dlq } });
    ch.sendToQueue(q, Buffer.from('m'), { headers: { a: 1 } });
    await ch.waitForConfirms();
    const counts: unknown[] = [];
    for (let i = 0; i < 4; i++) {
      let m = await ch.get(q, { noAck: false });
      for (let tries = 0; !m && tries < 50 && counts.length < 3; tries++) {
        await new Promise((r) => setTimeout(r, 20));
        m = await ch.get(q, { noAck: false });
      }
      if (!m) break;
      counts.push(m.properties.headers?.['x-delivery-count']);
      assert.equal(m.properties.headers?.['a'], 1);
      ch.nack(m, false, true);
    }
    assert.deepEqual(counts, [0, 1, 2]);
    let dead = await ch.get(dlq, { noAck: true });
    for (let tries = 0; !dead && tries < 100; tries++) {
      await new Promise((r) => setTimeout(r, 20));
      dead = await ch.get(dlq, { noAck: true });
    }
    assert.ok(dead);
    assert.equal(dead.properties.headers?.['x-first-death-reason'], 'delivery_limit');
    const death = (dead.properties.headers?.['x-death'] as unknown as Record<string, unknown>[])[0]!;
    assert.equal(death['reason'], 'delivery_limit');
    assert.equal(death['queue'], q);
    await conn.close();
  });

  test('a return through a closing channel counts as a delivery too', async () => {
    const conn = await connect(target.amqpUrl('guest', 'guest'));
    const ch = await conn.createConfirmChannel();
    const q = uniqueName('qq-close');
    queues.push(q);
    await ch.assertQueue(q, { durable: true, arguments: { 'x-queue-type': 'quorum', 'x-delivery-limit': 5 } });
    ch.sendToQueue(q, Buffer.from('m'));
    await ch.waitForConfirms();
    const other = await connect(target.amqpUrl('guest', 'guest'));
    const och = await other.createChannel();
    const first = await och.get(q, { noAck: false });
    assert.equal(first && first.properties.headers?.['x-delivery-count'], 0);
    await other.close();
    let again = await ch.get(q, { noAck: true });
    for (let tries = 0; !again && tries < 100; tries++) {
      await new Promise((r) => setTimeout(r, 20));
      again = await ch.get(q, { noAck: true });
    }
    assert.ok(again);
    assert.equal(again.fields.redelivered, true);
    assert.equal(again.properties.headers?.['x-delivery-count'], 1);
    await conn.close();
  });

  test('queue.delete with if-empty or if-unused is refused with a connection error, whatever the queue holds', async () => {
    const q = uniqueName('qq-delete');
    queues.push(q);
    for (const [options, flag] of [[{ ifEmpty: true }, 'if-empty'], [{ ifUnused: true }, 'if-unused'], [{ ifEmpty: true, ifUnused: true }, 'if-unused']] as const) {
      const conn = await connect(target.amqpUrl('guest', 'guest'));
      const closed = new Promise<Error>((resolve) => conn.on('error', resolve));
      const ch = await conn.createChannel();
      ch.on('error', () => {});
      await ch.assertQueue(q, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
      await assert.rejects(ch.deleteQueue(q, options));
      assert.equal((await closed).message,
        `Connection closed: 540 (NOT-IMPLEMENTED) with message "NOT_IMPLEMENTED - cannot delete queue '${q}' in vhost '/'. queue.delete operations with ${flag} flag set are not supported by quorum queues"`);
    }
    const conn = await connect(target.amqpUrl('guest', 'guest'));
    assert.equal((await (await conn.createChannel()).checkQueue(q)).queue, q, 'still there');
    await conn.close();
  });

  test('a rejected, nacked or recovered message goes to the back; a closing channel returns it to its place', async () => {
    const conn = await connect(target.amqpUrl('guest', 'guest'));
    try {
      const ch = await conn.createConfirmChannel();
      const q = uniqueName('qq-order');
      queues.push(q);
      await ch.assertQueue(q, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
      const fill = async (bodies: string[]) => {
        for (const b of bodies) ch.sendToQueue(q, Buffer.from(b));
        await ch.waitForConfirms();
      };
      /** What is left, in order: body, * when redelivered, then x-delivery-count. */
      const drain = async () => {
        const order: string[] = [];
        for (let m = await ch.get(q, { noAck: true }); m; m = await ch.get(q, { noAck: true })) {
          order.push(`${m.content.toString()}${m.fields.redelivered ? '*' : ''}${String(m.properties.headers?.['x-delivery-count'])}`);
        }
        return order.join(' ');
      };
      const other = await conn.createChannel();

      await fill(['A', 'B', 'C']);
      other.reject((await other.get(q)) || assert.fail('A'), true);
      assert.equal(await drain(), 'B0 C0 A*1', 'reject');

      await fill(['A', 'B', 'C', 'D']);
      await other.get(q);
      other.nack((await other.get(q)) || assert.fail('B'), true, true);
      assert.equal(await drain(), 'C0 D0 A*1 B*1', 'nack multiple, in delivery order');

      await fill(['A', 'B', 'C']);
      await other.get(q);
      await other.recover();
      assert.equal(await drain(), 'B0 C0 A*1', 'recover');

      await fill(['A', 'B', 'C']);
      const closing = await conn.createChannel();
      await closing.get(q);
      await closing.close();
      assert.equal(await drain(), 'A*1 B0 C0', 'closed channel');
    } finally {
      await conn.close();
    }
  });
});
