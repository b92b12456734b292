// Every path where one publish sets off another while the first is still being routed: length-limit
// overflow (drop-head, reject-publish-dlx), expiry at publish time, alternate exchanges, exchange-to-
// exchange bindings, dead-letter cycles and direct reply-to. Each message must end up exactly where
// RabbitMQ puts it: once, and in every queue it was routed to.
import { describe, test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { startTestBroker, uniq, type TestBroker } from './support/test-broker.js';
import { channel, closeAllClients, confirmChannel, connect, consume, type Channel, type ConfirmChannel } from './support/amqp-client.js';
import type { Message } from 'amqplib';

interface Got {
  body: string;
  reason: string | undefined;
  deathQueue: string | undefined;
}

describe('publishes that trigger publishes (dead-lettering during routing)', () => {
  let b: TestBroker;
  let ch: ConfirmChannel;
  const cleanup: Array<() => Promise<unknown>> = [];
  before(async () => {
    b = await startTestBroker();
  });
  afterEach(async () => {
    for (const f of cleanup.splice(0)) await f().catch(() => {});
    await closeAllClients();
  });
  after(async () => {
    await b.close();
  });

  async function setup(): Promise<ConfirmChannel> {
    const conn = await connect(b.url);
    ch = await confirmChannel(conn);
    return ch;
  }

  async function queue(name: string, args: Record<string, unknown> = {}): Promise<string> {
    await ch.assertQueue(name, { durable: false, exclusive: true, arguments: args });
    return name;
  }

  async function exchange(name: string, type: string, args: Record<string, unknown> = {}): Promise<string> {
    await ch.assertExchange(name, type, { durable: false, autoDelete: false, arguments: args });
    cleanup.push(async () => {
      const c = await channel(await connect(b.url));
      await c.deleteExchange(name);
    });
    return name;
  }

  /** A capped queue (x-max-length 1) that dead-letters through a fanout into its own DLQ. */
  async function cappedWithDlq(overflow = 'drop-head'): Promise<{ capped: string; dlq: string }> {
    const dlx = await exchange(uniq('dlx'), 'fanout');
    const dlq = await queue(uniq('dlq'));
    await ch.bindQueue(dlq, dlx, '');
    const capped = await queue(uniq('capped'), { 'x-max-length': 1, 'x-overflow': overflow, 'x-dead-letter-exchange': dlx });
    return { capped, dlq };
  }

  /** Waits (round trips, no sleeps) until `q` holds `n` messages, then takes them all. */
  async function contents(q: string, n: number): Promise<Got[]> {
    const deadline = Date.now() + 5000;
    while ((await ch.checkQueue(q)).messageCount < n && Date.now() < deadline) {
      await new Promise((r) => setImmediate(r));
    }
    const out: Got[] = [];
    for (;;) {
      const m: Message | false = await ch.get(q, { noAck: true });
      if (!m) return out;
      const death = (m.properties.headers?.['x-death'] as Array<Record<string, unknown>> | undefined)?.[0];
      out.push({ body: m.content.toString(), reason: death?.['reason'] as string | undefined, deathQueue: death?.['queue'] as string | undefined });
    }
  }

  async function publishAll(exchangeName: string, routingKey: string, bodies: string[], options: Record<string, unknown> = {}): Promise<void> {
    for (const body of bodies) ch.publish(exchangeName, routingKey, Buffer.from(body), options);
    await ch.waitForConfirms();
  }

  test('x-max-length 1 + DLX (drop-head): the old head is dead-lettered once, the new message stays, no copy in the DLQ', async () => {
    await setup();
    const { capped, dlq } = await cappedWithDlq();
    await publishAll('', capped, ['a', 'b']);
    assert.deepEqual(await contents(dlq, 1), [{ body: 'a', reason: 'maxlen', deathQueue: capped }]);
    assert.deepEqual(await contents(capped, 1), [{ body: 'b', reason: undefined, deathQueue: undefined }]);
  });

  test('fanout to a capped queue and a plain one: the plain queue still gets every message', async () => {
    await setup();
    const { capped, dlq } = await cappedWithDlq();
    const plain = await queue(uniq('plain'));
    const fan = await exchange(uniq('fan'), 'fanout');
    await ch.bindQueue(capped, fan, '');
    await ch.bindQueue(plain, fan, '');
    await publishAll(fan, '', ['a', 'b', 'c']);
    assert.deepEqual((await contents(plain, 3)).map((g) => g.body), ['a', 'b', 'c']);
    assert.deepEqual((await contents(capped, 1)).map((g) => g.body), ['c']);
    assert.deepEqual(await contents(dlq, 2), [
      { body: 'a', reason: 'maxlen', deathQueue: capped },
      { body: 'b', reason: 'maxlen', deathQueue: capped },
    ]);
  });

  test('reject-publish-dlx: the refused message is dead-lettered exactly once and nacked', async () => {
    await setup();
    const { capped, dlq } = await cappedWithDlq('reject-publish-dlx');
    ch.publish('', capped, Buffer.from('a'));
    const nacked = await new Promise<boolean>((resolve) => ch.publish('', capped, Buffer.from('b'), {}, (err) => resolve(err !== null && err !== undefined)));
    assert.equal(nacked, true, 'the refused publish is nacked');
    assert.deepEqual(await contents(dlq, 1), [{ body: 'b', reason: 'maxlen', deathQueue: capped }]);
    assert.deepEqual((await contents(capped, 1)).map((g) => g.body), ['a']);
  });

  test('a message that expires as it is published is dead-lettered once (reason expired), a waiting consumer elsewhere gets it', async () => {
    await setup();
    const dlx = await exchange(uniq('dlx'), 'fanout');
    const dlq = await queue(uniq('dlq'));
    await ch.bindQueue(dlq, dlx, '');
    const ttl = await queue(uniq('ttl'), { 'x-dead-letter-exchange': dlx });
    const plain = await queue(uniq('plain'));
    const fan = await exchange(uniq('fan'), 'fanout');
    await ch.bindQueue(ttl, fan, '');
    await ch.bindQueue(plain, fan, '');
    // expiration 0: gone at once unless a consumer is waiting (RabbitMQ), so only `plain` delivers it.
    const inbox = await consume(ch, plain, { noAck: true });
    await publishAll(fan, '', ['gone'], { expiration: '0' });
    assert.deepEqual(await contents(dlq, 1), [{ body: 'gone', reason: 'expired', deathQueue: ttl }]);
    await inbox.waitFor(1);
    assert.deepEqual(inbox.bodies(), ['gone']);
    assert.deepEqual(await contents(ttl, 0), []);
  });

  test('through an alternate exchange: capped and plain queues behind it get the right copies', async () => {
    await setup();
    const { capped, dlq } = await cappedWithDlq();
    const plain = await queue(uniq('plain'));
    const alt = await exchange(uniq('alt'), 'fanout');
    await ch.bindQueue(capped, alt, '');
    await ch.bindQueue(plain, alt, '');
    const main = await exchange(uniq('main'), 'direct', { 'alternate-exchange': alt });
    await publishAll(main, 'unbound-key', ['a', 'b']);
    assert.deepEqual((await contents(plain, 2)).map((g) => g.body), ['a', 'b']);
    assert.deepEqual((await contents(capped, 1)).map((g) => g.body), ['b']);
    assert.deepEqual((await contents(dlq, 1)).map((g) => [g.body, g.reason]), [['a', 'maxlen']]);
  });

  test('through an exchange-to-exchange binding: capped and plain queues behind it get the right copies', async () => {
    await setup();
    const { capped, dlq } = await cappedWithDlq();
    const plain = await queue(uniq('plain'));
    const inner = await exchange(uniq('inner'), 'fanout');
    await ch.bindQueue(capped, inner, '');
    await ch.bindQueue(plain, inner, '');
    const outer = await exchange(uniq('outer'), 'topic');
    await ch.bindExchange(inner, outer, '#');
    await publishAll(outer, 'k', ['a', 'b']);
    assert.deepEqual((await contents(plain, 2)).map((g) => g.body), ['a', 'b']);
    assert.deepEqual((await contents(capped, 1)).map((g) => g.body), ['b']);
    assert.deepEqual((await contents(dlq, 1)).map((g) => [g.body, g.reason]), [['a', 'maxlen']]);
  });

  test('two capped queues dead-lettering into each other: the loop is cut (no reject in it), nothing duplicated', async () => {
    await setup();
    const x1 = await exchange(uniq('x1'), 'fanout');
    const x2 = await exchange(uniq('x2'), 'fanout');
    const q1 = await queue(uniq('q1'), { 'x-max-length': 1, 'x-dead-letter-exchange': x2 });
    const q2 = await queue(uniq('q2'), { 'x-max-length': 1, 'x-dead-letter-exchange': x1 });
    await ch.bindQueue(q1, x1, '');
    await ch.bindQueue(q2, x2, '');
    await publishAll('', q1, ['a', 'b', 'c']);
    // a: q1 → q2. b: q1 → q2, pushing a out of q2 back to q1, pushing c... each cycle is cut where
    // a message would die a second time in a queue with no rejection on the way.
    const all = [...await contents(q1, 1), ...await contents(q2, 1)].map((g) => g.body).sort();
    assert.equal(all.length, 2, `two messages left in total: ${JSON.stringify(all)}`);
    assert.equal(new Set(all).size, 2, 'no message held twice');
  });

  test('direct reply-to: a request dead-lettered from a capped queue still carries the reply address, one reply arrives', async () => {
    const conn = await connect(b.url);
    ch = await confirmChannel(conn);
    const { capped, dlq } = await cappedWithDlq();
    const client: Channel = await channel(conn);
    const replies = await consume(client, 'amq.rabbitmq.reply-to', { noAck: true });
    client.publish('', capped, Buffer.from('request-1'), { replyTo: 'amq.rabbitmq.reply-to' });
    client.publish('', capped, Buffer.from('request-2'), { replyTo: 'amq.rabbitmq.reply-to' });
    await client.checkQueue(capped); // a round trip on the publishing channel: both publishes are in
    const deadRequest = await (async () => {
      const deadline = Date.now() + 5000;
      for (;;) {
        const m = await ch.get(dlq, { noAck: true });
        if (m) return m;
        if (Date.now() > deadline) throw new Error('no dead-lettered request');
        await new Promise((r) => setImmediate(r));
      }
    })();
    assert.equal(deadRequest.content.toString(), 'request-1');
    const replyTo = deadRequest.properties.replyTo as string;
    assert.match(replyTo, /^amq\.rabbitmq\.reply-to\./);
    ch.publish('', replyTo, Buffer.from('reply-1'));
    await ch.waitForConfirms();
    await replies.waitFor(1);
    assert.deepEqual(await contents(dlq, 0), []);
    assert.deepEqual((await contents(capped, 1)).map((g) => g.body), ['request-2']);
    await client.checkQueue(capped);
    assert.deepEqual(replies.bodies(), ['reply-1']);
  });
});
