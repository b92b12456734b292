/**
 * Every permission rule of RabbitMQ's access control, allowed and refused, over AMQP with amqplib:
 * which operation needs configure, write or read on which resource, topic permissions on topic
 * exchanges (with {username}/{vhost} expansion), and vhost access at connection.open. The refusal
 * texts are RabbitMQ's exactly. The same file passes against RabbitMQ 3.10 (see
 * management-support.ts, WARREN_TEST_REFERENCE), which is where the expectations come from.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Channel } from 'amqplib';
import { AMQPClient } from '@cloudamqp/amqp-client';
import { api, apiOk, connect, seg, startTarget, uniqueName, type Target } from './management-support.js';

const V = uniqueName('perm-vhost');
const U = uniqueName('perm-user');
const PASSWORD = 'pw-1';

type Perms = [configure: string, write: string, read: string];

interface Case {
  name: string;
  perms: Perms;
  topic?: { exchange: string; write: string; read: string };
  run(ch: Channel): Promise<unknown>;
  /** The refusal's text after "ACCESS_REFUSED - "; undefined = allowed. */
  refused?: string;
}

const queue = (name: string) => `access to queue '${name}' in vhost '${V}' refused for user '${U}'`;
const exchange = (name: string) => `access to exchange '${name}' in vhost '${V}' refused for user '${U}'`;
const topic = (key: string, ex: string) => `access to topic '${key}' in exchange '${ex}' in vhost '${V}' refused for user '${U}'`;

/** Objects the admin declares first: the user operates on these. */
const FIX = { direct: 'pf-direct', other: 'pf-other', topic: 'pf-topic', queue: 'pf-queue', queue2: 'pf-queue2' };
const body = Buffer.from('x');

const CASES: Case[] = [
  // exchange.declare / exchange.delete: configure on the exchange.
  { name: 'exchange.declare with configure', perms: ['^pc-x', '', ''], run: (ch) => ch.assertExchange('pc-x1', 'direct', { durable: false }) },
  { name: 'exchange.declare without configure', perms: ['^pc-q', '.*', '.*'], run: (ch) => ch.assertExchange('pc-x2', 'direct', { durable: false }), refused: exchange('pc-x2') },
  { name: 'exchange.declare passive needs nothing', perms: ['', '', ''], run: (ch) => ch.checkExchange(FIX.direct) },
  { name: 'exchange.declare with an alternate exchange: write on it', perms: ['.*', `^${FIX.direct}$`, '.*'], run: (ch) => ch.assertExchange('pc-ae1', 'direct', { durable: false, alternateExchange: FIX.direct }) },
  { name: 'exchange.declare with an alternate exchange, no write on it', perms: ['.*', '^$', '.*'], run: (ch) => ch.assertExchange('pc-ae2', 'direct', { durable: false, alternateExchange: FIX.direct }), refused: exchange(FIX.direct) },
  { name: 'exchange.declare with an alternate exchange, no read on itself', perms: ['.*', '.*', '^$'], run: (ch) => ch.assertExchange('pc-ae3', 'direct', { durable: false, alternateExchange: FIX.direct }), refused: exchange('pc-ae3') },
  { name: 'exchange.delete with configure', perms: ['^pc-del', '', ''], run: async (ch) => { await ch.assertExchange('pc-del1', 'direct', { durable: false }); await ch.deleteExchange('pc-del1'); } },
  { name: 'exchange.delete without configure', perms: ['^$', '.*', '.*'], run: (ch) => ch.deleteExchange(FIX.other), refused: exchange(FIX.other) },
  { name: 'exchange.delete of a missing exchange is refused before not-found', perms: ['', '', ''], run: (ch) => ch.deleteExchange('pc-missing'), refused: exchange('pc-missing') },

  // queue.declare / queue.delete: configure on the queue.
  { name: 'queue.declare with configure', perms: ['^pc-q', '', ''], run: (ch) => ch.assertQueue('pc-q1', { durable: false }) },
  { name: 'queue.declare without configure', perms: ['^pc-x', '.*', '.*'], run: (ch) => ch.assertQueue('pc-q2', { durable: false }), refused: queue('pc-q2') },
  { name: 'queue.declare passive needs nothing', perms: ['', '', ''], run: (ch) => ch.checkQueue(FIX.queue) },
  { name: 'server-named queue: configure on its amq.gen name', perms: ['^amq\\.gen-', '', ''], run: (ch) => ch.assertQueue('', { exclusive: true }) },
  { name: 'server-named queue without configure on amq.gen names', perms: ['^pc-', '.*', '.*'], run: (ch) => ch.assertQueue('', { exclusive: true }), refused: 'SERVER_NAMED' },
  { name: 'queue.declare with a dead-letter exchange: write on it and read on the queue', perms: ['.*', `^${FIX.direct}$`, '^pc-dlx1$'], run: (ch) => ch.assertQueue('pc-dlx1', { durable: false, deadLetterExchange: FIX.direct }) },
  { name: 'queue.declare with a dead-letter exchange, no write on it', perms: ['.*', '^$', '.*'], run: (ch) => ch.assertQueue('pc-dlx2', { durable: false, deadLetterExchange: FIX.direct }), refused: exchange(FIX.direct) },
  { name: 'queue.declare with a dead-letter exchange, no read on the queue', perms: ['.*', '.*', '^$'], run: (ch) => ch.assertQueue('pc-dlx3', { durable: false, deadLetterExchange: FIX.direct }), refused: queue('pc-dlx3') },
  { name: 'server-named queue with a dead-letter exchange: read on its amq.gen name', perms: ['.*', '.*', '^pf-'], run: (ch) => ch.assertQueue('', { exclusive: true, deadLetterExchange: FIX.direct }), refused: 'SERVER_NAMED' },
  { name: 'queue.delete with configure', perms: ['^pc-qd', '', ''], run: async (ch) => { await ch.assertQueue('pc-qd1', { durable: false }); await ch.deleteQueue('pc-qd1'); } },
  { name: 'queue.delete without configure', perms: ['^$', '.*', '.*'], run: (ch) => ch.deleteQueue(FIX.queue2), refused: queue(FIX.queue2) },
  { name: 'queue.delete of a missing queue is refused before anything else', perms: ['', '', ''], run: (ch) => ch.deleteQueue('pc-nosuch'), refused: queue('pc-nosuch') },

  // queue.bind / queue.unbind: write on the queue, read on the exchange.
  { name: 'queue.bind with write on the queue and read on the exchange', perms: ['', `^${FIX.queue}$`, `^${FIX.direct}$`], run: async (ch) => { await ch.bindQueue(FIX.queue, FIX.direct, 'k1'); await ch.unbindQueue(FIX.queue, FIX.direct, 'k1'); } },
  { name: 'queue.bind without write on the queue', perms: ['', '^$', '.*'], run: (ch) => ch.bindQueue(FIX.queue, FIX.direct, 'k2'), refused: queue(FIX.queue) },
  { name: 'queue.bind without read on the exchange', perms: ['', '.*', '^$'], run: (ch) => ch.bindQueue(FIX.queue, FIX.direct, 'k3'), refused: exchange(FIX.direct) },
  { name: 'queue.unbind without write on the queue', perms: ['', '^$', '.*'], run: (ch) => ch.unbindQueue(FIX.queue, FIX.direct, 'k4'), refused: queue(FIX.queue) },
  { name: 'queue.unbind without read on the exchange', perms: ['', '.*', '^$'], run: (ch) => ch.unbindQueue(FIX.queue, FIX.direct, 'k5'), refused: exchange(FIX.direct) },

  // exchange.bind / exchange.unbind: write on the destination, read on the source.
  { name: 'exchange.bind with write on the destination and read on the source', perms: ['', `^${FIX.other}$`, `^${FIX.direct}$`], run: async (ch) => { await ch.bindExchange(FIX.other, FIX.direct, 'e1'); await ch.unbindExchange(FIX.other, FIX.direct, 'e1'); } },
  { name: 'exchange.bind without write on the destination', perms: ['', `^${FIX.direct}$`, '.*'], run: (ch) => ch.bindExchange(FIX.other, FIX.direct, 'e2'), refused: exchange(FIX.other) },
  { name: 'exchange.bind without read on the source', perms: ['', '.*', `^${FIX.other}$`], run: (ch) => ch.bindExchange(FIX.other, FIX.direct, 'e3'), refused: exchange(FIX.direct) },
  { name: 'exchange.unbind without read on the source', perms: ['', '.*', '^$'], run: (ch) => ch.unbindExchange(FIX.other, FIX.direct, 'e4'), refused: exchange(FIX.direct) },

  // basic.publish: write on the exchange; the default exchange is "amq.default" for permissions.
  { name: 'basic.publish with write on the exchange', perms: ['', `^${FIX.direct}$`, ''], run: async (ch) => ch.publish(FIX.direct, 'k', body) },
  { name: 'basic.publish without write on the exchange', perms: ['', '^$', '.*'], run: async (ch) => ch.publish(FIX.direct, 'k', body), refused: exchange(FIX.direct) },
  { name: 'basic.publish to the default exchange: write on amq.default', perms: ['', '^amq\\.default$', ''], run: async (ch) => ch.sendToQueue(FIX.queue, body) },
  { name: 'basic.publish to the default exchange: write on the queue is not enough', perms: ['', `^${FIX.queue}$`, '.*'], run: async (ch) => ch.sendToQueue(FIX.queue, body), refused: exchange('amq.default') },
  { name: 'basic.publish to a missing exchange without write is refused first', perms: ['', '^$', ''], run: async (ch) => ch.publish('pc-missing-x', 'k', body), refused: exchange('pc-missing-x') },

  // basic.consume, basic.get, queue.purge: read on the queue.
  { name: 'basic.consume with read', perms: ['', '', `^${FIX.queue}$`], run: (ch) => ch.consume(FIX.queue, () => {}) },
  { name: 'basic.consume without read', perms: ['.*', '.*', '^$'], run: (ch) => ch.consume(FIX.queue, () => {}), refused: queue(FIX.queue) },
  { name: 'basic.get with read', perms: ['', '', `^${FIX.queue}$`], run: (ch) => ch.get(FIX.queue, { noAck: true }) },
  { name: 'basic.get without read', perms: ['.*', '.*', '^$'], run: (ch) => ch.get(FIX.queue), refused: queue(FIX.queue) },
  { name: 'queue.purge with read', perms: ['', '', `^${FIX.queue2}$`], run: (ch) => ch.purgeQueue(FIX.queue2) },
  { name: 'queue.purge without read (configure is not enough)', perms: ['.*', '.*', '^$'], run: (ch) => ch.purgeQueue(FIX.queue2), refused: queue(FIX.queue2) },

  // Patterns match anywhere unless anchored; "" matches nothing.
  { name: 'an unanchored pattern matches inside the name', perms: ['', 'other', ''], run: async (ch) => ch.publish(FIX.other, 'k', body) },
  { name: 'an empty pattern matches nothing', perms: ['', '', ''], run: async (ch) => ch.publish(FIX.other, 'k', body), refused: exchange(FIX.other) },

  // Topic permissions: routing keys on topic exchanges, write for publish, read for bind.
  { name: 'topic write: publishing a matching routing key', perms: ['', '.*', ''], topic: { exchange: FIX.topic, write: '^a\\.', read: '.*' }, run: async (ch) => ch.publish(FIX.topic, 'a.b', body) },
  { name: 'topic write: publishing another routing key', perms: ['', '.*', ''], topic: { exchange: FIX.topic, write: '^a\\.', read: '.*' }, run: async (ch) => ch.publish(FIX.topic, 'b.c', body), refused: topic('b.c', FIX.topic) },
  { name: 'topic read: binding with a matching key', perms: ['', '.*', '.*'], topic: { exchange: FIX.topic, write: '.*', read: '^a\\.' }, run: async (ch) => { await ch.bindQueue(FIX.queue, FIX.topic, 'a.#'); await ch.unbindQueue(FIX.queue, FIX.topic, 'a.#'); } },
  { name: 'topic read: binding with another key', perms: ['', '.*', '.*'], topic: { exchange: FIX.topic, write: '.*', read: '^a\\.' }, run: (ch) => ch.bindQueue(FIX.queue, FIX.topic, 'b.#'), refused: topic('b.#', FIX.topic) },
  { name: 'topic read: unbinding with another key', perms: ['', '.*', '.*'], topic: { exchange: FIX.topic, write: '.*', read: '^a\\.' }, run: (ch) => ch.unbindQueue(FIX.queue, FIX.topic, 'b.#'), refused: topic('b.#', FIX.topic) },
  { name: 'topic read: exchange-to-exchange binding with another key', perms: ['', '.*', '.*'], topic: { exchange: FIX.topic, write: '.*', read: '^a\\.' }, run: (ch) => ch.bindExchange(FIX.other, FIX.topic, 'b'), refused: topic('b', FIX.topic) },
  { name: 'topic permissions expand {username}', perms: ['', '.*', ''], topic: { exchange: FIX.topic, write: '^{username}\\.', read: '.*' }, run: async (ch) => ch.publish(FIX.topic, `${U}.x`, body) },
  { name: 'topic permissions expand {vhost}', perms: ['', '.*', ''], topic: { exchange: FIX.topic, write: '^{vhost}\\.', read: '.*' }, run: async (ch) => ch.publish(FIX.topic, `${V}.x`, body) },
  { name: 'topic permissions apply only to their exchange', perms: ['', '.*', ''], topic: { exchange: FIX.topic, write: '^$', read: '^$' }, run: async (ch) => ch.publish('amq.topic', 'any.key', body) },
  { name: 'topic permissions do not restrict consuming', perms: ['', '', '.*'], topic: { exchange: FIX.topic, write: '^$', read: '^$' }, run: (ch) => ch.consume(FIX.queue, () => {}) },
];

/** "…with message "ACCESS_REFUSED - …"" → the quoted reply text. */
function replyText(e: unknown): string {
  const message = (e as Error).message;
  const m = /with message "(.*)"/s.exec(message);
  return m ? m[1]! : message;
}

describe('permissions (AMQP access control)', () => {
  let target: Target;

  before(async () => {
    target = await startTarget();
    await apiOk(target, 'PUT', `/api/vhosts/${seg(V)}`, {});
    await apiOk(target, 'PUT', `/api/permissions/${seg(V)}/guest`, { configure: '.*', write: '.*', read: '.*' });
    await apiOk(target, 'PUT', `/api/users/${seg(U)}`, { password: PASSWORD, tags: '' });
    const admin = await connect(target.amqpUrl('guest', 'guest', V));
    const ch = await admin.createChannel();
    await ch.assertExchange(FIX.direct, 'direct', { durable: false });
    await ch.assertExchange(FIX.other, 'direct', { durable: false });
    await ch.assertExchange(FIX.topic, 'topic', { durable: false });
    await ch.assertQueue(FIX.queue, { durable: false });
    await ch.assertQueue(FIX.queue2, { durable: false });
    await admin.close();
  });

  after(async () => {
    await api(target, 'DELETE', `/api/vhosts/${seg(V)}`);
    await api(target, 'DELETE', `/api/users/${seg(U)}`);
    await target.close();
  });

  /** Runs `fn` as the user; 'ok' or the reply text the broker closed the channel with. */
  async function attempt(fn: (ch: Channel) => Promise<unknown>): Promise<string> {
    const c = await connect(target.amqpUrl(U, PASSWORD, V));
    try {
      const ch = await c.createChannel();
      let error: string | undefined;
      ch.on('error', (e: unknown) => { error ??= replyText(e); });
      try {
        await fn(ch);
        // A sync round trip: an asynchronous refusal (publish) has closed the channel by now.
        await ch.checkQueue(FIX.queue);
      } catch (e) {
        error ??= replyText(e);
      }
      return error ?? 'ok';
    } finally {
      await c.close().catch(() => {});
    }
  }

  for (const c of CASES) {
    test(c.name, async () => {
      await apiOk(target, 'PUT', `/api/permissions/${seg(V)}/${seg(U)}`, { configure: c.perms[0], write: c.perms[1], read: c.perms[2] });
      await api(target, 'DELETE', `/api/topic-permissions/${seg(V)}/${seg(U)}`);
      if (c.topic) await apiOk(target, 'PUT', `/api/topic-permissions/${seg(V)}/${seg(U)}`, c.topic);
      const outcome = await attempt(c.run);
      if (c.refused === undefined) assert.equal(outcome, 'ok');
      else if (c.refused === 'SERVER_NAMED') {
        assert.match(outcome, new RegExp(`^ACCESS_REFUSED - access to queue 'amq\\.gen-[A-Za-z0-9_-]+' in vhost '${V}' refused for user '${U}'$`));
      } else assert.equal(outcome, `ACCESS_REFUSED - ${c.refused}`);
    });
  }

  test('a refused server-named queue is not left behind', async () => {
    await apiOk(target, 'PUT', `/api/permissions/${seg(V)}/${seg(U)}`, { configure: '^pc-', write: '', read: '' });
    const before = (await apiOk(target, 'GET', `/api/queues/${seg(V)}?columns=name`)).body as { name: string }[];
    assert.match(await attempt((ch) => ch.assertQueue('', { exclusive: true })), /^ACCESS_REFUSED/);
    const afterwards = (await apiOk(target, 'GET', `/api/queues/${seg(V)}?columns=name`)).body as { name: string }[];
    assert.deepEqual(afterwards.map((q) => q.name).sort(), before.map((q) => q.name).sort());
  });

  test('connection.open needs permissions in the vhost', async () => {
    await api(target, 'DELETE', `/api/permissions/${seg(V)}/${seg(U)}`);
    await assert.rejects(connect(target.amqpUrl(U, PASSWORD, V)));
    // amqplib drops connection.close's text during the handshake; this client reports it.
    const client = new AMQPClient(target.amqpUrl(U, PASSWORD, V));
    await assert.rejects(client.connect(), (e: unknown) => {
      assert.equal((e as Error).message, `connection closed: NOT_ALLOWED - access to vhost '${V}' refused for user '${U}' (530)`);
      return true;
    });
    await apiOk(target, 'PUT', `/api/permissions/${seg(V)}/${seg(U)}`, { configure: '', write: '', read: '' });
    const c = await connect(target.amqpUrl(U, PASSWORD, V));
    await c.close();
  });

  test('a wrong password is refused with 403 ACCESS_REFUSED', async () => {
    await assert.rejects(connect(target.amqpUrl(U, 'wrong', V)), (e: unknown) => {
      assert.match(String((e as Error).message), /ACCESS_REFUSED - Login was refused using authentication mechanism PLAIN/);
      return true;
    });
  });

  test('guest may only log in from loopback', { skip: !!process.env['WARREN_TEST_REFERENCE'] }, () => {
    const broker = target.broker!;
    assert.ok(broker.authenticate('guest', 'guest', '127.0.0.1'));
    assert.ok(broker.authenticate('guest', 'guest', '::ffff:127.0.0.1'));
    assert.equal(broker.authenticate('guest', 'guest', '10.1.2.3'), undefined);
    assert.ok(broker.authenticate(U, PASSWORD, '10.1.2.3'), 'other users may log in from anywhere');
  });
});
