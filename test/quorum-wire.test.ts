// What a quorum queue's clients see on the wire, as RabbitMQ 3.10.8 sends it (raw client): the
// x-delivery-count header is a long in a headers table sorted by key, on every basic.get but on a
// consumer's delivery only once the message came back; a channel with a global prefetch cannot
// consume from one (540, connection closed). And for any queue: queue.delete-ok comes before the
// basic.cancel its consumers get. Observed on RabbitMQ 3.10.8; passes there unchanged.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { brokerPerFile, openRawChannel } from './support/broker-per-file.js';
import { uniq } from './support/test-broker.js';
import { basicConsumeArgs, type RawConnection } from './support/raw-amqp.js';
import { Decoder, Encoder, methodFrame } from './support/raw-codec.js';

/** [key, wire type] of each header, in wire order. */
function headerTypes(properties: Buffer): Array<[string, string]> {
  const d = new Decoder(properties);
  const flags = d.u16();
  if (!(flags & (1 << 13))) return [];
  const end = d.u32() + d.pos;
  const out: Array<[string, string]> = [];
  while (d.pos < end) {
    const key = d.shortstr();
    out.push([key, String.fromCharCode(properties[d.pos]!)]);
    d.value();
  }
  return out;
}

describe('quorum queues on the wire', () => {
  const b = brokerPerFile();

  const quorumQueue = async (c: RawConnection, t: { after: (fn: () => Promise<void>) => void }) => {
    const q = uniq('qq-wire');
    await c.declareQueue(1, q, { durable: true, args: { 'x-queue-type': 'quorum' } });
    t.after(async () => {
      const d = await openRawChannel(b);
      d.write(methodFrame(1, 50, 40, new Encoder().u16(0).shortstr(q).bit(false).bit(false).bit(false).done()));
      await d.expectMethod(50, 41);
    });
    return q;
  };
  /** Publishes with confirms, so the quorum queue has the message before the test goes on. */
  const publishConfirmed = async (c: RawConnection, q: string, headers: Record<string, unknown>) => {
    c.write(methodFrame(1, 85, 10, new Encoder().bit(false).done()));
    await c.expectMethod(85, 11);
    c.publish(1, '', q, Buffer.from('m'), { headers });
    await c.expectMethod(60, 80);
  };

  test('basic.get: x-delivery-count is a long, in a sorted headers table, from the first get on', async (t) => {
    const c = await openRawChannel(b);
    const q = await quorumQueue(c, t);
    await publishConfirmed(c, q, { zz: 1, aa: 2 });
    const m = await c.get(1, q, false);
    assert.ok(m);
    assert.deepEqual(headerTypes(m.properties), [['aa', 'I'], ['x-delivery-count', 'l'], ['zz', 'I']]);
    c.write(methodFrame(1, 60, 90, new Encoder().u64(m.deliveryTag).bit(true).done()));
    let again = await c.get(1, q, true);
    for (let i = 0; !again && i < 100; i++) again = await c.get(1, q, true);
    assert.ok(again);
    assert.equal(again.redelivered, true);
    assert.deepEqual(headerTypes(again.properties), [['aa', 'I'], ['x-delivery-count', 'l'], ['zz', 'I']]);
    const d = new Decoder(again.properties);
    d.u16();
    assert.equal((d.table() as Record<string, unknown>)['x-delivery-count'], 1n);
  });

  test('a consumer gets x-delivery-count only once the message came back', async (t) => {
    const c = await openRawChannel(b);
    const q = await quorumQueue(c, t);
    await publishConfirmed(c, q, { aa: 1 });
    c.write(methodFrame(1, 60, 20, basicConsumeArgs(q, 'c1')));
    await c.expectMethod(60, 21);
    const first = await c.expectMethod(60, 60);
    first.args.shortstr();
    const tag = first.args.u64();
    assert.deepEqual(headerTypes((await c.readContent()).properties), [['aa', 'I']]);
    c.write(methodFrame(1, 60, 120, new Encoder().u64(tag).bit(false).bit(true).done()));
    await c.expectMethod(60, 60);
    assert.deepEqual(headerTypes((await c.readContent()).properties), [['aa', 'I'], ['x-delivery-count', 'l']]);
  });

  test('consuming from a quorum queue on a channel with a global prefetch → 540, connection closed', async (t) => {
    const c = await openRawChannel(b);
    const q = await quorumQueue(c, t);
    c.write(methodFrame(1, 60, 10, new Encoder().u32(0).u16(5).bit(true).done()));
    await c.expectMethod(60, 11);
    c.write(methodFrame(1, 60, 20, basicConsumeArgs(q, 'c1')));
    assert.deepEqual(await c.expectConnectionClose(),
      { code: 540, text: `NOT_IMPLEMENTED - queue '${q}' in vhost '/' does not support global qos`, classId: 60, methodId: 20 });
  });

  test('queue.delete-ok comes before the basic.cancel sent to the queue\'s consumer', async () => {
    const c = await openRawChannel(b);
    const q = uniq('q-del');
    await c.declareQueue(1, q, {});
    c.write(methodFrame(1, 60, 20, basicConsumeArgs(q, 'c1')));
    await c.expectMethod(60, 21);
    c.write(methodFrame(1, 50, 40, new Encoder().u16(0).shortstr(q).bit(false).bit(false).bit(false).done()));
    await c.expectMethod(50, 41);
    const cancel = await c.expectMethod(60, 30);
    assert.equal(cancel.args.shortstr(), 'c1');
  });
});
