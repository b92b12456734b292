// Transactions with RabbitMQ's semantics: publishes and acks take effect on tx.commit, tx.rollback
// discards them (rolled-back acks leave the messages unacked), and commit/rollback need tx.select.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { brokerPerFile } from './support/broker-per-file.js';
import { RawConnection } from './support/raw-amqp.js';
import { methodFrame } from './support/raw-codec.js';

describe('transactions', () => {
  const b = brokerPerFile();
  const raws = b.raws;

  /** Raw connection: channel 1 transactional, channel 2 plain, one exclusive queue. */
  const txSetup = async () => {
    const { conn: r } = await RawConnection.handshake(b.host, b.port);
    raws.push(r);
    await r.openChannel(1);
    await r.openChannel(2);
    const q = await r.declareQueue(2, '', { exclusive: true });
    // (amqplib has no transaction API, so these tests speak the protocol directly.)
    r.write(methodFrame(1, 90, 10));
    await r.expectMethod(90, 11);
    return { r, q };
  };
  const count = async (r: RawConnection, q: string) => {
    r.write(methodFrame(2, 50, 10, (await import('./support/raw-amqp.js')).queueDeclareArgs(q, { passive: true })));
    const ok = await r.expectMethod(50, 11);
    ok.args.shortstr();
    return ok.args.u32();
  };
  const commit = async (r: RawConnection) => {
    r.write(methodFrame(1, 90, 20));
    await r.expectMethod(90, 21);
  };
  const rollback = async (r: RawConnection) => {
    r.write(methodFrame(1, 90, 30));
    await r.expectMethod(90, 31);
  };

  test('publishes are invisible until tx.commit', async () => {
    const { r, q } = await txSetup();
    r.publish(1, '', q, Buffer.from('a'));
    r.publish(1, '', q, Buffer.from('b'));
    await r.declareQueue(1, q, { passive: true }); // a round trip on the transactional channel
    assert.equal(await count(r, q), 0);
    await commit(r);
    assert.equal(await count(r, q), 2);
    assert.equal((await r.get(2, q))?.body.toString(), 'a');
  });

  test('tx.rollback discards uncommitted publishes; the channel stays transactional', async () => {
    const { r, q } = await txSetup();
    r.publish(1, '', q, Buffer.from('dropped'));
    await rollback(r);
    assert.equal(await count(r, q), 0);
    r.publish(1, '', q, Buffer.from('kept'));
    await r.declareQueue(1, q, { passive: true }); // a round trip on the transactional channel
    assert.equal(await count(r, q), 0, 'still transactional after rollback');
    await commit(r);
    assert.equal((await r.get(2, q))?.body.toString(), 'kept');
  });

  test('acks take effect on commit; rolled-back acks leave the message unacked until the channel closes', async () => {
    const { r, q } = await txSetup();
    r.publish(2, '', q, Buffer.from('m1'));
    r.publish(2, '', q, Buffer.from('m2'));
    await count(r, q); // a round trip on channel 2, where they were published
    const m1 = await r.get(1, q, false);
    const m2 = await r.get(1, q, false);
    assert.ok(m1 && m2);
    const { Encoder } = await import('./support/raw-codec.js');
    r.write(methodFrame(1, 60, 80, new Encoder().u64(m1.deliveryTag).bit(false).done()));
    await commit(r);
    r.write(methodFrame(1, 60, 80, new Encoder().u64(m2.deliveryTag).bit(false).done()));
    await rollback(r);
    assert.equal(await count(r, q), 0, 'm2 is still unacked, not requeued');
    r.write(methodFrame(1, 20, 40, new Encoder().u16(200).shortstr('').u16(0).u16(0).done()));
    await r.expectMethod(20, 41);
    const again = await r.get(2, q);
    assert.equal(again?.body.toString(), 'm2');
    assert.equal(again?.redelivered, true);
    assert.equal(await r.get(2, q), undefined, 'm1 was acked for good');
  });

  test('tx.commit and tx.rollback without tx.select → 406 PRECONDITION_FAILED', async () => {
    const { conn: r } = await RawConnection.handshake(b.host, b.port);
    raws.push(r);
    await r.openChannel(1);
    r.write(methodFrame(1, 90, 20));
    assert.deepEqual(await r.expectChannelClose(1), { code: 406, text: 'PRECONDITION_FAILED - channel is not transactional', classId: 90, methodId: 20 });
    await r.openChannel(1);
    r.write(methodFrame(1, 90, 30));
    assert.deepEqual(await r.expectChannelClose(1), { code: 406, text: 'PRECONDITION_FAILED - channel is not transactional', classId: 90, methodId: 30 });
  });

  test('tx.select twice is fine; an empty commit is fine', async () => {
    const { r } = await txSetup();
    r.write(methodFrame(1, 90, 10));
    await r.expectMethod(90, 11);
    await commit(r);
    await commit(r);
  });

  test('uncommitted publishes are discarded when the channel closes', async () => {
    const { r, q } = await txSetup();
    r.publish(1, '', q, Buffer.from('never'));
    const { Encoder } = await import('./support/raw-codec.js');
    r.write(methodFrame(1, 20, 40, new Encoder().u16(200).shortstr('').u16(0).u16(0).done()));
    await r.expectMethod(20, 41);
    assert.equal(await count(r, q), 0);
  });
});
