// Exclusive queues belong to their connection: others get 405 RESOURCE_LOCKED, and the queue dies
// with its connection. Exclusive consumers lock a queue against other consumers (403).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { brokerPerFile } from './support/broker-per-file.js';
import { uniq } from './support/test-broker.js';
import { RawConnection } from './support/raw-amqp.js';
import { channel, connect, consume, expectChannelError, roundTrip, sleep, type Channel } from './support/amqp-client.js';

const locked = (q: string) =>
  `RESOURCE_LOCKED - cannot obtain exclusive access to locked queue '${q}' in vhost '/'. ` +
  'It could be originally declared on another connection or the exclusive property value does not match that of the original declaration.';

describe('exclusive queues', () => {
  const b = brokerPerFile();

  const ownerAndQueue = async () => {
    const owner = await connect(b.url);
    const och = await channel(owner);
    const q = uniq('excl');
    await och.assertQueue(q, { exclusive: true });
    return { owner, och, q };
  };

  const operations: Array<[string, (ch: Channel, q: string) => Promise<unknown>]> = [
    ['declare', (ch, q) => ch.assertQueue(q, { exclusive: true })],
    ['passive declare', (ch, q) => ch.checkQueue(q)],
    ['consume', (ch, q) => ch.consume(q, () => {})],
    ['get', (ch, q) => ch.get(q)],
    ['purge', (ch, q) => ch.purgeQueue(q)],
    ['delete', (ch, q) => ch.deleteQueue(q)],
    ['bind', (ch, q) => ch.bindQueue(q, 'amq.direct', 'k')],
    ['non-exclusive declare', (ch, q) => ch.assertQueue(q, { exclusive: false, durable: false })],
  ];
  for (const [name, op] of operations) {
    test(`another connection's ${name} → 405 RESOURCE_LOCKED`, async () => {
      const { q } = await ownerAndQueue();
      const other = await connect(b.url);
      const ch = await channel(other);
      await expectChannelError(other, ch, () => op(ch, q), 405, locked(q));
    });
  }

  const ownerRedeclares: Array<[string, Record<string, unknown>]> = [
    ['as non-exclusive', { exclusive: false, durable: false }],
    // The lock is checked before equivalence: 405, not 406 for durable.
    ['as non-exclusive and durable', { exclusive: false, durable: true }],
  ];
  for (const [name, options] of ownerRedeclares) {
    test(`the owner redeclaring its exclusive queue ${name} → 405 RESOURCE_LOCKED`, async () => {
      const { owner, q } = await ownerAndQueue();
      const ch = await channel(owner);
      await expectChannelError(owner, ch, () => ch.assertQueue(q, options), 405, locked(q));
    });
  }

  test('a non-exclusive queue redeclared as exclusive by its declaring connection → 405 RESOURCE_LOCKED', async () => {
    const conn = await connect(b.url);
    const ch = await channel(conn);
    const q = uniq('shared');
    await ch.assertQueue(q, { exclusive: false, durable: false, autoDelete: true });
    // autoDelete: goes once this test's connection is gone; a consumer makes sure it had one.
    await ch.consume(q, () => {});
    const ch2 = await channel(conn);
    await expectChannelError(conn, ch2, () => ch2.assertQueue(q, { exclusive: true, durable: false, autoDelete: true }), 405, locked(q));
  });

  test('publishing to another connection\'s exclusive queue is allowed', async () => {
    const { och, q } = await ownerAndQueue();
    const other = await connect(b.url);
    const ch = await channel(other);
    ch.sendToQueue(q, Buffer.from('from outside'));
    await roundTrip(ch);
    const m = await och.get(q, { noAck: true });
    assert.ok(m);
    assert.equal(m.content.toString(), 'from outside');
  });

  test('other channels of the owning connection can use it', async () => {
    const { owner, q } = await ownerAndQueue();
    const ch2 = await channel(owner);
    ch2.sendToQueue(q, Buffer.from('x'));
    await consume(ch2, q);
    assert.equal((await ch2.checkQueue(q)).consumerCount, 1);
  });

  test('an exclusive queue is deleted when its connection closes', async () => {
    const { owner, q } = await ownerAndQueue();
    await owner.close();
    const other = await connect(b.url);
    const ch = await channel(other);
    await expectChannelError(other, ch, () => ch.checkQueue(q), 404, `NOT_FOUND - no queue '${q}' in vhost '/'`);
  });

  test('an exclusive queue is deleted when its connection\'s socket just dies', async () => {
    const { conn: r } = await RawConnection.handshake(b.host, b.port);
    await r.openChannel(1);
    const q = await r.declareQueue(1, uniq('excl-raw'), { exclusive: true });
    r.destroy();
    const other = await connect(b.url);
    const ch = await channel(other);
    for (let i = 0; i < 50; i++) {
      const probe = await channel(other);
      const gone = await probe.checkQueue(q).then(() => false, () => true);
      if (gone) return;
      await sleep(20);
    }
    await expectChannelError(other, ch, () => ch.checkQueue(q), 404, `NOT_FOUND - no queue '${q}' in vhost '/'`);
  });

  test('an exclusive queue survives its declaring channel closing', async () => {
    const { owner, och, q } = await ownerAndQueue();
    await och.close();
    const ch2 = await channel(owner);
    await ch2.checkQueue(q);
  });

  test('an exclusive consumer locks the queue against other consumers → 403 ACCESS_REFUSED', async (t) => {
    const conn = await connect(b.url);
    const ch = await channel(conn);
    const q = uniq('q');
    await ch.assertQueue(q, { durable: false });
    t.after(async () => {
      const c = await connect(b.url);
      await (await channel(c)).deleteQueue(q);
      await c.close();
    });
    await consume(ch, q, { exclusive: true });
    const ch2 = await channel(conn);
    await expectChannelError(conn, ch2, () => ch2.consume(q, () => {}), 403,
      `ACCESS_REFUSED - queue '${q}' in vhost '/' in exclusive use`);
  });

  test('an exclusive consume on a queue that has consumers → 403 ACCESS_REFUSED', async (t) => {
    const conn = await connect(b.url);
    const ch = await channel(conn);
    const q = uniq('q');
    await ch.assertQueue(q, { durable: false });
    t.after(async () => {
      const c = await connect(b.url);
      await (await channel(c)).deleteQueue(q);
      await c.close();
    });
    await consume(ch, q);
    const ch2 = await channel(conn);
    await expectChannelError(conn, ch2, () => ch2.consume(q, () => {}, { exclusive: true }), 403,
      `ACCESS_REFUSED - queue '${q}' in vhost '/' in exclusive use`);
  });
});
