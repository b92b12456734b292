// All 14 basic properties and every field-table type reach consumers byte for byte; bodies of any
// size arrive intact; user_id is checked against the login.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { brokerPerFile } from './support/broker-per-file.js';
import { RawConnection, basicConsumeArgs } from './support/raw-amqp.js';
import { encodeProperties, methodFrame, type BasicProperties, type TypedTable } from './support/raw-codec.js';
import { channel, connect, consume, expectChannelError } from './support/amqp-client.js';

/** Every field type RabbitMQ clients send, nested in a table and an array too. */
const EVERY_TYPE: TypedTable = {
  bool: { t: 't', v: true },
  int8: { t: 'b', v: -5 },
  uint8: { t: 'B', v: 250 },
  int16: { t: 's', v: -300 },
  uint16: { t: 'u', v: 65000 },
  int32: { t: 'I', v: -70000 },
  uint32: { t: 'i', v: 4_000_000_000 },
  int64: { t: 'l', v: -(2n ** 40n) },
  uint64: { t: 'L', v: 2n ** 63n + 5n },
  float: { t: 'f', v: 1.5 },
  double: { t: 'd', v: Math.PI },
  decimal: { t: 'D', scale: 2, v: 12345 },
  longstr: { t: 'S', v: 'héllo wörld' },
  bytes: { t: 'x', v: Buffer.from([0, 1, 2, 255]) },
  array: { t: 'A', v: [{ t: 'I', v: 1 }, { t: 'S', v: 'two' }, { t: 'V' }, { t: 'F', v: { in: { t: 't', v: false } } }] },
  timestamp: { t: 'T', v: 1_700_000_000n },
  table: { t: 'F', v: { nested: { t: 'S', v: 'yes' }, deeper: { t: 'F', v: { n: { t: 'b', v: 1 } } } } },
  void: { t: 'V' },
};

const ALL_PROPERTIES: BasicProperties = {
  contentType: 'application/json',
  contentEncoding: 'gzip',
  headers: EVERY_TYPE,
  deliveryMode: 2,
  priority: 7,
  correlationId: 'corr-1',
  replyTo: 'reply.queue',
  expiration: '60000',
  messageId: 'msg-42',
  timestamp: 1_700_000_123n,
  type: 'order.created',
  userId: 'guest',
  appId: 'warren-tests',
  clusterId: 'cluster-7',
};

describe('publish properties', () => {
  const b = brokerPerFile();
  const raws = b.raws;
  const rawQueue = async () => {
    const { conn } = await RawConnection.handshake(b.host, b.port);
    raws.push(conn);
    await conn.openChannel(1);
    return { r: conn, q: await conn.declareQueue(1, '', { exclusive: true }) };
  };

  test('all 14 properties and every field type come back byte-exact from basic.get', async () => {
    const { r, q } = await rawQueue();
    const sent = encodeProperties(ALL_PROPERTIES);
    r.publish(1, '', q, Buffer.from('{"a":1}'), sent);
    const got = await r.get(1, q);
    assert.ok(got);
    assert.equal(got.properties.toString('hex'), sent.toString('hex'));
    assert.equal(got.header.payload.readUInt16BE(0), 60, 'class id');
    assert.equal(got.header.payload.readUInt16BE(2), 0, 'weight');
    assert.equal(got.header.payload.readBigUInt64BE(4), 7n, 'body size');
    assert.equal(got.body.toString(), '{"a":1}');
  });

  test('all 14 properties come back byte-exact in basic.deliver', async () => {
    const { r, q } = await rawQueue();
    const sent = encodeProperties(ALL_PROPERTIES);
    r.write(methodFrame(1, 60, 20, basicConsumeArgs(q, 'c1', true)));
    await r.expectMethod(60, 21);
    r.publish(1, '', q, Buffer.from('deliver me'), sent);
    const deliver = await r.expectMethod(60, 60);
    assert.equal(deliver.args.shortstr(), 'c1');
    const content = await r.readContent();
    assert.equal(content.properties.toString('hex'), sent.toString('hex'));
    assert.equal(content.body.toString(), 'deliver me');
  });

  test('no properties at all: flags 0', async () => {
    const { r, q } = await rawQueue();
    r.publish(1, '', q, Buffer.from('bare'), {});
    const got = await r.get(1, q);
    assert.equal(got?.properties.toString('hex'), '0000');
  });

  test('each property alone survives (flag bits are not shifted)', async () => {
    const { r, q } = await rawQueue();
    const singles: BasicProperties[] = (Object.keys(ALL_PROPERTIES) as Array<keyof BasicProperties>).map((k) => ({ [k]: ALL_PROPERTIES[k] }));
    for (const p of singles) r.publish(1, '', q, Buffer.from('x'), p);
    for (const p of singles) {
      const got = await r.get(1, q);
      assert.equal(got?.properties.toString('hex'), encodeProperties(p).toString('hex'), `property ${Object.keys(p)[0]}`);
    }
  });

  test('amqplib sees every property it published', async () => {
    const conn = await connect(b.url);
    const ch = await channel(conn);
    const q = (await ch.assertQueue('', { exclusive: true })).queue;
    const inbox = await consume(ch, q, { noAck: true });
    ch.sendToQueue(q, Buffer.from('props'), {
      contentType: 'text/plain', contentEncoding: 'utf-8', headers: { a: 1, b: 'two', c: [1, 'x'], d: { e: true } },
      deliveryMode: 2, priority: 3, correlationId: 'c', replyTo: 'r', expiration: '100000', messageId: 'm',
      timestamp: 1_700_000_000, type: 't', userId: 'guest', appId: 'app',
    });
    const [m] = await inbox.waitFor(1);
    assert.deepEqual(
      { ...m!.properties },
      {
        contentType: 'text/plain', contentEncoding: 'utf-8', headers: { a: 1, b: 'two', c: [1, 'x'], d: { e: true } },
        deliveryMode: 2, priority: 3, correlationId: 'c', replyTo: 'r', expiration: '100000', messageId: 'm',
        // amqplib cannot publish cluster_id; the raw tests above cover it.
        timestamp: 1_700_000_000, type: 't', userId: 'guest', appId: 'app', clusterId: undefined,
      },
    );
    assert.equal(m!.content.toString(), 'props');
  });

  test('bodies of 0 B, 1 B, 131 KiB and 3 MiB arrive intact', async () => {
    const conn = await connect(b.url);
    const ch = await channel(conn);
    const q = (await ch.assertQueue('', { exclusive: true })).queue;
    const inbox = await consume(ch, q, { noAck: true });
    const bodies = [Buffer.alloc(0), Buffer.from([0]), randomBytes(131 * 1024), randomBytes(3 * 1024 * 1024)];
    for (const body of bodies) ch.sendToQueue(q, body);
    const got = await inbox.waitFor(bodies.length, 10_000);
    got.forEach((m, i) => assert.ok(m.content.equals(bodies[i]!), `body ${i} (${bodies[i]!.length} B) differs`));
  });

  test('a user_id that is not the login user → 406 PRECONDITION_FAILED', async () => {
    const conn = await connect(b.url);
    const ch = await channel(conn);
    const q = (await ch.assertQueue('', { exclusive: true })).queue;
    await expectChannelError(conn, ch, () => ch.sendToQueue(q, Buffer.from('x'), { userId: 'bob' }), 406,
      "PRECONDITION_FAILED - user_id property set to 'bob' but authenticated user was 'guest'");
    const ch2 = await channel(conn);
    assert.equal((await ch2.checkQueue(q)).messageCount, 0, 'the message must not be enqueued');
  });
});
