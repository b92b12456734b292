// Heartbeats: negotiated in tune-ok; the broker sends them, drops a peer silent for about two
// intervals (requeueing its unacked messages), and leaves alone peers that keep talking.
// The tests wait on timers, so they run concurrently, each cleaning up after itself.
import { describe, test, before, after, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { startTestBroker, uniq, type TestBroker } from './support/test-broker.js';
import { RawConnection, basicConsumeArgs } from './support/raw-amqp.js';
import { heartbeatFrame, methodFrame } from './support/raw-codec.js';
import { channel, closeAllClients, closeReason, connect, consume, roundTrip, sleep } from './support/amqp-client.js';

describe('heartbeats', { concurrency: true }, () => {
  let b: TestBroker;
  before(async () => {
    b = await startTestBroker();
  });
  after(async () => {
    await closeAllClients();
    await b.close();
  });

  const raw = async (t: TestContext, heartbeat: number) => {
    const { conn } = await RawConnection.handshake(b.host, b.port, { heartbeat });
    t.after(() => conn.destroy());
    return conn;
  };
  const client = async (t: TestContext, url: string) => {
    const conn = await connect(url);
    t.after(() => conn.close().catch(() => {}));
    return conn;
  };
  /** Only heartbeat frames (8, channel 0, empty) in `bytes`. */
  const onlyHeartbeats = (bytes: Buffer) => bytes.length % 8 === 0 && bytes.toString('hex') === heartbeatFrame().toString('hex').repeat(bytes.length / 8);

  test('a silent client with heartbeat 1 s gets heartbeats, then is dropped after ~2-3 s; its unacked message goes to another consumer', async (t) => {
    const q = uniq('hb');
    const watcher = await client(t, b.url);
    const wch = await channel(watcher);
    await wch.assertQueue(q, { durable: false, autoDelete: false });
    wch.sendToQueue(q, Buffer.from('held by the silent one'));
    await roundTrip(wch);

    const r = await raw(t, 1);
    await r.openChannel(1);
    r.write(methodFrame(1, 60, 20, basicConsumeArgs(q, 'silent', false)));
    await r.expectMethod(60, 21);
    await r.expectMethod(60, 60);
    await r.readContent();
    const other = await consume(wch, q);
    const mark = r.received.length;
    const t0 = Date.now();
    // From now on the raw client says nothing at all.
    assert.ok(await r.closedWithin(6000), 'the broker did not drop the silent client');
    const elapsed = Date.now() - t0;
    assert.ok(elapsed >= 1500 && elapsed <= 5000, `dropped after ${elapsed} ms`);
    const after = r.received.subarray(mark);
    assert.ok(after.length >= 16, `expected >= 2 heartbeats before the drop, got ${after.length} bytes`);
    assert.ok(onlyHeartbeats(after), `only heartbeats, no connection.close: ${after.toString('hex')}`);
    const [m] = await other.waitFor(1);
    assert.equal(m!.content.toString(), 'held by the silent one');
    assert.equal(m!.fields.redelivered, true);
    await wch.deleteQueue(q);
  });

  test('a client that sends heartbeats (and nothing else) stays connected', async (t) => {
    const r = await raw(t, 1);
    const timer = setInterval(() => r.write(heartbeatFrame()), 400);
    try {
      assert.equal(await r.closedWithin(3500), false, 'dropped despite heartbeats');
      await r.openChannel(1);
    } finally {
      clearInterval(timer);
    }
  });

  test('any traffic counts as liveness, not just heartbeat frames', async (t) => {
    const r = await raw(t, 1);
    await r.openChannel(1);
    const q = await r.declareQueue(1, '', { exclusive: true });
    const deadline = Date.now() + 3500;
    while (Date.now() < deadline) {
      r.publish(1, '', q, Buffer.from('x'));
      await sleep(400);
    }
    assert.equal(r.isClosed, false);
  });

  test('heartbeat 0 in tune-ok disables heartbeats both ways', async (t) => {
    const r = await raw(t, 0);
    const mark = r.received.length;
    assert.equal(await r.closedWithin(2500), false);
    assert.equal(r.received.length, mark, 'no heartbeats were sent');
  });

  test('amqplib with heartbeat=1 stays connected while idle', async (t) => {
    const conn = await client(t, `${b.url}?heartbeat=1`);
    const ch = await channel(conn);
    let closed = false;
    conn.on('close', () => (closed = true));
    await sleep(3000);
    assert.equal(closed, false, `closed: ${JSON.stringify(await closeReason(conn, 10).catch(() => undefined))}`);
    await ch.checkExchange('amq.direct');
  });
});
