// Frame parsing across TCP reads: frames split into single bytes, many frames in one write,
// bodies split into several body frames, and the broker splitting its own frames to frame_max.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { brokerPerFile } from './support/broker-per-file.js';
import { RawConnection, basicGetArgs, publishFrames, queueDeclareArgs } from './support/raw-amqp.js';
import { Encoder, bodyFrame, heartbeatFrame, methodFrame } from './support/raw-codec.js';

describe('framing', () => {
  const b = brokerPerFile();
  const raws = b.raws;
  /** A handshaken raw connection with channel 1 open and a fresh exclusive queue. */
  const setup = async (frameMax?: number) => {
    const { conn } = await RawConnection.handshake(b.host, b.port, frameMax ? { frameMax } : {});
    raws.push(conn);
    await conn.openChannel(1);
    const queue = await conn.declareQueue(1, '', { exclusive: true });
    return { r: conn, queue };
  };

  test('every frame written one byte at a time', async () => {
    const { conn: r } = await RawConnection.handshake(b.host, b.port);
    raws.push(r);
    await r.writeByteByByte(methodFrame(1, 20, 10, new Encoder().shortstr('').done()));
    await r.expectMethod(20, 11);
    await r.writeByteByByte(methodFrame(1, 50, 10, queueDeclareArgs('', { exclusive: true })));
    const queue = (await r.expectMethod(50, 11)).args.shortstr();
    await r.writeByteByByte(Buffer.concat(publishFrames(1, '', queue, Buffer.from('byte by byte'), { contentType: 'text/plain' })));
    await r.writeByteByByte(methodFrame(1, 60, 70, basicGetArgs(queue, true)));
    await r.expectMethod(60, 71);
    const content = await r.readContent();
    assert.equal(content.body.toString(), 'byte by byte');
  });

  test('a frame split at every awkward boundary: inside the header, before the frame-end octet', async () => {
    const { r, queue } = await setup();
    const frames = Buffer.concat(publishFrames(1, '', queue, Buffer.from('split')));
    for (const cut of [1, 3, 6, 7, frames.length - 1]) {
      r.write(frames.subarray(0, cut));
      await new Promise((res) => setTimeout(res, 5));
      r.write(frames.subarray(cut));
    }
    for (let i = 0; i < 5; i++) {
      const got = await r.get(1, queue);
      assert.equal(got?.body.toString(), 'split');
    }
  });

  test('many frames in one write are all processed, in order', async () => {
    const { conn: r } = await RawConnection.handshake(b.host, b.port);
    raws.push(r);
    const q = `coalesced-${process.pid}-${Date.now()}`;
    r.write(Buffer.concat([
      methodFrame(1, 20, 10, new Encoder().shortstr('').done()),
      methodFrame(2, 20, 10, new Encoder().shortstr('').done()),
      methodFrame(1, 50, 10, queueDeclareArgs(q, { exclusive: true })),
      ...publishFrames(1, '', q, Buffer.from('one')),
      ...publishFrames(1, '', q, Buffer.from('two')),
      ...publishFrames(1, '', q, Buffer.from('three')),
      methodFrame(1, 60, 70, basicGetArgs(q, true)),
    ]));
    const order: string[] = [];
    for (let i = 0; i < 4; i++) {
      const m = await r.nextMethod();
      order.push(`${m.channel}:${m.classId}.${m.methodId}`);
    }
    assert.deepEqual(order, ['1:20.11', '2:20.11', '1:50.11', '1:60.71']);
    assert.equal((await r.readContent()).body.toString(), 'one');
    assert.equal((await r.get(1, q))?.body.toString(), 'two');
    assert.equal((await r.get(1, q))?.body.toString(), 'three');
  });

  test('a body in several body frames is reassembled; the broker splits deliveries to the negotiated frame_max', async () => {
    const { r, queue } = await setup(4096);
    const body = Buffer.alloc(20_000);
    for (let i = 0; i < body.length; i++) body[i] = i % 251;
    const [method, header] = publishFrames(1, '', queue, body);
    const parts = [method!, header!];
    for (let off = 0; off < body.length; off += 4000) parts.push(bodyFrame(1, body.subarray(off, off + 4000)));
    r.write(Buffer.concat(parts));
    const got = await r.get(1, queue);
    assert.ok(got);
    assert.ok(got.body.equals(body), 'body differs');
    assert.ok(got.bodyFrames.length >= 5, `expected the body in >= 5 frames, got ${got.bodyFrames.length}`);
    for (const f of got.bodyFrames) assert.ok(f.payload.length + 8 <= 4096, `body frame of ${f.payload.length + 8} bytes exceeds frame_max 4096`);
  });

  test('an empty body has a content header and no body frame', async () => {
    const { r, queue } = await setup();
    r.write(Buffer.concat(publishFrames(1, '', queue, Buffer.alloc(0))));
    const got = await r.get(1, queue);
    assert.ok(got);
    assert.equal(got.body.length, 0);
    assert.equal(got.bodyFrames.length, 0);
    assert.equal(await r.get(1, queue), undefined, 'then the queue is empty');
  });

  test('empty body frames in the middle of a body are accepted', async () => {
    const { r, queue } = await setup();
    const [method, header] = publishFrames(1, '', queue, Buffer.from('ab'));
    r.write(Buffer.concat([method!, header!, bodyFrame(1, Buffer.from('a')), bodyFrame(1, Buffer.alloc(0)), bodyFrame(1, Buffer.from('b'))]));
    assert.equal((await r.get(1, queue))?.body.toString(), 'ab');
  });

  test('a heartbeat between content frames is fine', async () => {
    const { r, queue } = await setup();
    const [method, header, body] = publishFrames(1, '', queue, Buffer.from('hb'));
    r.write(Buffer.concat([method!, heartbeatFrame(), header!, heartbeatFrame(), body!]));
    assert.equal((await r.get(1, queue))?.body.toString(), 'hb');
  });

  test('content of two channels may interleave', async () => {
    const { r, queue } = await setup();
    await r.openChannel(2);
    const a = publishFrames(1, '', queue, Buffer.from('a'));
    const c = publishFrames(2, '', queue, Buffer.from('c'));
    r.write(Buffer.concat([a[0]!, a[1]!, c[0]!, c[1]!, c[2]!, a[2]!]));
    await new Promise((res) => setTimeout(res, 50));
    // Both arrive intact; their order across channels is not defined (RabbitMQ varies).
    const bodies = [(await r.get(1, queue))?.body.toString(), (await r.get(1, queue))?.body.toString()];
    assert.deepEqual(bodies.sort(), ['a', 'c']);
  });
});
