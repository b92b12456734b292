/**
 * Message deduplication (beyond RabbitMQ, as LavinMQ and the rabbitmq-message-deduplication plugin):
 * `x-message-deduplication: true` with `x-cache-size` (and optional `x-cache-ttl`) on an exchange or
 * a queue; a message whose `x-deduplication-header` value is still cached is dropped there and still
 * confirmed. Warren only (RabbitMQ 3.10 without the plugin ignores these arguments).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { brokerPerFile } from './support/broker-per-file.js';
import { uniq } from './support/test-broker.js';
import { channel, confirmChannel, connect, drain, eventually, expectChannelError, type ConfirmChannel } from './support/amqp-client.js';
import { freePort } from './support/free-port.js';

const b = brokerPerFile({ managementPort: await freePort() });

const dedupArgs = (size: number, ttl?: number) => ({
  'x-message-deduplication': true, 'x-cache-size': size, ...(ttl === undefined ? {} : { 'x-cache-ttl': ttl }),
});

/** Publishes and resolves once the broker confirmed (true = ack, false = nack). */
function publishConfirmed(ch: ConfirmChannel, ex: string, key: string, body: string, options: Record<string, unknown> = {}): Promise<boolean> {
  return new Promise((resolve) => ch.publish(ex, key, Buffer.from(body), options, (err) => resolve(err == null)));
}

const withKey = (key: string | number, extra: Record<string, unknown> = {}) => ({ headers: { 'x-deduplication-header': key }, ...extra });

describe('message deduplication', { skip: b.external }, () => {
  test('exchange: a duplicate is confirmed, routed nowhere, and not returned even when mandatory', async () => {
    const conn = await connect(b.url);
    const ch = await confirmChannel(conn);
    const returned: string[] = [];
    ch.on('return', (m: { content: Buffer }) => returned.push(m.content.toString()));
    const ex = uniq('dedup-x');
    const [q1, q2] = [uniq('dedup-q1'), uniq('dedup-q2')];
    await ch.assertExchange(ex, 'fanout', { durable: false, arguments: dedupArgs(10) });
    for (const q of [q1, q2]) {
      await ch.assertQueue(q, { exclusive: true });
      await ch.bindQueue(q, ex, '');
    }
    assert.equal(await publishConfirmed(ch, ex, '', 'first', withKey('k1', { mandatory: true })), true);
    assert.equal(await publishConfirmed(ch, ex, '', 'again', withKey('k1', { mandatory: true, persistent: true })), true);
    assert.equal(await publishConfirmed(ch, ex, '', 'other', withKey('k2', { mandatory: true })), true);
    await ch.waitForConfirms();
    assert.deepEqual(await drain(ch, q1), ['first', 'other']);
    assert.deepEqual(await drain(ch, q2), ['first', 'other']);
    assert.deepEqual(returned, []);

    // Control: returns do work here; an unroutable new key comes back.
    await ch.unbindQueue(q1, ex, '');
    await ch.unbindQueue(q2, ex, '');
    assert.equal(await publishConfirmed(ch, ex, '', 'lost', withKey('k3', { mandatory: true })), true);
    assert.equal(await publishConfirmed(ch, ex, '', 'lost-dup', withKey('k3', { mandatory: true })), true);
    await ch.waitForConfirms();
    assert.deepEqual(returned, ['lost']);
    await ch.deleteExchange(ex);
  });

  test('queue: a duplicate is not enqueued there, other bound queues still get it, and it is confirmed', async () => {
    const conn = await connect(b.url);
    const ch = await confirmChannel(conn);
    const ex = uniq('dedup-fan');
    const [deduped, plain] = [uniq('dedup-queue'), uniq('dedup-plain')];
    await ch.assertExchange(ex, 'fanout', { autoDelete: true });
    // Durable, with persistent messages: a dropped duplicate must not wait for a disk write that never comes.
    await ch.assertQueue(deduped, { durable: true, arguments: dedupArgs(100) });
    await ch.assertQueue(plain, { exclusive: true });
    await ch.bindQueue(deduped, ex, '');
    await ch.bindQueue(plain, ex, '');
    for (const [body, key] of [['a', 'k1'], ['b', 'k1'], ['c', 'k2'], ['d', 'k1']] as const) {
      assert.equal(await publishConfirmed(ch, ex, '', body, withKey(key, { persistent: true })), true, body);
    }
    // The default exchange reaches the queue too; a numeric header is a key like any other.
    assert.equal(await publishConfirmed(ch, '', deduped, 'n1', withKey(7)), true);
    assert.equal(await publishConfirmed(ch, '', deduped, 'n2', withKey(7)), true);
    assert.deepEqual(await drain(ch, deduped), ['a', 'c', 'n1']);
    assert.deepEqual(await drain(ch, plain), ['a', 'b', 'c', 'd']);
    await ch.deleteQueue(deduped);
  });

  test('messages without the header always pass', async () => {
    const conn = await connect(b.url);
    const ch = await confirmChannel(conn);
    const q = uniq('dedup-noheader');
    await ch.assertQueue(q, { exclusive: true, arguments: dedupArgs(1) });
    for (const body of ['x', 'x', 'x']) assert.equal(await publishConfirmed(ch, '', q, body), true);
    assert.equal(await publishConfirmed(ch, '', q, 'other-headers', { headers: { unrelated: 'k' } }), true);
    assert.equal(await publishConfirmed(ch, '', q, 'other-headers', { headers: { unrelated: 'k' } }), true);
    assert.deepEqual(await drain(ch, q), ['x', 'x', 'x', 'other-headers', 'other-headers']);
  });

  test('x-cache-size: the oldest key is evicted and then accepted again', async () => {
    const conn = await connect(b.url);
    const ch = await confirmChannel(conn);
    const q = uniq('dedup-size');
    await ch.assertQueue(q, { exclusive: true, arguments: dedupArgs(2) });
    // Cache holds k1, k2; k1 repeated is dropped; k3 evicts k1; k1 is then new again (evicting k2).
    const sequence = [['k1', '1'], ['k2', '2'], ['k1', 'dup1'], ['k3', '3'], ['k1', '1-again'], ['k3', 'dup3'], ['k2', '2-again']];
    for (const [key, body] of sequence) assert.equal(await publishConfirmed(ch, '', q, body!, withKey(key!)), true);
    assert.deepEqual(await drain(ch, q), ['1', '2', '3', '1-again', '2-again']);
  });

  test('x-cache-ttl: a key counts as a duplicate only until its TTL has passed', async () => {
    const conn = await connect(b.url);
    const ch = await confirmChannel(conn);
    const ex = uniq('dedup-ttl-x');
    const q = uniq('dedup-ttl-q');
    await ch.assertExchange(ex, 'fanout', { autoDelete: true, arguments: dedupArgs(10, 300) });
    await ch.assertQueue(q, { exclusive: true });
    await ch.bindQueue(q, ex, '');
    const startedAt = Date.now();
    await publishConfirmed(ch, ex, '', 'first', withKey('k'));
    await publishConfirmed(ch, ex, '', 'dup', withKey('k'));
    const early = await drain(ch, q);
    // Unless this machine took longer than the TTL between the two publishes, the second was dropped.
    if (Date.now() - startedAt < 300) assert.deepEqual(early, ['first']);
    let accepted = 0;
    await eventually(async () => {
      await publishConfirmed(ch, ex, '', 'later', withKey('k'));
      accepted = (await drain(ch, q)).length;
      return accepted > 0;
    }, 'the key to expire from the cache', 5000);
    assert.ok(Date.now() - startedAt >= 300, 'accepted again before the TTL passed');
    assert.equal(accepted, 1);
  });

  test('invalid arguments are refused with 406', async () => {
    const conn = await connect(b.url);
    const cases: [string, Record<string, unknown>, string][] = [
      ['queue', { 'x-message-deduplication': true }, "'x-cache-size'"],
      ['queue', { 'x-message-deduplication': true, 'x-cache-size': 0 }, "'x-cache-size'"],
      ['queue', { 'x-message-deduplication': true, 'x-cache-size': 'ten' }, "'x-cache-size'"],
      ['queue', { 'x-message-deduplication': true, 'x-cache-size': 1.5 }, "'x-cache-size'"],
      ['queue', { 'x-message-deduplication': true, 'x-cache-size': 10, 'x-cache-ttl': -1 }, "'x-cache-ttl'"],
      ['queue', { 'x-message-deduplication': 'yes', 'x-cache-size': 10 }, "'x-message-deduplication'"],
      ['exchange', { 'x-message-deduplication': true, 'x-cache-size': -5 }, "'x-cache-size'"],
      ['exchange', { 'x-message-deduplication': true, 'x-cache-size': 5, 'x-cache-ttl': 'soon' }, "'x-cache-ttl'"],
    ];
    for (const [kind, args, arg] of cases) {
      const ch = await channel(conn);
      const name = uniq(`dedup-bad-${kind}`);
      const kindText = kind === 'queue' ? 'queue' : 'exchange';
      const declare = kind === 'queue'
        ? () => ch.assertQueue(name, { exclusive: true, arguments: args })
        : () => ch.assertExchange(name, 'direct', { autoDelete: true, arguments: args });
      await expectChannelError(conn, ch, declare, 406,
        new RegExp(`^PRECONDITION_FAILED - invalid arg ${arg} for ${kindText} '${name}' in vhost '/': `));
    }
    const ch = await channel(conn);
    await expectChannelError(conn, ch, () => ch.assertQueue(uniq('dedup-bad'), { exclusive: true, arguments: { 'x-message-deduplication': true } }), 406,
      /^PRECONDITION_FAILED - invalid arg 'x-cache-size' for queue '[^']+' in vhost '\/': a positive integer is required when x-message-deduplication is true$/);
    // Turned off, no cache size is needed; nothing is deduplicated.
    const ok = await confirmChannel(conn);
    const q = uniq('dedup-off');
    await ok.assertQueue(q, { exclusive: true, arguments: { 'x-message-deduplication': false } });
    for (const body of ['a', 'b']) await publishConfirmed(ok, '', q, body, withKey('same'));
    assert.deepEqual(await drain(ok, q), ['a', 'b']);
  });

  test('the management overview lists the plugin exchange types Warren builds in', async () => {
    const res = await fetch(`http://127.0.0.1:${b.broker!.managementPort}/api/overview`, {
      headers: { authorization: `Basic ${Buffer.from('guest:guest').toString('base64')}` },
    });
    const overview = (await res.json()) as { exchange_types: { name: string }[] };
    const names = overview.exchange_types.map((t) => t.name).sort();
    assert.deepEqual(names, ['direct', 'fanout', 'headers', 'topic', 'x-consistent-hash', 'x-delayed-message']);
  });
});
