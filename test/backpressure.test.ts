// Flow control: a consumer whose socket does not read must not make the broker push the whole queue
// into memory. Deliveries stop when its socket is full (the rest stays queued), and nothing is lost.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { brokerPerFile } from './support/broker-per-file.js';
import { uniq } from './support/test-broker.js';
import { RawConnection, basicConsumeArgs } from './support/raw-amqp.js';
import { methodFrame } from './support/raw-codec.js';
import { channel, confirmChannel, connect, sleep, within } from './support/amqp-client.js';

const MESSAGES = 1536;
const SIZE = 16 * 1024; // 24 MiB in all: far more than the kernel's socket buffers hold

describe('backpressure', () => {
  const b = brokerPerFile();
  const raws = b.raws;

  test('a consumer that stops reading gets only what its socket holds; the rest stays queued and nothing is lost', async (t) => {
    const conn = await connect(b.url);
    const ch = await confirmChannel(conn);
    const q = uniq('bp');
    await ch.assertQueue(q, { durable: false, autoDelete: false });
    try {
      // A consumer with no prefetch limit that never reads its socket.
      const { conn: r } = await RawConnection.handshake(b.host, b.port);
      raws.push(r);
      await r.openChannel(1);
      r.write(methodFrame(1, 60, 20, basicConsumeArgs(q, 'stalled', false)));
      await r.expectMethod(60, 21);
      r.socket.pause();

      const body = Buffer.alloc(SIZE, 0x61);
      for (let i = 0; i < MESSAGES; i++) {
        if (!ch.sendToQueue(q, body)) await new Promise((res) => ch.once('drain', res));
      }
      await within(ch.waitForConfirms(), 20_000, 'publisher confirms');
      await sleep(300);
      const waiting = (await ch.checkQueue(q)).messageCount;
      t.diagnostic(`${waiting} of ${MESSAGES} messages still queued while the consumer is stalled`);
      assert.ok(waiting >= MESSAGES / 2, `only ${waiting} of ${MESSAGES} messages still queued: the broker buffered the rest for a stalled socket`);

      // Dropping the stalled consumer requeues everything it was sent: all messages are accounted for.
      r.destroy();
      const check = await channel(conn);
      let count = 0;
      for (let i = 0; i < 100 && count !== MESSAGES; i++) {
        await sleep(50);
        count = (await check.checkQueue(q)).messageCount;
      }
      assert.equal(count, MESSAGES);
    } finally {
      const c = await channel(conn);
      await c.deleteQueue(q);
    }
  });

  test('a consumer that pauses reading still receives everything, in order, once it reads again', async () => {
    const conn = await connect(b.url);
    const ch = await channel(conn);
    const q = uniq('bp-slow');
    await ch.assertQueue(q, { durable: false, autoDelete: true });
    const consumerConn = await connect(b.url);
    const cch = await channel(consumerConn);
    const got: number[] = [];
    const total = 300;
    await cch.consume(q, (m) => {
      if (m) got.push(m.content.readUInt32BE(0));
    }, { noAck: true });
    // amqplib's socket: stop reading for a while, as a slow consumer would.
    const socket = (consumerConn as unknown as { connection: { stream: import('node:net').Socket } }).connection.stream;
    socket.pause();
    const body = Buffer.alloc(64 * 1024);
    for (let i = 0; i < total; i++) {
      body.writeUInt32BE(i, 0);
      if (!ch.sendToQueue(q, Buffer.from(body))) await new Promise((res) => ch.once('drain', res));
    }
    await sleep(500);
    socket.resume();
    for (let i = 0; i < 200 && got.length < total; i++) await sleep(25);
    assert.equal(got.length, total);
    assert.deepEqual(got, Array.from({ length: total }, (_, i) => i));
  });
});
