// Bad frames close the connection with RabbitMQ's reply code (501 FRAME_ERROR, 503 COMMAND_INVALID,
// 504 CHANNEL_ERROR, 505 UNEXPECTED_FRAME) — and the broker keeps serving everyone else.
// Reply texts that RabbitMQ builds from Erlang terms (e.g. "{frame_too_large,5000,4088}") are only
// checked up to the part a client can rely on; human-readable ones are checked whole.
import { describe, test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { startTestBroker, type TestBroker } from './support/test-broker.js';
import { RawConnection, basicGetArgs, publishFrames, queueDeclareArgs, type CloseReason } from './support/raw-amqp.js';
import { Encoder, bodyFrame, frame, headerFrame, methodFrame } from './support/raw-codec.js';

describe('frame errors', () => {
  let b: TestBroker;
  const raws: RawConnection[] = [];
  const open = async (frameMax?: number) => {
    const { conn } = await RawConnection.handshake(b.host, b.port, frameMax ? { frameMax } : {});
    raws.push(conn);
    await conn.openChannel(1);
    return conn;
  };
  /** Sends `bytes` on a fresh connection and returns the connection.close the broker answers with. */
  const closeFor = async (bytes: Buffer | Buffer[], frameMax?: number): Promise<CloseReason> => {
    const r = await open(frameMax);
    r.write(Buffer.isBuffer(bytes) ? bytes : Buffer.concat(bytes));
    return r.expectConnectionClose();
  };
  before(async () => {
    b = await startTestBroker();
  });
  afterEach(async () => {
    for (const r of raws.splice(0)) r.destroy();
    // Whatever the bad frame did, the broker still accepts and serves new connections.
    const r = await open();
    const q = await r.declareQueue(1, '', { exclusive: true });
    assert.match(q, /^amq\.gen-/);
    r.destroy();
  });
  after(async () => {
    await b.close();
  });

  test('wrong frame-end octet → 501 FRAME_ERROR', async () => {
    const close = await closeFor(frame(1, 1, new Encoder().u16(60).u16(70).u16(0).shortstr('q').bit(false).done(), 0x00));
    assert.equal(close.code, 501);
    assert.match(close.text, /^FRAME_ERROR - /);
  });

  test('a frame larger than the negotiated frame_max → 501 FRAME_ERROR', async () => {
    const close = await closeFor(bodyFrame(1, Buffer.alloc(5000)), 4096);
    assert.equal(close.code, 501);
    assert.match(close.text, /^FRAME_ERROR - /);
  });

  test('an oversize frame is refused from its header, before its payload arrives', async () => {
    const r = await open(4096);
    const head = Buffer.alloc(7);
    head.writeUInt8(3, 0);
    head.writeUInt16BE(1, 1);
    head.writeUInt32BE(100_000_000, 3);
    r.write(head);
    const close = await r.expectConnectionClose();
    assert.equal(close.code, 501);
  });

  test('an unknown frame type → 501 FRAME_ERROR', async () => {
    const close = await closeFor(frame(9, 1, Buffer.alloc(0)));
    assert.equal(close.code, 501);
    assert.match(close.text, /^FRAME_ERROR - /);
  });

  test('method arguments cut short → 501 FRAME_ERROR naming the method', async () => {
    const close = await closeFor(methodFrame(1, 50, 10, queueDeclareArgs('abc').subarray(0, 4)));
    assert.equal(close.code, 501);
    assert.match(close.text, /^FRAME_ERROR - /);
    assert.deepEqual([close.classId, close.methodId], [50, 10]);
  });

  // The issue asks for 503 COMMAND_INVALID; RabbitMQ 3.10 drops the socket without connection.close.
  // Either way the connection must end promptly, and if a close is sent its code must be 503.
  for (const [name, bytes] of [
    ['an unknown class', methodFrame(1, 99, 10)],
    ['an unknown method of a known class', methodFrame(1, 60, 99)],
    ['an unknown method on channel 0', methodFrame(0, 10, 99)],
  ] as const) {
    test(`${name} ends the connection (503 COMMAND_INVALID if explained)`, async () => {
      const r = await open();
      r.write(bytes);
      const close = await r.expectConnectionClose().catch(() => undefined);
      if (close) assert.equal(close.code, 503, `close: ${close.code} ${close.text}`);
      assert.ok(await r.closedWithin(3000), 'connection still open');
    });
  }

  test('a body frame with no publish before it → 505 UNEXPECTED_FRAME', async () => {
    const close = await closeFor(bodyFrame(1, Buffer.from('x')));
    assert.equal(close.code, 505);
    assert.equal(close.text, 'UNEXPECTED_FRAME - expected method frame, got non method frame instead');
  });

  test('a content header with no publish before it → 505 UNEXPECTED_FRAME', async () => {
    const close = await closeFor(headerFrame(1, 1));
    assert.equal(close.code, 505);
    assert.equal(close.text, 'UNEXPECTED_FRAME - expected method frame, got non method frame instead');
  });

  test('a method where the content header should be → 505 UNEXPECTED_FRAME', async () => {
    const [publish] = publishFrames(1, '', 'q', Buffer.from('x'));
    const close = await closeFor([publish!, methodFrame(1, 60, 70, basicGetArgs('q'))]);
    assert.equal(close.code, 505);
    assert.equal(close.text, 'UNEXPECTED_FRAME - expected content header for class 60, got non content header frame instead');
    assert.deepEqual([close.classId, close.methodId], [60, 40]);
  });

  test('a method where a body frame should be → 505 UNEXPECTED_FRAME', async () => {
    const [publish, header] = publishFrames(1, '', 'q', Buffer.from('x'));
    const close = await closeFor([publish!, header!, methodFrame(1, 60, 70, basicGetArgs('q'))]);
    assert.equal(close.code, 505);
    assert.equal(close.text, 'UNEXPECTED_FRAME - expected content body, got non content body frame instead');
    assert.deepEqual([close.classId, close.methodId], [60, 40]);
  });

  test('a content header for another class → 505 UNEXPECTED_FRAME', async () => {
    const [publish] = publishFrames(1, '', 'q', Buffer.from('x'));
    const close = await closeFor([publish!, frame(2, 1, new Encoder().u16(50).u16(0).u64(1).u16(0).done())]);
    assert.equal(close.code, 505);
    assert.equal(close.text, 'UNEXPECTED_FRAME - expected content header for class 60, got one for class 50 instead');
  });

  test('content frames on channel 0 → 505 UNEXPECTED_FRAME', async () => {
    for (const bytes of [headerFrame(0, 1), bodyFrame(0, Buffer.from('x'))]) {
      const close = await closeFor(bytes);
      assert.equal(close.code, 505);
      assert.match(close.text, /^UNEXPECTED_FRAME - /);
    }
  });

  test('a heartbeat on a non-zero channel → 505 UNEXPECTED_FRAME', async () => {
    const close = await closeFor(frame(8, 1, Buffer.alloc(0)));
    assert.equal(close.code, 505);
    assert.match(close.text, /^UNEXPECTED_FRAME - /);
  });

  test('a method on a channel that was never opened → 504 CHANNEL_ERROR', async () => {
    const close = await closeFor(methodFrame(2, 50, 10, queueDeclareArgs('x')));
    assert.equal(close.code, 504);
    assert.equal(close.text, "CHANNEL_ERROR - expected 'channel.open'");
    assert.deepEqual([close.classId, close.methodId], [50, 10]);
  });

  test('channel.open on an open channel → 504 CHANNEL_ERROR', async () => {
    const close = await closeFor(methodFrame(1, 20, 10, new Encoder().shortstr('').done()));
    assert.equal(close.code, 504);
    assert.equal(close.text, "CHANNEL_ERROR - second 'channel.open' seen");
    assert.deepEqual([close.classId, close.methodId], [20, 10]);
  });

  test('a channel method on channel 0 → 504 CHANNEL_ERROR', async () => {
    const close = await closeFor(methodFrame(0, 50, 10, queueDeclareArgs('x')));
    assert.equal(close.code, 504);
    assert.equal(close.text, 'CHANNEL_ERROR - unexpected method in connection state running');
  });

  test('a connection method on a channel → 503 COMMAND_INVALID', async () => {
    const close = await closeFor(methodFrame(1, 10, 40, new Encoder().shortstr('/').shortstr('').bit(false).done()));
    assert.equal(close.code, 503);
    assert.match(close.text, /^COMMAND_INVALID - /);
    assert.deepEqual([close.classId, close.methodId], [10, 40]);
  });

  test('after connection.close the broker ignores everything but close-ok', async () => {
    const r = await open();
    r.write(bodyFrame(1, Buffer.from('x')));
    const m = await r.nextMethod();
    assert.deepEqual([m.classId, m.methodId], [10, 50]);
    // More garbage before our close-ok must not produce a second close or a crash.
    r.write(methodFrame(1, 50, 10, queueDeclareArgs('ignored')));
    r.write(methodFrame(0, 10, 51));
    await assert.rejects(r.nextMethod(500));
  });
});
