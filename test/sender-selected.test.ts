/**
 * Sender-selected distribution: CC and BCC headers route copies through the same exchange; BCC is
 * removed before delivery; a CC that is not an array closes the channel with RabbitMQ's 406 text.
 * Checked on RabbitMQ 3.10.8 (WARREN_TEST_AMQP_URL runs the same bodies there).
 */
import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestBroker, uniq, type TestBroker } from './support/test-broker.js';
import { closeAllClients, connect } from './support/amqp-client.js';

describe('CC and BCC headers', () => {
  let b: TestBroker;
  before(async () => {
    b = await startTestBroker();
  });
  afterEach(async () => closeAllClients());
  after(async () => b.close());

  test('copies go to the CC and BCC routing keys through the same exchange; BCC is stripped from every copy', async () => {
    const conn = await connect(b.url);
    const ch = await conn.createConfirmChannel();
    const ex = uniq('cc-x');
    const [qa, qb, qc, qd] = [uniq('cc-a'), uniq('cc-b'), uniq('cc-c'), uniq('cc-d')];
    await ch.assertExchange(ex, 'direct', { autoDelete: true });
    for (const [q, key] of [[qa, 'ka'], [qb, 'kb'], [qc, 'kc'], [qd, 'kd']] as const) {
      await ch.assertQueue(q, { exclusive: true });
      await ch.bindQueue(q, ex, key);
    }
    ch.publish(ex, 'ka', Buffer.from('hello'), { headers: { CC: ['kb'], BCC: ['kc'], other: 1 } });
    // On the default exchange the keys are queue names.
    ch.publish('', qd, Buffer.from('direct'), { headers: { CC: [qa] } });
    await ch.waitForConfirms();
    const got = async (q: string) => {
      const m = await ch.get(q, { noAck: true });
      return m ? { body: m.content.toString(), headers: m.properties.headers, key: m.fields.routingKey } : undefined;
    };
    for (const q of [qa, qb, qc]) {
      assert.deepEqual(await got(q), { body: 'hello', headers: { CC: ['kb'], other: 1 }, key: 'ka' }, q);
    }
    assert.equal((await got(qd))?.body, 'direct');
    assert.equal((await got(qa))?.body, 'direct');
    assert.equal(await got(qb), undefined);
  });

  test('a CC header that is not an array: 406 with RabbitMQ\'s text', async () => {
    const conn = await connect(b.url);
    const ch = await conn.createChannel();
    const closed = new Promise<Error>((resolve) => ch.on('error', resolve));
    ch.publish('', uniq('nowhere'), Buffer.from('x'), { headers: { CC: 'single' } });
    const e = await closed;
    assert.match(e.message, /406 \(PRECONDITION-FAILED\) with message "PRECONDITION_FAILED - invalid message: \{unacceptable_type_in_header,"CC",longstr\}"/);
  });
});
