// What a publisher hears when a queue's length limit takes its message, as RabbitMQ 3.10.8 answers
// (raw client): drop-head dropping the new message itself (alone over the limit) still acks it, while
// reject-publish nacks it; in a transaction a refused publish commits the rest and closes the channel
// with 406 "partial tx completion". Observed on RabbitMQ 3.10.8; passes there unchanged.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { brokerPerFile, openRawChannel } from './support/broker-per-file.js';
import { uniq } from './support/test-broker.js';
import type { RawConnection } from './support/raw-amqp.js';
import { Encoder, methodFrame } from './support/raw-codec.js';

describe('length limits and publisher confirms', () => {
  const b = brokerPerFile();

  const confirmMode = async (c: RawConnection) => {
    c.write(methodFrame(1, 85, 10, new Encoder().bit(false).done()));
    await c.expectMethod(85, 11);
  };
  /** The next confirm: 'ack' or 'nack' with its delivery tag. */
  const nextConfirm = async (c: RawConnection): Promise<[string, bigint]> => {
    const m = await c.nextMethod();
    assert.ok(m.classId === 60 && (m.methodId === 80 || m.methodId === 120), `a confirm, got ${m.classId}.${m.methodId}`);
    return [m.methodId === 80 ? 'ack' : 'nack', m.args.u64()];
  };

  test('drop-head dropping the new message itself acks it; reject-publish nacks it', async () => {
    const c = await openRawChannel(b);
    await confirmMode(c);
    const byCount = uniq('len0');
    const byBytes = uniq('bytes1');
    const rejecting = uniq('reject');
    await c.declareQueue(1, byCount, { exclusive: true, args: { 'x-max-length': 0 } });
    await c.declareQueue(1, byBytes, { exclusive: true, args: { 'x-max-length-bytes': 1 } });
    await c.declareQueue(1, rejecting, { exclusive: true, args: { 'x-max-length': 0, 'x-overflow': 'reject-publish' } });
    c.publish(1, '', byCount, Buffer.from('a'), { deliveryMode: 2 });
    assert.deepEqual(await nextConfirm(c), ['ack', 1n]);
    c.publish(1, '', byBytes, Buffer.from('too long'), { deliveryMode: 2 });
    assert.deepEqual(await nextConfirm(c), ['ack', 2n]);
    c.publish(1, '', rejecting, Buffer.from('a'));
    assert.deepEqual(await nextConfirm(c), ['nack', 3n]);
    for (const q of [byCount, byBytes, rejecting]) assert.equal(await c.get(1, q, true), undefined);
  });

  test('a transaction with a refused publish commits the rest, then 406 partial tx completion', async () => {
    const c = await openRawChannel(b);
    const full = uniq('full');
    const open = uniq('open');
    await c.declareQueue(1, full, { exclusive: true, args: { 'x-max-length': 0, 'x-overflow': 'reject-publish' } });
    await c.declareQueue(1, open, { exclusive: true });
    c.write(methodFrame(1, 90, 10));
    await c.expectMethod(90, 11);
    c.publish(1, '', full, Buffer.from('refused'));
    c.publish(1, '', open, Buffer.from('kept'));
    c.write(methodFrame(1, 90, 20));
    assert.deepEqual(await c.expectChannelClose(1), { code: 406, text: 'PRECONDITION_FAILED - partial tx completion', classId: 90, methodId: 20 });
    await c.openChannel(1);
    assert.equal((await c.get(1, open, true))?.body.toString(), 'kept');
  });
});
