// A publish that makes one queue dead-letter (x-overflow drop-head) while the same message is still
// being routed to others: every routed queue gets the message, and the dead-letter target only gets
// the dropped heads. (Routing used to share one scratch set between the publish and the dead letter.)
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { brokerPerFile } from './support/broker-per-file.js';
import { uniq } from './support/test-broker.js';
import { channel, confirmChannel, connect, drain } from './support/amqp-client.js';

describe('dead-lettering during a fan-out publish', () => {
  const b = brokerPerFile();

  test('a drop-head dead letter does not disturb delivery to the other bound queues', async () => {
    const conn = await connect(b.url);
    const ch = await confirmChannel(conn);
    const fan = uniq('fan');
    const dlx = uniq('dlx');
    const [bounded, other, dead] = [uniq('bounded'), uniq('other'), uniq('dead')];
    await ch.assertExchange(fan, 'fanout', { durable: false, autoDelete: true });
    await ch.assertExchange(dlx, 'fanout', { durable: false, autoDelete: true });
    await ch.assertQueue(dead, { durable: false, autoDelete: false });
    await ch.bindQueue(dead, dlx, '');
    await ch.assertQueue(bounded, {
      durable: false, autoDelete: false,
      arguments: { 'x-max-length': 1, 'x-overflow': 'drop-head', 'x-dead-letter-exchange': dlx },
    });
    await ch.assertQueue(other, { durable: false, autoDelete: false });
    await ch.bindQueue(bounded, fan, '');
    await ch.bindQueue(other, fan, '');
    for (const body of ['m1', 'm2', 'm3']) ch.publish(fan, '', Buffer.from(body));
    await ch.waitForConfirms();
    const reader = await channel(conn);
    assert.deepEqual(await drain(reader, other), ['m1', 'm2', 'm3']);
    assert.deepEqual(await drain(reader, bounded), ['m3']);
    assert.deepEqual(await drain(reader, dead), ['m1', 'm2']);
    for (const q of [bounded, other, dead]) await reader.deleteQueue(q);
  });
});
