// A durable declare is answered once its definitions-log line is fdatasynced (a group commit of its
// own, in the thread pool), so its declare-ok leaves later than the replies to methods the client
// pipelined after it. Those must still arrive in order (lapin pipelines; every client expects it):
// qos-ok, consume-ok and a delivery never overtake the declare-ok before them. (RabbitMQ 3.10.8,
// asked the same, answers every declare and qos first and the consume-oks with their deliveries
// later, since its queue process sends consume-ok: the reordering lapin users met in
// amqp-rs/lapin#353. Warren answers strictly in order, which no client can mind.)
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { brokerPerFile } from './support/broker-per-file.js';
import { RawConnection, basicConsumeArgs, publishFrames, queueDeclareArgs } from './support/raw-amqp.js';
import { Encoder, methodFrame } from './support/raw-codec.js';

const qosArgs = (prefetch: number): Buffer => new Encoder().u32(0).u16(prefetch).bit(false).done();
const name = (m: { classId: number; methodId: number }): string => `${m.classId}.${m.methodId}`;

describe('reply order behind a durable declare', () => {
  const b = brokerPerFile();

  async function openChannel(): Promise<RawConnection> {
    const { conn } = await RawConnection.handshake(b.host, b.port);
    b.raws.push(conn);
    conn.write(methodFrame(1, 20, 10, new Encoder().shortstr('').done()));
    await conn.expectMethod(20, 11);
    return conn;
  }

  test('declare, qos, consume and a publish in one write: declare-ok, qos-ok, consume-ok, then the delivery', async () => {
    const conn = await openChannel();
    const queues = ['order-a', 'order-b', 'order-c'];
    const frames: Buffer[] = [];
    for (const q of queues) {
      frames.push(
        methodFrame(1, 50, 10, queueDeclareArgs(q, { durable: true })),
        methodFrame(1, 60, 10, qosArgs(10)),
        methodFrame(1, 60, 20, basicConsumeArgs(q, `ctag-${q}`)),
        ...publishFrames(1, '', q, Buffer.from(`to ${q}`)),
      );
    }
    conn.write(Buffer.concat(frames));
    for (const q of queues) {
      const declareOk = await conn.nextMethod();
      assert.equal(name(declareOk), '50.11', `${q}: first the declare-ok`);
      assert.equal(declareOk.args.shortstr(), q);
      assert.equal(name(await conn.nextMethod()), '60.11', `${q}: then qos-ok`);
      const consumeOk = await conn.nextMethod();
      assert.equal(name(consumeOk), '60.21', `${q}: then consume-ok`);
      assert.equal(consumeOk.args.shortstr(), `ctag-${q}`);
      const deliver = await conn.nextMethod();
      assert.equal(name(deliver), '60.60', `${q}: then the delivery`);
      assert.equal(deliver.args.shortstr(), `ctag-${q}`);
      assert.equal((await conn.readContent()).body.toString(), `to ${q}`);
    }
  });

  test('a channel.close right behind a durable declare is answered with close-ok, and nothing follows it', async () => {
    const conn = await openChannel();
    conn.write(Buffer.concat([
      methodFrame(1, 50, 10, queueDeclareArgs('order-closing', { durable: true })),
      methodFrame(1, 20, 40, new Encoder().u16(200).shortstr('bye').u16(0).u16(0).done()),
    ]));
    let m = await conn.nextMethod();
    // The declare-ok may come first (the sync was quick) or be dropped with what waited behind it
    // (the client discards all but close-ok once it sent close; RabbitMQ sends them): nothing may follow close-ok.
    if (name(m) === '50.11') m = await conn.nextMethod();
    assert.equal(name(m), '20.41');
    // The channel number is free again at once: a new channel on it works.
    conn.write(methodFrame(1, 20, 10, new Encoder().shortstr('').done()));
    assert.equal(name(await conn.nextMethod()), '20.11');
    conn.write(methodFrame(1, 50, 10, queueDeclareArgs('order-closing', { passive: true })));
    assert.equal(name(await conn.nextMethod()), '50.11');
  });
});
