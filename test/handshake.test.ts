// Connection handshake: protocol header, connection.start/tune/open, authentication, vhosts,
// and the close handshake in both directions, checked on the wire with a hand-driven socket.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import amqp from 'amqplib';
import { brokerPerFile } from './support/broker-per-file.js';
import { RawConnection, publishFrames, startOkArgs } from './support/raw-amqp.js';
import { Encoder, PROTOCOL_HEADER, methodFrame } from './support/raw-codec.js';
import { closeReason, connect, connectWith, channel } from './support/amqp-client.js';

describe('handshake', () => {
  const b = brokerPerFile();
  const raws = b.raws;
  const raw = async () => {
    const r = await RawConnection.open(b.host, b.port);
    raws.push(r);
    return r;
  };

  test('connection.start advertises AMQP 0-9-1, PLAIN and AMQPLAIN, RabbitMQ 3.10.8 as product and version, and its capabilities', async () => {
    const r = await raw();
    r.write(PROTOCOL_HEADER);
    const start = await r.expectMethod(10, 10);
    assert.equal(start.channel, 0);
    assert.equal(start.args.u8(), 0, 'version-major');
    assert.equal(start.args.u8(), 9, 'version-minor');
    const props = start.args.table();
    const mechanisms = start.args.longstr().split(' ');
    const locales = start.args.longstr().split(' ');
    assert.ok(mechanisms.includes('PLAIN'), `mechanisms: ${mechanisms}`);
    assert.ok(mechanisms.includes('AMQPLAIN'), `mechanisms: ${mechanisms}`);
    assert.ok(locales.includes('en_US'));
    for (const key of ['product', 'version', 'platform', 'copyright', 'information']) {
      assert.equal(typeof props[key], 'string', `server property ${key}`);
    }
    // Clients and their own suites branch on these (amqplib's asserts product 'RabbitMQ').
    assert.equal(props['product'], 'RabbitMQ');
    assert.equal(props['version'], '3.10.8');
    const caps = props['capabilities'] as Record<string, unknown>;
    for (const cap of [
      'publisher_confirms', 'exchange_exchange_bindings', 'basic.nack', 'consumer_cancel_notify',
      'connection.blocked', 'authentication_failure_close', 'per_consumer_qos',
    ]) {
      assert.equal(caps[cap], true, `capability ${cap}`);
    }
  });

  test('connection.tune proposes RabbitMQ defaults: channel_max 2047, frame_max 131072, heartbeat 60', async () => {
    const r = await raw();
    r.write(PROTOCOL_HEADER);
    await r.expectMethod(10, 10);
    r.write(methodFrame(0, 10, 11, startOkArgs('guest', 'guest')));
    const tune = await r.expectMethod(10, 30);
    assert.deepEqual(
      { channelMax: tune.args.u16(), frameMax: tune.args.u32(), heartbeat: tune.args.u16() },
      { channelMax: 2047, frameMax: 131072, heartbeat: 60 },
    );
  });

  test('the protocol header may arrive one byte at a time', async () => {
    const r = await raw();
    await r.writeByteByByte(PROTOCOL_HEADER);
    await r.expectMethod(10, 10);
  });

  for (const [name, header] of [
    ['AMQP 1.0', Buffer.from('AMQP\x00\x01\x00\x00', 'latin1')],
    ['AMQP 0-9-1 with a wrong revision', Buffer.from('AMQP\x00\x00\x09\x02', 'latin1')],
    ['HTTP', Buffer.from('GET / HTTP/1.1\r\n\r\n', 'latin1')],
  ] as const) {
    test(`a wrong protocol header (${name}) is answered with AMQP\\x00\\x00\\x09\\x01 and the socket closed`, async () => {
      const r = await raw();
      r.write(header);
      assert.ok(await r.closedWithin(3000), 'broker did not close the socket');
      assert.deepEqual(r.received, PROTOCOL_HEADER);
    });
  }

  test('login with PLAIN and AMQPLAIN', async () => {
    for (const credentials of [amqp.credentials.plain('guest', 'guest'), amqp.credentials.amqplain('guest', 'guest')]) {
      const conn = await connectWith({ hostname: b.host, port: b.port, vhost: '/', credentials });
      const ch = await channel(conn);
      await ch.checkExchange('amq.direct');
      await conn.close();
    }
  });

  test('a wrong password gets connection.close 403 ACCESS_REFUSED when the client has authentication_failure_close', async () => {
    const r = await raw();
    r.write(PROTOCOL_HEADER);
    await r.expectMethod(10, 10);
    r.write(methodFrame(0, 10, 11, startOkArgs('guest', 'wrong')));
    const close = await r.expectConnectionClose();
    assert.equal(close.code, 403);
    assert.equal(close.text, 'ACCESS_REFUSED - Login was refused using authentication mechanism PLAIN. For details see the broker logfile.');
    assert.ok(await r.closedWithin(3000));
  });

  test('an empty or malformed PLAIN response, or an unknown mechanism: no close frame, socket dropped ~3 s later (RabbitMQ 3.10.8)', async () => {
    const cases: Array<[string, string]> = [['PLAIN', ''], ['PLAIN', 'guestguest'], ['PLAIN', '\0guest'], ['AMQPLAIN', ''], ['NOSUCH', '\0guest\0guest']];
    await Promise.all(cases.map(async ([mechanism, response]) => {
      const r = await raw();
      r.write(PROTOCOL_HEADER);
      await r.expectMethod(10, 10);
      const before = r.received.length;
      const started = Date.now();
      // With authentication_failure_close too: RabbitMQ explains only a refused login, not a malformed one.
      const props = { product: 'php-amqplib-like', capabilities: { authentication_failure_close: true } };
      r.write(methodFrame(0, 10, 11, new Encoder().table(props).shortstr(mechanism).longstr(Buffer.from(response)).shortstr('en_US').done()));
      assert.ok(await r.closedWithin(6000), `${mechanism} '${response}': socket stayed open`);
      const waited = Date.now() - started;
      assert.ok(waited >= 2500 && waited < 5000, `${mechanism} '${response}': closed after ${waited} ms, RabbitMQ waits ~3 s`);
      assert.equal(r.received.length, before, `${mechanism} '${response}': nothing is sent before closing`);
    }));
  });

  test('a refused login answered with close-ok is closed at once; without close-ok after ~3 s', async () => {
    const answering = await raw();
    answering.write(PROTOCOL_HEADER);
    await answering.expectMethod(10, 10);
    answering.write(methodFrame(0, 10, 11, startOkArgs('guest', 'wrong')));
    assert.equal((await answering.expectConnectionClose()).code, 403); // writes close-ok
    assert.ok(await answering.closedWithin(1000), 'close-ok did not end the connection');

    const silent = await raw();
    silent.write(PROTOCOL_HEADER);
    await silent.expectMethod(10, 10);
    const started = Date.now();
    silent.write(methodFrame(0, 10, 11, startOkArgs('guest', 'wrong')));
    assert.equal((await silent.expectMethod(10, 50)).classId, 10);
    assert.ok(await silent.closedWithin(6000));
    assert.ok(Date.now() - started >= 2500, 'dropped before RabbitMQ\'s ~3 s delay');
  });

  test('a wrong password without authentication_failure_close just closes the socket', async () => {
    const r = await raw();
    r.write(PROTOCOL_HEADER);
    await r.expectMethod(10, 10);
    const before = r.received.length;
    r.write(methodFrame(0, 10, 11, startOkArgs('guest', 'wrong', { product: 'old-client' })));
    // RabbitMQ waits ~3 s before closing, to slow down password guessing.
    assert.ok(await r.closedWithin(5000), 'socket stayed open');
    assert.equal(r.received.length, before, 'nothing is sent before closing');
  });

  test('an unknown user is refused like a wrong password', async () => {
    const r = await raw();
    r.write(PROTOCOL_HEADER);
    await r.expectMethod(10, 10);
    r.write(methodFrame(0, 10, 11, startOkArgs('nobody-here', 'guest')));
    const close = await r.expectConnectionClose();
    assert.equal(close.code, 403);
  });

  test('amqplib reports a failed login as ACCESS_REFUSED', async () => {
    await assert.rejects(amqp.connect(`amqp://guest:nope@${b.host}:${b.port}/%2F`), /ACCESS_REFUSED|403/);
  });

  test('connection.open to an unknown vhost → 530 NOT_ALLOWED', async () => {
    const r = await raw();
    r.write(PROTOCOL_HEADER);
    await r.expectMethod(10, 10);
    r.write(methodFrame(0, 10, 11, startOkArgs('guest', 'guest')));
    await r.expectMethod(10, 30);
    r.write(methodFrame(0, 10, 31, new Encoder().u16(2047).u32(131072).u16(0).done()));
    r.write(methodFrame(0, 10, 40, new Encoder().shortstr('no-such-vhost').shortstr('').bit(false).done()));
    const close = await r.expectConnectionClose();
    assert.equal(close.code, 530);
    assert.equal(close.text, "NOT_ALLOWED - vhost no-such-vhost not found");
    assert.deepEqual([close.classId, close.methodId], [10, 40]);
  });

  // RabbitMQ does not trust a peer that has not finished the handshake: an error in tune-ok is not
  // explained with connection.close; the socket is closed after a ~3 s delay (SILENT_CLOSE_DELAY).
  test('tune-ok with frame_max below 4096 or above the server maximum: socket closed without connection.close', async () => {
    await Promise.all([1024, 131073].map(async (frameMax) => {
      const r = await raw();
      r.write(PROTOCOL_HEADER);
      await r.expectMethod(10, 10);
      r.write(methodFrame(0, 10, 11, startOkArgs('guest', 'guest')));
      await r.expectMethod(10, 30);
      const before = r.received.length;
      r.write(methodFrame(0, 10, 31, new Encoder().u16(2047).u32(frameMax).u16(0).done()));
      r.write(methodFrame(0, 10, 40, new Encoder().shortstr('/').shortstr('').bit(false).done()));
      assert.ok(await r.closedWithin(5000), `frame_max ${frameMax}: socket stayed open`);
      assert.equal(r.received.length, before, `frame_max ${frameMax}: nothing is sent after connection.tune`);
    }));
  });

  test('channel_max limits how many channels are open at once (530 NOT_ALLOWED), not channel ids', async () => {
    const { conn: r } = await RawConnection.handshake(b.host, b.port, { frameMax: 4096, channelMax: 3 });
    raws.push(r);
    await r.openChannel(7);
    await r.openChannel(2);
    await r.openChannel(3);
    r.write(methodFrame(4, 20, 10, new Encoder().shortstr('').done()));
    const close = await r.expectConnectionClose();
    assert.equal(close.code, 530);
    assert.equal(close.text, 'NOT_ALLOWED - number of channels opened (3) has reached the negotiated channel_max (3)');
  });

  test('client-initiated close: connection.close is answered with close-ok', async () => {
    const { conn: r } = await RawConnection.handshake(b.host, b.port);
    raws.push(r);
    await r.openChannel(1);
    r.write(methodFrame(0, 10, 50, new Encoder().u16(200).shortstr('bye').u16(0).u16(0).done()));
    await r.expectMethod(10, 51);
  });

  // amqplib sends connection.close ahead of publishes still buffered on its channels, so frames follow
  // the close. RabbitMQ answers close-ok, drops those frames and leaves closing the socket to the client;
  // closing first makes the client's pending writes fail (EPIPE, or a reset through a TCP proxy).
  test('after close-ok the socket stays open for the client to close; frames after connection.close are dropped', async () => {
    const { conn: r } = await RawConnection.handshake(b.host, b.port);
    raws.push(r);
    await r.openChannel(1);
    const q = await r.declareQueue(1, '', { exclusive: true });
    let serverEnded = false;
    r.socket.once('end', () => (serverEnded = true));
    const close = methodFrame(0, 10, 50, new Encoder().u16(200).shortstr('bye').u16(0).u16(0).done());
    r.write(Buffer.concat([close, ...publishFrames(1, '', q, Buffer.from('behind the close'))]));
    await r.expectMethod(10, 51);
    for (let i = 0; i < 100; i++) r.write(Buffer.concat(publishFrames(1, '', q, Buffer.alloc(1000))));
    // Nothing can be awaited that proves a close did not happen: give the broker a bounded window.
    assert.equal(await r.closedWithin(500), false, 'broker closed the socket after close-ok');
    assert.equal(serverEnded, false, 'broker half-closed the socket after close-ok');
    r.socket.end();
    assert.ok(await r.closedWithin(5000), 'broker did not close the socket after the client did');
  });

  test('amqplib connects, works and closes cleanly', async () => {
    const conn = await connect(b.url);
    const ch = await channel(conn);
    const q = await ch.assertQueue('', { exclusive: true });
    assert.match(q.queue, /^amq\.gen-/);
    await conn.close();
    assert.equal(await closeReason(conn), undefined);
  });

  test('a client that connects and sends nothing is not answered', async () => {
    const r = await raw();
    await new Promise((res) => setTimeout(res, 300));
    assert.equal(r.received.length, 0);
    assert.equal(r.isClosed, false);
  });
  // RabbitMQ 3.10 reads 0 ("no limit") in tune-ok as more than its own limits: a handshake error.
  test('tune-ok with channel_max 0 or frame_max 0 (no limit): socket closed without connection.close', async () => {
    await Promise.all([[0, 131072], [2047, 0]].map(async ([channelMax, frameMax]) => {
      const r = await raw();
      r.write(PROTOCOL_HEADER);
      await r.expectMethod(10, 10);
      r.write(methodFrame(0, 10, 11, startOkArgs('guest', 'guest')));
      await r.expectMethod(10, 30);
      const before = r.received.length;
      r.write(methodFrame(0, 10, 31, new Encoder().u16(channelMax!).u32(frameMax!).u16(0).done()));
      r.write(methodFrame(0, 10, 40, new Encoder().shortstr('/').shortstr('').bit(false).done()));
      assert.ok(await r.closedWithin(5000), `channel_max ${channelMax} frame_max ${frameMax}: socket stayed open`);
      assert.equal(r.received.length, before, `channel_max ${channelMax} frame_max ${frameMax}: nothing is sent after connection.tune`);
    }));
  });

});
