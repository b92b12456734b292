/**
 * Policies and operator policies: the HTTP API and its 400 reasons, how a policy meets a queue's
 * own x-arguments (RabbitMQ 3.10.8's precedence, checked on the reference: the lower of argument
 * and policy for lengths and TTLs, the argument outright for dead-lettering and alternate
 * exchanges, one policy at a time, the stricter operator value), that a change applies to existing
 * queues at once, and that policies survive a restart and travel in definitions.
 *
 * WARREN_TEST_REFERENCE="amqp://127.0.0.1:5684 http://127.0.0.1:15684" runs the same bodies against
 * RabbitMQ (the restart case is Warren-only).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Broker } from '../src/index.js';
import { api, apiOk, connect, eventually, seg, startTarget, uniqueName, type Target } from './management-support.js';
import { freePort } from './support/free-port.js';

describe('policies', () => {
  let target: Target;
  const created: string[] = [];
  const policy = (name: string, body: unknown, kind = 'policies') => {
    created.push(`/api/${kind}/%2F/${seg(name)}`);
    return api(target, 'PUT', `/api/${kind}/%2F/${seg(name)}`, body);
  };
  const queueJson = async (name: string) => (await apiOk(target, 'GET', `/api/queues/%2F/${seg(name)}`)).body;

  /** A channel with confirms; publishes `n` messages to `queue` and waits for the confirms. */
  async function fill(queue: string, n: number, props: Record<string, unknown> = {}) {
    const conn = await connect(target.amqpUrl('guest', 'guest'));
    const ch = await conn.createConfirmChannel();
    for (let i = 0; i < n; i++) ch.sendToQueue(queue, Buffer.from(`m${i}`), props);
    await ch.waitForConfirms();
    await conn.close();
  }
  async function messageCount(queue: string): Promise<number> {
    const conn = await connect(target.amqpUrl('guest', 'guest'));
    const ch = await conn.createChannel();
    const { messageCount } = await ch.checkQueue(queue);
    await conn.close();
    return messageCount;
  }
  async function declare(queue: string, args: Record<string, unknown> = {}) {
    const conn = await connect(target.amqpUrl('guest', 'guest'));
    const ch = await conn.createChannel();
    await ch.assertQueue(queue, { durable: false, arguments: args });
    await conn.close();
    created.push(`/api/queues/%2F/${seg(queue)}`);
  }

  before(async () => {
    target = await startTarget();
  });
  after(async () => {
    for (const path of created.reverse()) await api(target, 'DELETE', path);
    await target.close();
  });

  test('PUT creates (201) then updates (204); GET shows RabbitMQ\'s shape; DELETE 204 then 404', async () => {
    const name = uniqueName('pol');
    const body = { pattern: '^nomatch-x$', definition: { 'max-length': 5 }, priority: 3, 'apply-to': 'queues' };
    assert.equal((await policy(name, body)).status, 201);
    assert.equal((await policy(name, { ...body, priority: 4 })).status, 204);
    const got = await apiOk(target, 'GET', `/api/policies/%2F/${seg(name)}`);
    assert.deepEqual(got.body, { vhost: '/', name, pattern: '^nomatch-x$', 'apply-to': 'queues', definition: { 'max-length': 5 }, priority: 4 });
    const listed = (await apiOk(target, 'GET', '/api/policies/%2F')).body as { name: string }[];
    assert.ok(listed.some((p) => p.name === name));
    const defaults = uniqueName('pol');
    await policy(defaults, { pattern: '^nomatch-y$', definition: { 'message-ttl': 5 } });
    const d = (await apiOk(target, 'GET', `/api/policies/%2F/${seg(defaults)}`)).body;
    assert.equal(d['apply-to'], 'all');
    assert.equal(d.priority, 0);
    assert.equal((await api(target, 'DELETE', `/api/policies/%2F/${seg(name)}`)).status, 204);
    assert.equal((await api(target, 'DELETE', `/api/policies/%2F/${seg(name)}`)).status, 404);
  });

  test('invalid definitions are refused with RabbitMQ\'s 400 reasons', async () => {
    const reason = async (body: unknown, kind = 'policies') => {
      const a = await policy(uniqueName('bad'), body, kind);
      assert.equal(a.status, 400, JSON.stringify(a.body));
      return a.body.reason as string;
    };
    const p = (definition: unknown, extra: Record<string, unknown> = {}) => ({ pattern: 'x', definition, ...extra });
    assert.equal(await reason(p({ 'max-length': 'x' })), 'Validation failed\n\n&lt;&lt;"x"&gt;&gt; is not a valid maximum length\n');
    assert.equal(await reason(p({ foo: 1 })), 'Validation failed\n\n[{&lt;&lt;"foo"&gt;&gt;,1}] are not recognised policy settings\n');
    assert.equal(await reason(p({})), 'Validation failed\n\nno policy provided\n');
    assert.equal(await reason(p({ 'message-ttl': -1 })), 'Validation failed\n\n-1 is not a valid message TTL\n');
    assert.equal(await reason(p({ expires: 0 })), 'Validation failed\n\n0 is not a valid queue expiry\n');
    assert.equal(await reason(p({ overflow: 'bad' })), 'Validation failed\n\n&lt;&lt;"bad"&gt;&gt; is not a valid overflow value\n');
    assert.equal(await reason(p({ 'dead-letter-exchange': 5 })), 'Validation failed\n\n5 is not a valid dead letter exchange name\n');
    assert.equal(await reason(p({ 'delivery-limit': -1 })), 'Validation failed\n\n-1 is not a valid delivery limit\n');
    assert.equal(await reason(p({ 'queue-mode': 'bad' })), 'Validation failed\n\n&lt;&lt;"bad"&gt;&gt; is not a valid queue-mode value\n');
    assert.equal(await reason(p({ 'max-length': 1 }, { 'apply-to': 'bogus' })),
      "Validation failed\n\napply-to 'bogus' unrecognised; should be 'queues', 'exchanges' or 'all'\n");
    assert.equal(await reason(p({ 'max-length': 1 }, { priority: 'a' })), 'Validation failed\n\npriority should be a number, actually was &lt;&lt;"a"&gt;&gt;\n');
    assert.equal(await reason({ definition: { 'max-length': 1 } }), '[{key_missing,pattern}]');
    assert.equal(await reason({ pattern: 'x' }), '[{key_missing,definition}]');
    // Operator policies may only cap resources, and their reasons are not HTML-escaped.
    assert.equal(await reason(p({ 'dead-letter-exchange': 'dlx' }), 'operator-policies'),
      'Validation failed\n\n[{<<"dead-letter-exchange">>,<<"dlx">>}] are not recognised policy settings\n');
    assert.equal(await reason(p({ 'max-length': 'a' }), 'operator-policies'), 'Validation failed\n\n<<"a">> is not a valid maximum length\n');
    // Every 3.10 key is accepted.
    const accepted = {
      'alternate-exchange': 'ae', 'dead-letter-exchange': 'dlx', 'dead-letter-routing-key': 'rk', 'dead-letter-strategy': 'at-least-once',
      'message-ttl': 1000, expires: 60000, 'max-length': 10, 'max-length-bytes': 1000, 'max-in-memory-length': 5,
      'max-in-memory-bytes': 500, 'delivery-limit': 3, overflow: 'reject-publish', 'queue-mode': 'lazy', 'queue-version': 2,
      'queue-master-locator': 'min-masters', 'queue-leader-locator': 'balanced', 'max-age': '1D', 'stream-max-segment-size-bytes': 1000,
      'initial-cluster-size': 3, 'ha-mode': 'exactly', 'ha-params': 2, 'ha-sync-mode': 'automatic',
    };
    assert.equal((await policy(uniqueName('all-keys'), { pattern: '^nomatch-z$', definition: accepted })).status, 201);
    assert.equal((await api(target, 'PUT', '/api/policies/no-such-vhost/p', p({ 'max-length': 1 }))).status, 404);
  });

  test('lengths: the lower of argument and policy; the higher-priority policy alone; an operator policy trims existing queues at once', async () => {
    const q = uniqueName('pq');
    await declare(q, { 'x-max-length': 10 });
    const high = uniqueName('high');
    const low = uniqueName('low');
    await policy(high, { pattern: `^${q}$`, definition: { 'max-length': 6 }, priority: 2, 'apply-to': 'queues' });
    // Not merged: its max-length-bytes must not apply while `high` matches.
    await policy(low, { pattern: `^${q}$`, definition: { 'max-length': 1, 'max-length-bytes': 2 }, priority: 1, 'apply-to': 'queues' });
    await fill(q, 8);
    assert.equal(await messageCount(q), 6);
    const op = uniqueName('op');
    await policy(op, { pattern: `^${q}$`, definition: { 'max-length': 3, 'message-ttl': 600000 }, 'apply-to': 'queues' }, 'operator-policies');
    await eventually(async () => (await messageCount(q)) === 3);
    await eventually(async () => {
      const j = await queueJson(q);
      return j.policy === high && j.operator_policy === op &&
        JSON.stringify(j.effective_policy_definition) === JSON.stringify({ 'max-length': 3, 'message-ttl': 600000 });
    }, 15000);
    // The queue's own argument is lower than the policy: it wins.
    await api(target, 'DELETE', `/api/operator-policies/%2F/${seg(op)}`);
    await policy(high, { pattern: `^${q}$`, definition: { 'max-length': 50 }, priority: 2, 'apply-to': 'queues' });
    await fill(q, 20);
    assert.equal(await messageCount(q), 10);
  });

  test('message TTL: the lower of argument and policy; apply-to exchanges does not touch queues', async () => {
    const q = uniqueName('ttlq');
    await declare(q, { 'x-message-ttl': 600000 });
    await policy(uniqueName('exonly'), { pattern: `^${q}$`, definition: { 'message-ttl': 1 }, 'apply-to': 'exchanges' });
    await fill(q, 2);
    assert.equal(await messageCount(q), 2);
    // RabbitMQ stamps a message's expiry when it is enqueued: test with messages published afterwards.
    await apiOk(target, 'DELETE', `/api/queues/%2F/${seg(q)}/contents`);
    await policy(uniqueName('ttl'), { pattern: `^${q}$`, definition: { 'message-ttl': 50 }, 'apply-to': 'queues' });
    await fill(q, 2);
    await eventually(async () => (await messageCount(q)) === 0);
  });

  test('dead-letter-exchange: the argument wins outright; the policy applies where there is none', async () => {
    const conn = await connect(target.amqpUrl('guest', 'guest'));
    const ch = await conn.createChannel();
    const viaArg = uniqueName('dl-arg');
    const viaPolicy = uniqueName('dl-pol');
    const src = uniqueName('dl-src');
    const src2 = uniqueName('dl-src2');
    for (const n of [viaArg, viaPolicy, src, src2]) created.push(`/api/queues/%2F/${seg(n)}`);
    await ch.assertQueue(viaArg, { durable: false });
    await ch.assertQueue(viaPolicy, { durable: false });
    await ch.assertQueue(src, { durable: false, arguments: { 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': viaArg } });
    await ch.assertQueue(src2, { durable: false });
    await policy(uniqueName('dlx'), {
      pattern: `^(${src}|${src2})$`, definition: { 'dead-letter-exchange': '', 'dead-letter-routing-key': viaPolicy }, 'apply-to': 'queues',
    });
    for (const q of [src, src2]) {
      ch.sendToQueue(q, Buffer.from(q));
      const m = await getOne(ch, q);
      ch.reject(m, false);
    }
    await eventually(async () => (await ch.checkQueue(viaArg)).messageCount === 1 && (await ch.checkQueue(viaPolicy)).messageCount === 1);
    assert.equal((await getOne(ch, viaArg)).content.toString(), src);
    assert.equal((await getOne(ch, viaPolicy)).content.toString(), src2);
    await conn.close();
  });

  test('alternate-exchange: the argument wins; a policy gives exchanges without one an AE', async () => {
    const conn = await connect(target.amqpUrl('guest', 'guest'));
    const ch = await conn.createChannel();
    const exArg = uniqueName('ae-arg');
    const exPlain = uniqueName('ae-plain');
    const aeArg = uniqueName('ae-a');
    const aePolicy = uniqueName('ae-p');
    const qa = uniqueName('ae-qa');
    const qp = uniqueName('ae-qp');
    for (const e of [exArg, exPlain, aeArg, aePolicy]) created.push(`/api/exchanges/%2F/${seg(e)}`);
    for (const q of [qa, qp]) created.push(`/api/queues/%2F/${seg(q)}`);
    await ch.assertExchange(aeArg, 'fanout', { durable: false });
    await ch.assertExchange(aePolicy, 'fanout', { durable: false });
    await ch.assertQueue(qa, { durable: false });
    await ch.assertQueue(qp, { durable: false });
    await ch.bindQueue(qa, aeArg, '');
    await ch.bindQueue(qp, aePolicy, '');
    await ch.assertExchange(exArg, 'direct', { durable: false, arguments: { 'alternate-exchange': aeArg } });
    await ch.assertExchange(exPlain, 'direct', { durable: false });
    await policy(uniqueName('ae'), { pattern: `^(${exArg}|${exPlain})$`, definition: { 'alternate-exchange': aePolicy }, 'apply-to': 'exchanges' });
    ch.publish(exArg, 'nowhere', Buffer.from('arg'));
    ch.publish(exPlain, 'nowhere', Buffer.from('plain'));
    await eventually(async () => (await ch.checkQueue(qa)).messageCount === 1 && (await ch.checkQueue(qp)).messageCount === 1);
    assert.equal((await getOne(ch, qa)).content.toString(), 'arg');
    assert.equal((await getOne(ch, qp)).content.toString(), 'plain');
    await eventually(async () => (await apiOk(target, 'GET', `/api/exchanges/%2F/${seg(exPlain)}`)).body.policy !== undefined, 15000);
    await conn.close();
  });
});

async function getOne(ch: import('amqplib').Channel, queue: string): Promise<import('amqplib').GetMessage> {
  for (let i = 0; i < 200; i++) {
    const m = await ch.get(queue, { noAck: false });
    if (m) return m;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`no message in ${queue}`);
}

describe('policies are kept across restarts and in definitions', () => {
  test('restart keeps policies, operator policies and limits; export/import carries them', async () => {
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dataDir = mkdtempSync(join(tmpdir(), 'warren-policies-'));
    const start = async () => Broker.start({ port: 0, host: '127.0.0.1', dataDir, managementPort: await freePort(), prometheusPort: 0, logLevel: 'silent' });
    let broker = await start();
    let base = `http://127.0.0.1:${broker.managementPort}`;
    try {
      await apiOk(base, 'PUT', '/api/policies/%2F/keep', { pattern: '^k', definition: { 'max-length': 4 }, priority: 2, 'apply-to': 'queues' });
      await apiOk(base, 'PUT', '/api/operator-policies/%2F/cap', { pattern: '^k', definition: { 'message-ttl': 9000 } });
      await apiOk(base, 'PUT', '/api/vhost-limits/%2F/max-queues', { value: 50 });
      await apiOk(base, 'PUT', '/api/user-limits/guest/max-channels', { value: 40 });
      await apiOk(base, 'PUT', '/api/queues/%2F/kq', { durable: true });
      await broker.close();
      broker = await start();
      base = `http://127.0.0.1:${broker.managementPort}`;
      const q = (await apiOk(base, 'GET', '/api/queues/%2F/kq')).body;
      assert.equal(q.policy, 'keep');
      assert.equal(q.operator_policy, 'cap');
      assert.deepEqual(q.effective_policy_definition, { 'max-length': 4, 'message-ttl': 9000 });
      const defs = (await apiOk(base, 'GET', '/api/definitions')).body;
      assert.deepEqual(defs.policies, [{ vhost: '/', name: 'keep', pattern: '^k', 'apply-to': 'queues', definition: { 'max-length': 4 }, priority: 2 }]);
      assert.deepEqual(defs.parameters, [
        { vhost: '/', component: 'operator_policy', name: 'cap', value: { pattern: '^k', 'apply-to': 'all', definition: { 'message-ttl': 9000 }, priority: 0 } },
        { vhost: '/', component: 'vhost-limits', name: 'limits', value: { 'max-queues': 50 } },
      ]);
      assert.deepEqual(defs.users.find((u: { name: string }) => u.name === 'guest').limits, { 'max-channels': 40 });
      // Import into a fresh broker brings them all back.
      await apiOk(base, 'DELETE', '/api/policies/%2F/keep');
      await apiOk(base, 'DELETE', '/api/operator-policies/%2F/cap');
      assert.deepEqual((await apiOk(base, 'GET', '/api/policies/%2F')).body, []);
      await apiOk(base, 'POST', '/api/definitions', defs);
      assert.equal((await apiOk(base, 'GET', '/api/policies/%2F/keep')).body.priority, 2);
      assert.equal((await apiOk(base, 'GET', '/api/operator-policies/%2F/cap')).body.definition['message-ttl'], 9000);
      const bad = { policies: [{ vhost: '/', name: 'bad', pattern: 'x', definition: { 'max-length': 'x' } }] };
      assert.equal((await api(base, 'POST', '/api/definitions', bad)).status, 400);
    } finally {
      await broker.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
