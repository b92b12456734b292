// The channel close handshake in every state, on raw frames: a client close crossing a server close,
// close-ok where none is due, the method a channel.close names, and nothing on a channel after its
// close-ok (publisher confirms included).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { brokerPerFile } from './support/broker-per-file.js';
import { uniq } from './support/test-broker.js';
import { RawConnection, publishFrames, readClose, type Frame } from './support/raw-amqp.js';
import { Encoder, FRAME_METHOD, methodFrame } from './support/raw-codec.js';

const channelClose = (ch: number) => methodFrame(ch, 20, 40, new Encoder().u16(200).shortstr('client closing').u16(0).u16(0).done());
const methodOf = (f: Frame) => (f.type === FRAME_METHOD ? `${f.payload.readUInt16BE(0)}.${f.payload.readUInt16BE(2)}` : `frame type ${f.type}`);

describe('channel close handshake', () => {
  const b = brokerPerFile();
  const raws = b.raws;

  async function open(...channels: number[]): Promise<RawConnection> {
    const { conn } = await RawConnection.handshake(b.host, b.port);
    raws.push(conn);
    for (const ch of channels) await conn.openChannel(ch);
    return conn;
  }

  /** Frames received up to and including the answer to a queue.declare on `probeChannel` (a barrier). */
  async function framesUntilDeclareOk(r: RawConnection, probeChannel: number): Promise<Frame[]> {
    r.write(methodFrame(probeChannel, 50, 10, new Encoder().u16(0).shortstr('').bit(false).bit(false).bit(true).bit(false).bit(false).table({}).done()));
    const frames: Frame[] = [];
    for (;;) {
      const f = await r.nextFrame();
      frames.push(f);
      if (f.channel === probeChannel && methodOf(f) === '50.11') return frames;
      if (methodOf(f) === '10.50') throw new Error(`connection closed: ${f.payload.subarray(7).toString('latin1')}`);
    }
  }

  test('a client channel.close crossing the server\'s: close-ok for it, the channel stays closing until our close-ok, the connection lives on', async () => {
    const r = await open(1, 2);
    // The publish fails (404) and our close is already on the wire behind it.
    r.write(Buffer.concat([...publishFrames(1, uniq('missing'), 'k', Buffer.from('x')), channelClose(1)]));
    const serverClose = await r.expectMethod(20, 40);
    assert.equal(serverClose.channel, 1);
    const reason = readClose(serverClose);
    assert.equal(reason.code, 404);
    assert.match(reason.text, /^NOT_FOUND - no exchange 'missing-[0-9a-f]+' in vhost '\/'$/);
    assert.deepEqual([reason.classId, reason.methodId], [60, 40], 'channel.close names basic.publish');
    const closeOk = await r.expectMethod(20, 41);
    assert.equal(closeOk.channel, 1);
    // Our answer to the server's close: must not be taken for a frame on an unknown channel (504).
    r.write(methodFrame(1, 20, 41));
    const frames = await framesUntilDeclareOk(r, 2);
    assert.deepEqual(frames.map(methodOf), ['50.11'], 'nothing but the probe answer: no connection.close');
    await r.openChannel(1);
    const again = await framesUntilDeclareOk(r, 1);
    assert.deepEqual(again.map(methodOf), ['50.11']);
  });

  test('a second client channel.close while the server waits for close-ok is answered again, still no error', async () => {
    const r = await open(1, 2);
    r.write(Buffer.concat([...publishFrames(1, uniq('missing'), 'k', Buffer.from('x')), channelClose(1), channelClose(1)]));
    await r.expectMethod(20, 40);
    await r.expectMethod(20, 41);
    await r.expectMethod(20, 41);
    r.write(methodFrame(1, 20, 41));
    assert.deepEqual((await framesUntilDeclareOk(r, 2)).map(methodOf), ['50.11']);
  });

  test('close-ok on an open channel that was not being closed: 503 COMMAND_INVALID naming channel.close-ok', async () => {
    const r = await open(1);
    r.write(methodFrame(1, 20, 41));
    const close = await r.expectConnectionClose();
    assert.deepEqual(close, { code: 503, text: 'COMMAND_INVALID - unimplemented method', classId: 20, methodId: 41 });
  });

  test('close-ok or close on a channel never opened: 504 CHANNEL_ERROR naming the method', async () => {
    const r = await open();
    r.write(methodFrame(3, 20, 41));
    assert.deepEqual(await r.expectConnectionClose(), { code: 504, text: "CHANNEL_ERROR - expected 'channel.open'", classId: 20, methodId: 41 });
    const r2 = await open();
    r2.write(channelClose(3));
    assert.deepEqual(await r2.expectConnectionClose(), { code: 504, text: "CHANNEL_ERROR - expected 'channel.open'", classId: 20, methodId: 40 });
  });

  test('confirm mode: many publishes and channel.close in one write → every publish confirmed before close-ok, nothing after it', async () => {
    const r = await open(1, 2);
    r.write(methodFrame(1, 85, 10, new Encoder().bit(false).done()));
    await r.expectMethod(85, 11);
    const frames: Buffer[] = [];
    for (let i = 0; i < 200; i++) frames.push(...publishFrames(1, 'amq.fanout', 'k', Buffer.from(`m${i}`)));
    frames.push(channelClose(1));
    r.write(Buffer.concat(frames));
    const onChannel1: string[] = [];
    const confirmed = new Set<number>();
    for (;;) {
      const m = await r.nextMethod();
      assert.equal(m.channel, 1);
      onChannel1.push(`${m.classId}.${m.methodId}`);
      if (m.classId === 20 && m.methodId === 41) break;
      assert.equal(`${m.classId}.${m.methodId}`, '60.80', 'only basic.ack before close-ok');
      const tag = Number(m.args.u64());
      const multiple = m.args.bit();
      const from = multiple ? Math.max(0, ...confirmed) + 1 : tag;
      for (let t = from; t <= tag; t++) confirmed.add(t);
    }
    assert.equal(confirmed.size, 200, 'all 200 publishes confirmed before close-ok');
    // Anything still queued for channel 1 would arrive before the probe's answer.
    const after = await framesUntilDeclareOk(r, 2);
    assert.deepEqual(after.map((f) => `${f.channel}:${methodOf(f)}`), ['2:50.11'], 'no frame on channel 1 after close-ok');
  });

  test('a server channel.close for a bad publish comes after the confirms of the publishes before it', async () => {
    const r = await open(1);
    r.write(methodFrame(1, 85, 10, new Encoder().bit(false).done()));
    await r.expectMethod(85, 11);
    const frames: Buffer[] = [];
    for (let i = 0; i < 20; i++) frames.push(...publishFrames(1, 'amq.fanout', 'k', Buffer.from(`m${i}`)));
    frames.push(...publishFrames(1, uniq('missing'), 'k', Buffer.from('bad')));
    r.write(Buffer.concat(frames));
    let highest = 0;
    for (;;) {
      const m = await r.nextMethod();
      if (m.classId === 20 && m.methodId === 40) break;
      assert.equal(`${m.classId}.${m.methodId}`, '60.80');
      highest = Math.max(highest, Number(m.args.u64()));
    }
    assert.equal(highest, 20, 'the 20 good publishes were confirmed before the channel closed');
    r.write(methodFrame(1, 20, 41));
  });
});
