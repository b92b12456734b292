// Reply codes, texts and method ids RabbitMQ 3.10.8 gives for protocol misuse, checked whole over the
// raw client: methods only a server sends, content headers of another class or with a weight, frames
// it does not recognise or that are too large (Erlang-printed payloads), heartbeats out of place,
// method arguments it cannot decode, malformed property lists, an unknown delivery_mode, and a consumer
// argument of the wrong type. Observed on RabbitMQ 3.10.8; the file passes there unchanged.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { brokerPerFile, openRawChannel } from './support/broker-per-file.js';
import { uniq } from './support/test-broker.js';
import { queueDeclareArgs, type CloseReason } from './support/raw-amqp.js';
import { Encoder, bodyFrame, frame, methodFrame } from './support/raw-codec.js';

describe('protocol error texts', () => {
  const b = brokerPerFile();
  const open = (frameMax?: number) => openRawChannel(b, frameMax ? { frameMax } : {});
  const connectionCloseFor = async (bytes: Buffer, frameMax?: number): Promise<CloseReason> => {
    const c = await open(frameMax);
    c.write(bytes);
    return c.expectConnectionClose();
  };
  const close = (code: number, text: string, classId = 0, methodId = 0): CloseReason => ({ code, text, classId, methodId });
  const publishMethod = methodFrame(1, 60, 40, new Encoder().u16(0).shortstr('').shortstr('nowhere').bit(false).bit(false).done());
  const header = (classId: number, weight: number, size: number) =>
    frame(2, 1, new Encoder().u16(classId).u16(weight).u64(size).u16(0).done());

  test('a method only the server sends → 503 "unimplemented method" naming it', async () => {
    for (const [classId, methodId, args] of [[60, 11, Buffer.alloc(0)], [40, 11, Buffer.alloc(0)], [20, 21, Buffer.from([1])], [20, 41, Buffer.alloc(0)]] as const) {
      assert.deepEqual(await connectionCloseFor(methodFrame(1, classId, methodId, args)), close(503, 'COMMAND_INVALID - unimplemented method', classId, methodId));
    }
  });

  test('connection methods only a server sends, and a channel.open on a channel still closing → 504', async () => {
    for (const [methodId, args] of [[51, Buffer.alloc(0)], [60, new Encoder().shortstr('x').done()], [61, Buffer.alloc(0)]] as const) {
      assert.deepEqual(await connectionCloseFor(methodFrame(0, 10, methodId, args)),
        close(504, 'CHANNEL_ERROR - unexpected method in connection state running', 10, methodId));
    }
    const c = await open();
    c.write(methodFrame(1, 50, 10, queueDeclareArgs(uniq('missing'), { passive: true })));
    await c.expectMethod(20, 40); // 404: the channel closes; no close-ok sent back
    c.write(methodFrame(1, 20, 10, new Encoder().shortstr('').done()));
    assert.deepEqual(await c.expectConnectionClose(), close(504, "CHANNEL_ERROR - second 'channel.open' seen", 20, 10));
  });

  test('a content header of another class, or with a non-zero weight → 505 naming basic.publish', async () => {
    assert.deepEqual(await connectionCloseFor(Buffer.concat([publishMethod, header(50, 0, 1), bodyFrame(1, Buffer.from('a'))])),
      close(505, 'UNEXPECTED_FRAME - expected content header for class 60, got one for class 50 instead', 60, 40));
    assert.deepEqual(await connectionCloseFor(Buffer.concat([publishMethod, header(60, 7, 1), bodyFrame(1, Buffer.from('a'))])),
      close(505, 'UNEXPECTED_FRAME - expected content header for class 60, got non content header frame instead', 60, 40));
  });

  test('frames RabbitMQ does not recognise, or too large → 501 with the frame printed as Erlang does', async () => {
    assert.deepEqual(await connectionCloseFor(frame(4, 1, Buffer.from('abc'))), close(501, 'FRAME_ERROR - type 4, all octets = <<"abc">>: unknown_frame'));
    assert.deepEqual(await connectionCloseFor(frame(8, 1, Buffer.from([1, 2]))), close(501, 'FRAME_ERROR - type 8, all octets = <<1,2>>: unknown_frame'));
    assert.deepEqual(await connectionCloseFor(frame(2, 0, Buffer.from([0, 60]))), close(501, 'FRAME_ERROR - type 2, all octets = <<0,60>>: unknown_frame'));
    assert.deepEqual(await connectionCloseFor(frame(3, 1, Buffer.alloc(5000)), 4096), close(501, 'FRAME_ERROR - type 3, all octets = <<>>: {frame_too_large,5000,4088}'));
  });

  test('an empty heartbeat on a channel, or a body on channel 0 → 505 with the frame printed', async () => {
    assert.deepEqual(await connectionCloseFor(frame(8, 1, Buffer.alloc(0))), close(505, 'UNEXPECTED_FRAME - type 8, all octets = <<>>'));
    assert.deepEqual(await connectionCloseFor(frame(3, 0, Buffer.from('AB'))), close(505, 'UNEXPECTED_FRAME - type 3, all octets = <<"AB">>'));
  });

  test('method arguments cut short or followed by extra bytes → 501 "cannot decode" with the argument bytes', async () => {
    assert.deepEqual(await connectionCloseFor(methodFrame(1, 60, 40, Buffer.from([0, 0, 3, 97]))), close(501, 'FRAME_ERROR - cannot decode <<0,0,3,97>>', 60, 40));
    assert.deepEqual(await connectionCloseFor(methodFrame(1, 60, 80, Buffer.from([0, 0, 0]))), close(501, 'FRAME_ERROR - cannot decode <<0,0,0>>', 60, 80));
    assert.deepEqual(await connectionCloseFor(methodFrame(1, 60, 80, Buffer.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 5]))),
      close(501, 'FRAME_ERROR - cannot decode <<0,0,0,0,0,0,0,0,0,5>>', 60, 80));
    assert.deepEqual(await connectionCloseFor(methodFrame(1, 60, 10, Buffer.from([0, 0, 0, 0, 0, 1, 0, 9]))),
      close(501, 'FRAME_ERROR - cannot decode <<0,0,0,0,0,1,0,9>>', 60, 10));
    assert.deepEqual(await connectionCloseFor(frame(1, 1, Buffer.from([0, 60, 0]))), close(501, 'FRAME_ERROR - type 1, all octets = <<0,60,0>>: unknown_frame'));
    assert.deepEqual(await connectionCloseFor(methodFrame(2, 20, 10, Buffer.from([0, 9]))), close(501, 'FRAME_ERROR - cannot decode <<0,9>>', 20, 10));
  });

  test('a property list that does not hold what its flags announce → 541 INTERNAL_ERROR, connection closed', async () => {
    const contentHeader = (properties: Buffer) => frame(2, 1, Buffer.concat([new Encoder().u16(60).u16(0).u64(0).done(), properties]));
    // content-type announced but missing; the continuation flag; a byte left over.
    for (const properties of [Buffer.from([0x80, 0]), Buffer.from([0, 1, 0, 0]), Buffer.from([0, 0, 7])]) {
      assert.deepEqual(await connectionCloseFor(Buffer.concat([publishMethod, contentHeader(properties)])), close(541, 'INTERNAL_ERROR'));
    }
  });

  test('a delivery_mode other than 1 or 2 → 406 invalid message', async () => {
    for (const mode of [0, 3, 255]) {
      const c = await open();
      c.publish(1, 'amq.direct', 'nowhere', Buffer.from('x'), { deliveryMode: mode });
      assert.deepEqual(await c.expectChannelClose(1), close(406, `PRECONDITION_FAILED - invalid message: {delivery_mode_unknown,${mode}}`, 60, 40));
    }
  });

  test('basic.consume with a non-boolean x-cancel-on-ha-failover → 406 invalid arg', async () => {
    const c = await open();
    const q = uniq('q');
    await c.declareQueue(1, q, { exclusive: true });
    c.write(methodFrame(1, 60, 20, new Encoder().u16(0).shortstr(q).shortstr('').bit(false).bit(false).bit(false).bit(false)
      .table({ 'x-cancel-on-ha-failover': 'yes' }).done()));
    assert.deepEqual(await c.expectChannelClose(1),
      close(406, `PRECONDITION_FAILED - invalid arg 'x-cancel-on-ha-failover' for queue '${q}' in vhost '/': {unacceptable_type,longstr}`, 60, 20));
  });
});
