/**
 * A no-ack consumer whose client stops reading must not make the broker copy the queue's backlog
 * into socket buffers: deliveries stop once about a megabyte waits for the socket (management's
 * send_pend, RabbitMQ's field for it), the rest stays in the queue, and everything arrives, in
 * order, once the client reads again. A TCP relay between client and broker plays the client that
 * stops reading (it pauses its side towards the broker). Runs against RabbitMQ too
 * (WARREN_TEST_AMQP_URL plus WARREN_TEST_MANAGEMENT_URL), whose credit flow holds the backlog back the same way.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import amqp from 'amqplib';
import { startTestBroker, uniq, type TestBroker } from './support/test-broker.js';
import { freePort } from './support/free-port.js';
import { eventually, waitFor } from './support/eventually.js';

const MiB = 1024 * 1024;
const MESSAGES = 60_000;
const BODY = 1024;
/** What may wait for a socket that is not read: Warren's high-water mark (1 MiB) plus one turn's frames, with room to spare. */
const MAX_SEND_PEND = 8 * MiB;

type Json = Record<string, unknown>;

describe('delivery backpressure', () => {
  let b: TestBroker;
  let management: string;
  before(async () => {
    b = await startTestBroker({ managementPort: await freePort() });
    management = process.env['WARREN_TEST_MANAGEMENT_URL'] ?? `http://127.0.0.1:${b.broker!.managementPort}`;
  });
  after(() => b.close());

  async function get(path: string): Promise<unknown> {
    const res = await fetch(management + path, { headers: { authorization: `Basic ${Buffer.from('guest:guest').toString('base64')}` } });
    assert.equal(res.status, 200, `${path}: HTTP ${res.status}`);
    return res.json();
  }

  test('a no-ack consumer that stops reading holds the backlog in the queue, not in the socket', async () => {
    const queue = uniq('backpressure');
    const setup = await amqp.connect(b.url);
    const pub = await setup.createConfirmChannel();
    await pub.assertQueue(queue, { durable: false });
    const body = Buffer.alloc(BODY, 7);
    for (let i = 0; i < MESSAGES; i++) {
      body.writeUInt32BE(i, 0);
      if (!pub.sendToQueue(queue, body)) await new Promise((r) => pub.once('drain', r));
    }
    await pub.waitForConfirms();

    // The relay: client <-> relay <-> broker; pausing `upstream` stops reading what the broker sends.
    let upstream: net.Socket | undefined;
    const relay = net.createServer((down) => {
      const up = net.connect(b.port, b.host);
      upstream = up;
      down.pipe(up);
      up.pipe(down);
      const close = () => { up.destroy(); down.destroy(); };
      up.on('error', close);
      down.on('error', close);
      up.on('close', close);
      down.on('close', close);
    });
    await new Promise<void>((r) => relay.listen(0, '127.0.0.1', r));
    const relayPort = (relay.address() as net.AddressInfo).port;
    const consumerConn = await amqp.connect(b.url.replace(`:${b.port}/`, `:${relayPort}/`));
    try {
      const ch = await consumerConn.createChannel();
      const got: number[] = [];
      upstream!.pause();
      // consume-ok itself waits in the relay with the first deliveries: settle it once reading resumes.
      const consuming = ch.consume(queue, (m) => { if (m) got.push(m.content.readUInt32BE(0)); }, { noAck: true });
      consuming.catch(() => {}); // a failed assertion below closes the channel under it
      const local = `127.0.0.1:${upstream!.localPort} -> 127.0.0.1:${b.port}`;
      let sample: { pend: number; ready: number } | undefined;
      await eventually(async () => {
        const conn = ((await get('/api/connections')) as Json[]).find((c) => c['name'] === local);
        assert.ok(conn, `connection ${local} listed`);
        const q = (await get(`/api/queues/%2F/${encodeURIComponent(queue)}`)) as Json;
        sample = { pend: conn['send_pend'] as number, ready: q['messages_ready'] as number };
        // Deliveries began, and stopped well short of the backlog.
        assert.ok(sample.ready < MESSAGES, `deliveries started: ${JSON.stringify(sample)}`);
      }, 20_000, 250);
      // Give the broker time to push more if it were going to.
      await new Promise((r) => setTimeout(r, 1500));
      const conn = ((await get('/api/connections')) as Json[]).find((c) => c['name'] === local)!;
      const q = (await get(`/api/queues/%2F/${encodeURIComponent(queue)}`)) as Json;
      const pend = conn['send_pend'] as number;
      const ready = q['messages_ready'] as number;
      assert.ok(pend <= MAX_SEND_PEND, `bytes waiting for the socket: ${pend}`);
      assert.ok(ready > MESSAGES / 2, `most of the backlog stays in the queue: ${ready} of ${MESSAGES}`);

      upstream!.resume();
      await consuming;
      await waitFor(`all ${MESSAGES} deliveries`, () => got.length === MESSAGES, 60_000);
      assert.deepEqual(got.slice(0, 3), [0, 1, 2]);
      assert.ok(got.every((v, i) => v === i), 'in order, none lost or repeated');
    } finally {
      upstream?.resume();
      await consumerConn.close().catch(() => {});
      await pub.deleteQueue(queue).catch(() => {});
      await setup.close();
      await new Promise<void>((r) => relay.close(() => r()));
    }
  });
});
