/**
 * Graceful restart (SIGTERM, then start on the same data dir) of the real broker process: what
 * RabbitMQ keeps across a restart, Warren keeps; what RabbitMQ drops, Warren drops.
 *
 * Everything is set up first (over AMQP and the management API, with a consumer still holding
 * unacked deliveries and an exclusive queue's connection still open at the stop), then the broker is
 * restarted once, and each test checks one part of the result. The last test restarts a second
 * time, so that definitions restored at start are also written back correctly.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import amqp from 'amqplib';
import type { Channel, ChannelModel, Options } from 'amqplib';
import { startWarren, type WarrenProcess } from './support/warren-process.js';

const MESSAGES = 120;
const isTransient = (i: number): boolean => i % 3 === 0;
const QUEUE_ARGS = {
  'x-max-length': 10_000,
  'x-message-ttl': 3_600_000,
  'x-dead-letter-exchange': 'rs-ae',
  'x-dead-letter-routing-key': 'dead',
};
const HELD = 10;
const HELD_UNACKED = 4;
const VHOST = 'rs-vh';
const USER = 'rs-user';
const PASSWORD = 'rs-secret';

let warren: WarrenProcess;

async function mgmt(method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const response = await fetch(warren.managementUrl + path, {
    method,
    headers: {
      authorization: `Basic ${Buffer.from('guest:guest').toString('base64')}`,
      'content-type': 'application/json',
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, json: text ? JSON.parse(text) : undefined };
}

async function mgmtOk(method: string, path: string, body?: unknown): Promise<void> {
  const { status, json } = await mgmt(method, path, body);
  assert.ok(status >= 200 && status < 300, `${method} ${path}: ${status} ${JSON.stringify(json)}`);
}

/**
 * Restart and wait until the management API answers too: warren-process.ts resolves on the AMQP
 * "listening" line, which Warren logs before its HTTP listener is up.
 */
async function restartBroker(): Promise<void> {
  await warren.restart();
  for (let attempt = 0; ; attempt++) {
    try {
      await fetch(warren.managementUrl + '/api/health/checks/alarms');
      return;
    } catch (e) {
      if (attempt >= 100) throw e;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

/** Opens a connection whose errors are swallowed (a test reads them from rejected promises). */
async function open(url: string): Promise<ChannelModel> {
  const conn = await amqp.connect(url);
  conn.on('error', () => {});
  return conn;
}

/** Runs fn on a fresh channel and returns the server's reply code if the channel was closed by it. */
async function channelErrorCode(conn: ChannelModel, fn: (ch: Channel) => Promise<unknown>): Promise<number | undefined> {
  const ch = await conn.createChannel();
  ch.on('error', () => {});
  try {
    await fn(ch);
  } catch (e) {
    return (e as { code?: number }).code;
  }
  await ch.close();
  return undefined;
}

/** The body of the next message (auto-ack), or undefined when the queue is empty. */
async function getText(ch: Channel, queue: string): Promise<string | undefined> {
  const m = await ch.get(queue, { noAck: true });
  return m ? m.content.toString() : undefined;
}

const props = (i: number): Options.Publish => ({
  persistent: !isTransient(i),
  contentType: 'application/x-restart-test',
  headers: { i, nested: { list: [1, 'two'] } },
  messageId: `m-${i}`,
  correlationId: `c-${i}`,
  appId: 'restart-test',
  type: 'sample',
  timestamp: 1_700_000_000 + i,
  expiration: '7200000',
});

/** Connections open at the stop; the broker's restart drops them. */
const openAtStop: ChannelModel[] = [];
/** The durable queue the broker named (amq.gen-…): RabbitMQ brings it back like any other. */
let serverNamed = '';

describe('graceful restart', { timeout: 120_000 }, () => {
  before(async () => {
    warren = await startWarren({ management: true });
    const conn = await open(warren.url);
    const ch = await conn.createConfirmChannel();

    await ch.assertExchange('rs-ae', 'fanout', { durable: true });
    await ch.assertExchange('rs-x', 'topic', { durable: true, arguments: { 'alternate-exchange': 'rs-ae' } });
    await ch.assertExchange('rs-x2', 'direct', { durable: true });
    await ch.assertExchange('rs-tx', 'direct', { durable: false });
    await ch.bindExchange('rs-x2', 'rs-x', 'e2e.#');

    await ch.assertQueue('rs-q', { durable: true, arguments: QUEUE_ARGS });
    await ch.assertQueue('rs-ae-q', { durable: true });
    await ch.assertQueue('rs-e2e-q', { durable: true });
    await ch.assertQueue('rs-route-q', { durable: true });
    await ch.assertQueue('rs-tq', { durable: false });
    await ch.assertQueue('rs-held', { durable: true });
    await ch.bindQueue('rs-q', 'rs-x', 'a.#');
    await ch.bindQueue('rs-route-q', 'rs-x', 'r.#');
    await ch.bindQueue('rs-ae-q', 'rs-ae', '');
    await ch.bindQueue('rs-e2e-q', 'rs-x2', 'e2e.k');
    await ch.bindQueue('rs-tq', 'rs-x', 'r.#'); // dies with the non-durable queue
    await ch.bindQueue('rs-route-q', 'rs-tx', 'k'); // dies with the non-durable exchange

    // The other kinds of stored object: a server-named durable queue, an internal headers exchange
    // with a binding whose arguments matter, a fanout exchange, an auto-delete durable exchange.
    serverNamed = (await ch.assertQueue('', { durable: true })).queue;
    await ch.bindQueue(serverNamed, 'rs-x', 'sn.#');
    await ch.assertExchange('rs-hx', 'headers', { durable: true, internal: true });
    await ch.bindExchange('rs-hx', 'rs-x', 'h.#');
    await ch.assertQueue('rs-hq', { durable: true });
    await ch.bindQueue('rs-hq', 'rs-hx', '', { 'x-match': 'all', kind: 'wanted' });
    await ch.assertExchange('rs-fx', 'fanout', { durable: true, autoDelete: true });
    await ch.bindQueue('rs-hq', 'rs-fx', '');
    for (let i = 0; i < 3; i++) ch.publish('rs-x', 'sn.m', Buffer.from(`server-named ${i}`), { persistent: true });

    for (let i = 0; i < MESSAGES; i++) ch.publish('rs-x', 'a.m', Buffer.from(`message ${i}`), props(i));
    for (let i = 0; i < HELD; i++) ch.sendToQueue('rs-held', Buffer.from(`held ${i}`), { persistent: true });
    await ch.waitForConfirms();

    // An exclusive queue (durable flag or not) lives only as long as its connection.
    const exclusiveConn = await open(warren.url);
    const exclusiveCh = await exclusiveConn.createChannel();
    await exclusiveCh.assertQueue('rs-xq', { exclusive: true, durable: true });
    await exclusiveCh.assertQueue('rs-xq2', { exclusive: true, durable: false });
    openAtStop.push(exclusiveConn);

    // A consumer holding some deliveries unacked when the broker stops.
    const consumerConn = await open(warren.url);
    const consumerCh = await consumerConn.createChannel();
    await consumerCh.prefetch(HELD_UNACKED);
    let got = 0;
    const allHeld = new Promise<void>((resolve) => {
      void consumerCh.consume('rs-held', () => {
        if (++got === HELD_UNACKED) resolve();
      });
    });
    await allHeld;
    openAtStop.push(consumerConn);

    // Users, vhosts and permissions the way an operator makes them.
    await mgmtOk('PUT', `/api/vhosts/${VHOST}`, { description: 'restart test vhost', tags: 'alpha,beta' });
    await mgmtOk('PUT', `/api/users/${USER}`, { password: PASSWORD, tags: 'monitoring' });
    await mgmtOk('PUT', `/api/permissions/${VHOST}/${USER}`, { configure: '^rs-', write: '.*', read: '.*' });
    await mgmtOk('PUT', `/api/topic-permissions/${VHOST}/${USER}`, { exchange: 'amq.topic', write: '^allowed\\.', read: '.*' });
    await mgmtOk('PUT', '/api/users/rs-deleted', { password: 'x', tags: '' });
    await mgmtOk('DELETE', '/api/users/rs-deleted');
    const userConn = await open(`amqp://${USER}:${PASSWORD}@127.0.0.1:${warren.amqpPort}/${VHOST}`);
    const userCh = await userConn.createConfirmChannel();
    await userCh.assertQueue('rs-vq', { durable: true });
    for (let i = 0; i < 5; i++) userCh.sendToQueue('rs-vq', Buffer.from(`vhost ${i}`), { persistent: true });
    await userCh.waitForConfirms();
    await userConn.close();
    await conn.close();

    for (const c of openAtStop) c.on('close', () => {});
    await restartBroker();
  });

  after(async () => {
    await warren?.stop();
  });

  test('durable exchanges, queues and bindings come back, queue arguments included', async () => {
    const conn = await open(warren.url);
    try {
      const ch = await conn.createChannel();
      for (const x of ['rs-ae', 'rs-x', 'rs-x2']) await ch.checkExchange(x);
      for (const q of ['rs-q', 'rs-ae-q', 'rs-e2e-q', 'rs-route-q', 'rs-held']) await ch.checkQueue(q);
      // Same arguments: declare-ok. Different ones: 406, so the arguments really were kept.
      await ch.assertQueue('rs-q', { durable: true, arguments: QUEUE_ARGS });
      const mismatch = await channelErrorCode(conn, (c) =>
        c.assertQueue('rs-q', { durable: true, arguments: { ...QUEUE_ARGS, 'x-max-length': 5 } }),
      );
      assert.equal(mismatch, 406, 'redeclaring with another x-max-length must fail with 406');
      const { json: queue } = await mgmt('GET', '/api/queues/%2F/rs-q');
      assert.deepEqual(queue.arguments, QUEUE_ARGS);
      assert.equal(queue.durable, true);
      const { json: exchange } = await mgmt('GET', '/api/exchanges/%2F/rs-x');
      assert.deepEqual(exchange.arguments, { 'alternate-exchange': 'rs-ae' });
      assert.equal(exchange.type, 'topic');

      // Routing through the restored bindings: queue binding, exchange-to-exchange, alternate exchange.
      const pub = await conn.createConfirmChannel();
      pub.publish('rs-x', 'r.1', Buffer.from('route'), { persistent: true });
      pub.publish('rs-x', 'e2e.k', Buffer.from('e2e'), { persistent: true });
      pub.publish('rs-x', 'nowhere', Buffer.from('unroutable'), { persistent: true });
      await pub.waitForConfirms();
      assert.equal(await getText(ch, 'rs-route-q'), 'route');
      assert.equal((await ch.get('rs-route-q', { noAck: true })), false, 'only one route to rs-route-q is left');
      assert.equal(await getText(ch, 'rs-e2e-q'), 'e2e');
      assert.equal(await getText(ch, 'rs-ae-q'), 'unroutable');
    } finally {
      await conn.close();
    }
  });

  test('a durable server-named queue comes back with its binding and messages (the broker starts at all)', async () => {
    const conn = await open(warren.url);
    try {
      const ch = await conn.createConfirmChannel();
      assert.match(serverNamed, /^amq\.gen-/);
      assert.equal((await ch.checkQueue(serverNamed)).messageCount, 3);
      ch.publish('rs-x', 'sn.after', Buffer.from('after restart'), { persistent: true });
      await ch.waitForConfirms();
      const bodies: (string | undefined)[] = [];
      for (let i = 0; i < 4; i++) bodies.push(await getText(ch, serverNamed));
      assert.deepEqual(bodies, ['server-named 0', 'server-named 1', 'server-named 2', 'after restart']);
      // Still the broker's name: a client may not declare it actively.
      assert.equal(await channelErrorCode(conn, (c) => c.assertQueue(serverNamed, { durable: true })), 403);
    } finally {
      await conn.close();
    }
  });

  test('internal headers exchange with binding arguments, auto-delete fanout exchange and topic permissions come back', async () => {
    const conn = await open(warren.url);
    try {
      const ch = await conn.createConfirmChannel();
      const { json: hx } = await mgmt('GET', '/api/exchanges/%2F/rs-hx');
      assert.deepEqual([hx.type, hx.internal, hx.durable], ['headers', true, true]);
      const { json: fx } = await mgmt('GET', '/api/exchanges/%2F/rs-fx');
      assert.deepEqual([fx.type, fx.auto_delete], ['fanout', true]);
      ch.publish('rs-x', 'h.1', Buffer.from('wanted'), { headers: { kind: 'wanted' } });
      ch.publish('rs-x', 'h.2', Buffer.from('unwanted'), { headers: { kind: 'other' } });
      ch.publish('rs-fx', '', Buffer.from('fanned'));
      await ch.waitForConfirms();
      assert.deepEqual([await getText(ch, 'rs-hq'), await getText(ch, 'rs-hq'), await getText(ch, 'rs-hq')], ['wanted', 'fanned', undefined]);
      assert.equal(await channelErrorCode(conn, (c) => c.checkExchange('rs-hx').then(() => {
        c.publish('rs-hx', '', Buffer.from('direct to internal'));
        return c.checkExchange('rs-hx');
      })), 403, 'still internal');
    } finally {
      await conn.close();
    }
    const { json: topic } = await mgmt('GET', `/api/topic-permissions/${VHOST}/${USER}`);
    assert.deepEqual(topic.map((t: any) => [t.exchange, t.write, t.read]), [['amq.topic', '^allowed\\.', '.*']]);
    const userConn = await open(`amqp://${USER}:${PASSWORD}@127.0.0.1:${warren.amqpPort}/${VHOST}`);
    try {
      const code = await channelErrorCode(userConn, async (c) => {
        c.publish('amq.topic', 'forbidden.key', Buffer.from('x'));
        await c.checkExchange('amq.topic');
      });
      assert.equal(code, 403, 'the topic write pattern still applies');
    } finally {
      await userConn.close();
    }
  });

  test('non-durable and exclusive exchanges and queues are gone', async () => {
    const conn = await open(warren.url);
    try {
      assert.equal(await channelErrorCode(conn, (c) => c.checkExchange('rs-tx')), 404, 'non-durable exchange');
      assert.equal(await channelErrorCode(conn, (c) => c.checkQueue('rs-tq')), 404, 'non-durable queue');
      assert.equal(await channelErrorCode(conn, (c) => c.checkQueue('rs-xq')), 404, 'exclusive durable queue');
      assert.equal(await channelErrorCode(conn, (c) => c.checkQueue('rs-xq2')), 404, 'exclusive queue');
      const { json: bindings } = await mgmt('GET', '/api/queues/%2F/rs-route-q/bindings');
      const sources = (bindings as Array<{ source: string }>).map((b) => b.source).sort();
      assert.deepEqual(sources, ['', 'rs-x'], 'rs-route-q keeps its default and rs-x bindings only');
    } finally {
      await conn.close();
    }
  });

  test('persistent messages come back in order with their properties; transient ones do not', async () => {
    const conn = await open(warren.url);
    try {
      const ch = await conn.createChannel();
      const expected = [...Array(MESSAGES).keys()].filter((i) => !isTransient(i));
      const { messageCount } = await ch.checkQueue('rs-q');
      assert.equal(messageCount, expected.length);
      for (const i of expected) {
        const m = await ch.get('rs-q', { noAck: true });
        assert.ok(m, `message ${i} missing`);
        assert.equal(m.content.toString(), `message ${i}`);
        assert.equal(m.fields.redelivered, false, 'never delivered before the stop');
        const p = m.properties;
        const want = props(i);
        assert.equal(p.deliveryMode, 2);
        assert.equal(p.contentType, want.contentType);
        assert.deepEqual(p.headers, want.headers);
        assert.equal(p.messageId, want.messageId);
        assert.equal(p.correlationId, want.correlationId);
        assert.equal(p.appId, want.appId);
        assert.equal(p.type, want.type);
        assert.equal(p.timestamp, want.timestamp);
        assert.equal(p.expiration, want.expiration);
      }
      assert.equal(await ch.get('rs-q', { noAck: true }), false);
    } finally {
      await conn.close();
    }
  });

  test('deliveries unacked at the stop come back first, redelivered; the rest not', async () => {
    const conn = await open(warren.url);
    try {
      const ch = await conn.createChannel();
      for (let i = 0; i < HELD; i++) {
        const m = await ch.get('rs-held', { noAck: true });
        assert.ok(m, `held ${i} missing`);
        assert.equal(m.content.toString(), `held ${i}`);
        assert.equal(m.fields.redelivered, i < HELD_UNACKED, `redelivered flag of held ${i}`);
      }
      assert.equal(await ch.get('rs-held', { noAck: true }), false);
    } finally {
      await conn.close();
    }
  });

  test('users, vhosts and permissions made through the management API survive', async () => {
    const { status: vhostStatus, json: vhost } = await mgmt('GET', `/api/vhosts/${VHOST}`);
    assert.equal(vhostStatus, 200);
    assert.equal(vhost.description, 'restart test vhost');
    assert.deepEqual(vhost.tags, ['alpha', 'beta']);
    const { json: user } = await mgmt('GET', `/api/users/${USER}`);
    assert.deepEqual(user.tags, ['monitoring']);
    const { json: permission } = await mgmt('GET', `/api/permissions/${VHOST}/${USER}`);
    assert.deepEqual(
      { configure: permission.configure, write: permission.write, read: permission.read },
      { configure: '^rs-', write: '.*', read: '.*' },
    );
    assert.equal((await mgmt('GET', '/api/users/rs-deleted')).status, 404, 'a deleted user stays deleted');

    // The password and the permissions work, not just show.
    const conn = await open(`amqp://${USER}:${PASSWORD}@127.0.0.1:${warren.amqpPort}/${VHOST}`);
    try {
      const ch = await conn.createChannel();
      assert.equal((await ch.checkQueue('rs-vq')).messageCount, 5);
      assert.equal(await getText(ch, 'rs-vq'), 'vhost 0');
      assert.equal(await channelErrorCode(conn, (c) => c.assertQueue('not-rs-q')), 403, 'configure pattern ^rs- still applies');
    } finally {
      await conn.close();
    }
    await assert.rejects(amqp.connect(`amqp://${USER}:wrong@127.0.0.1:${warren.amqpPort}/${VHOST}`), 'a wrong password is refused');
  });

  test('a second restart keeps the restored state', async () => {
    const before = await mgmt('GET', '/api/definitions');
    await restartBroker();
    const afterRestart = await mgmt('GET', '/api/definitions');
    const shape = (d: any) => ({
      vhosts: d.vhosts.map((v: any) => v.name).sort(),
      users: d.users.map((u: any) => `${u.name}:${u.password_hash}:${JSON.stringify(u.tags)}`).sort(),
      permissions: d.permissions.map((p: any) => JSON.stringify(p)).sort(),
      exchanges: d.exchanges.map((x: any) => JSON.stringify(x)).sort(),
      queues: d.queues.map((q: any) => JSON.stringify(q)).sort(),
      bindings: d.bindings.map((b: any) => JSON.stringify(b)).sort(),
    });
    assert.deepEqual(shape(afterRestart.json), shape(before.json));
    const conn = await open(`amqp://${USER}:${PASSWORD}@127.0.0.1:${warren.amqpPort}/${VHOST}`);
    try {
      const ch = await conn.createChannel();
      assert.equal((await ch.checkQueue('rs-vq')).messageCount, 4);
    } finally {
      await conn.close();
    }
  });
});
