/**
 * Definitions in RabbitMQ's JSON format: export, import (all-or-nothing validation), per-vhost
 * export and import, a file exported by a real RabbitMQ 3.10 with its password hashes (users log in
 * with their passwords and their permissions apply), and surviving a restart.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Broker } from '../src/index.js';
import { api, apiOk, connect, seg, startTarget, type Target } from './management-support.js';
import { freePort } from './support/free-port.js';

/**
 * `rabbitmqctl export_definitions` of RabbitMQ 3.10.8 after:
 *   add_user mgmtref_exp 's3cret pw'; set_user_tags mgmtref_exp monitoring; add_vhost mgmtref-vh;
 *   set_permissions -p mgmtref-vh mgmtref_exp '^mq-' '.*' 'x';
 *   set_topic_permissions -p mgmtref-vh mgmtref_exp amq.topic '^a' '^b';
 *   a durable queue mq-q1 (x-max-length 10), a fanout exchange mq-x1 (alternate-exchange
 *   amq.direct) and a binding mq-x1 → mq-q1 with key k and arguments {a: 1}
 * (trimmed to that vhost and user).
 */
const RABBITMQ_EXPORT = {
  bindings: [{ arguments: { a: 1 }, destination: 'mq-q1', destination_type: 'queue', routing_key: 'k', source: 'mq-x1', vhost: 'mgmtref-vh' }],
  exchanges: [{ arguments: { 'alternate-exchange': 'amq.direct' }, auto_delete: false, durable: true, name: 'mq-x1', type: 'fanout', vhost: 'mgmtref-vh' }],
  global_parameters: [],
  parameters: [],
  permissions: [
    { configure: '.*', read: '.*', user: 'guest', vhost: 'mgmtref-vh', write: '.*' },
    { configure: '^mq-', read: 'x', user: 'mgmtref_exp', vhost: 'mgmtref-vh', write: '.*' },
  ],
  policies: [],
  queues: [{ arguments: { 'x-max-length': 10 }, auto_delete: false, durable: true, name: 'mq-q1', type: 'classic', vhost: 'mgmtref-vh' }],
  rabbit_version: '3.10.8',
  rabbitmq_version: '3.10.8',
  topic_permissions: [{ exchange: 'amq.topic', read: '^b', user: 'mgmtref_exp', vhost: 'mgmtref-vh', write: '^a' }],
  users: [{
    hashing_algorithm: 'rabbit_password_hashing_sha256', limits: {}, name: 'mgmtref_exp',
    password_hash: 'fGogka4L25FJH6IfnL6DbXjMdefse/mwngC2FABccyzTYXwb', tags: ['monitoring'],
  }],
  vhosts: [{ limits: [], metadata: { description: '', tags: '' }, name: 'mgmtref-vh' }],
};
const PASSWORD = 's3cret pw';

describe('definitions', () => {
  let target: Target;

  before(async () => {
    target = await startTarget({ allowReference: false });
  });

  after(async () => {
    await target.close();
  });

  test('a RabbitMQ 3.10 export imports, and its users log in with their passwords', async () => {
    await apiOk(target, 'POST', '/api/definitions', RABBITMQ_EXPORT, 204);
    const user = (await apiOk(target, 'GET', '/api/users/mgmtref_exp')).body;
    assert.deepEqual(user.tags, ['monitoring']);
    assert.equal(user.password_hash, RABBITMQ_EXPORT.users[0]!.password_hash);
    const q = (await apiOk(target, 'GET', '/api/queues/mgmtref-vh/mq-q1')).body;
    assert.equal(q.durable, true);
    assert.deepEqual(q.arguments, { 'x-max-length': 10 });
    const x = (await apiOk(target, 'GET', '/api/exchanges/mgmtref-vh/mq-x1')).body;
    assert.equal(x.type, 'fanout');
    assert.deepEqual(x.arguments, { 'alternate-exchange': 'amq.direct' });
    const b = (await apiOk(target, 'GET', '/api/bindings/mgmtref-vh/e/mq-x1/q/mq-q1')).body;
    assert.equal(b.length, 1);
    assert.deepEqual(b[0].arguments, { a: 1 });

    const c = await connect(target.amqpUrl('mgmtref_exp', PASSWORD, 'mgmtref-vh'));
    try {
      const ch = await c.createChannel();
      await ch.assertQueue('mq-mine', { durable: false, autoDelete: true });
      const refused = await c.createChannel();
      const error = new Promise<Error>((resolve) => refused.on('error', resolve));
      await assert.rejects(refused.assertQueue('not-mine', { durable: false }));
      assert.match(String((await error).message), /access to queue 'not-mine' in vhost 'mgmtref-vh' refused for user 'mgmtref_exp'/);
      const topicRefused = await c.createChannel();
      const topicError = new Promise<Error>((resolve) => topicRefused.on('error', resolve));
      topicRefused.publish('amq.topic', 'b.not-allowed', Buffer.from('x'));
      assert.match(String((await topicError).message), /access to topic 'b\.not-allowed' in exchange 'amq\.topic'/);
    } finally {
      await c.close().catch(() => {});
    }
    await assert.rejects(connect(target.amqpUrl('mgmtref_exp', 'wrong', 'mgmtref-vh')));
  });

  test('export has RabbitMQ\'s shape and leaves out predeclared exchanges and exclusive queues', async () => {
    const c = await connect(target.amqpUrl('guest', 'guest'));
    try {
      const ch = await c.createChannel();
      await ch.assertQueue('def-exclusive', { exclusive: true });
      await ch.assertQueue('def-transient', { durable: false });
      const defs = (await apiOk(target, 'GET', '/api/definitions')).body;
      for (const key of ['rabbit_version', 'rabbitmq_version', 'users', 'vhosts', 'permissions', 'topic_permissions', 'parameters', 'global_parameters', 'policies', 'queues', 'exchanges', 'bindings']) {
        assert.ok(key in defs, key);
      }
      const guest = defs.users.find((u: { name: string }) => u.name === 'guest');
      assert.deepEqual(Object.keys(guest).sort(), ['hashing_algorithm', 'limits', 'name', 'password_hash', 'tags']);
      const queueNames = defs.queues.map((q: { name: string }) => q.name);
      assert.ok(queueNames.includes('def-transient'), 'non-durable queues are exported, as RabbitMQ');
      assert.ok(!queueNames.includes('def-exclusive'));
      assert.ok(!defs.exchanges.some((x: { name: string }) => x.name === '' || x.name.startsWith('amq.')));
      assert.ok(defs.topic_permissions.some((p: { user: string }) => p.user === 'mgmtref_exp'));
      const file = await api(target, 'GET', '/api/definitions?download=warren.json');
      assert.equal(file.headers.get('content-disposition'), 'attachment; filename=warren.json');
    } finally {
      await c.close();
    }
  });

  test('queues named amq.* in an imported document are skipped (only the broker names queues so), as RabbitMQ 3.10', async () => {
    await apiOk(target, 'POST', '/api/definitions', {
      queues: [
        { name: 'amq.gen-imported', vhost: '/', durable: true, auto_delete: false, arguments: {} },
        { name: 'plain-imported', vhost: '/', durable: true, auto_delete: false, arguments: {} },
      ],
    }, 204);
    assert.equal((await api(target, 'GET', `/api/queues/${seg('/')}/amq.gen-imported`)).status, 404);
    assert.equal((await api(target, 'GET', `/api/queues/${seg('/')}/plain-imported`)).status, 200);
    await apiOk(target, 'DELETE', `/api/queues/${seg('/')}/plain-imported`, undefined, 204);
  });

  test('an invalid document is refused whole: 400 and nothing changes', async () => {
    const before = (await apiOk(target, 'GET', '/api/definitions')).body;
    const bad = [
      { users: 'notalist' },
      { users: [{ name: 'def-new-user', password: 'x', tags: '' }], permissions: [{ user: 'def-new-user', vhost: '/', configure: '(', write: '', read: '' }] },
      { queues: [{ name: 'def-q', vhost: 'no-such-vhost', durable: true, auto_delete: false, arguments: {} }] },
      { permissions: [{ user: 'no-such-user', vhost: '/', configure: '.*', write: '.*', read: '.*' }] },
      { exchanges: [{ name: 'def-x', vhost: '/', type: 'bogus' }] },
      { users: [{ name: 'def-u2', password_hash: 'abc', hashing_algorithm: 'unheard_of', tags: [] }] },
      { vhosts: [{ name: 'def-v' }], bindings: [{ source: 'x', vhost: 'def-v', destination: 'q', destination_type: 'topic', routing_key: '' }] },
    ];
    for (const defs of bad) {
      const a = await api(target, 'POST', '/api/definitions', defs);
      assert.equal(a.status, 400, JSON.stringify(defs));
      assert.equal(a.body.error, 'bad_request');
    }
    assert.deepEqual((await apiOk(target, 'GET', '/api/definitions')).body, before);
    assert.equal((await api(target, 'POST', '/api/definitions', 'garbage')).status, 400);
  });

  test('export, wipe, import: the same definitions come back', async () => {
    const exported = (await apiOk(target, 'GET', '/api/definitions')).body;
    await apiOk(target, 'DELETE', '/api/vhosts/mgmtref-vh', undefined, 204);
    await apiOk(target, 'DELETE', '/api/users/mgmtref_exp', undefined, 204);
    await apiOk(target, 'POST', '/api/definitions', exported, 204);
    const again = (await apiOk(target, 'GET', '/api/definitions')).body;
    const norm = (d: Record<string, unknown[]>) => Object.fromEntries(Object.entries(d).map(([k, v]) => [k, Array.isArray(v) ? v.map((x) => JSON.stringify(x)).sort() : v]));
    assert.deepEqual(norm(again), norm(exported));
  });

  test('per-vhost export and import, without vhost fields', async () => {
    const defs = (await apiOk(target, 'GET', '/api/definitions/mgmtref-vh')).body;
    assert.ok(!('users' in defs));
    assert.deepEqual(defs.queues.find((q: { name: string }) => q.name === 'mq-q1'), { name: 'mq-q1', durable: true, auto_delete: false, arguments: { 'x-max-length': 10 } });
    for (const key of ['queues', 'exchanges', 'bindings']) {
      assert.ok(defs[key].every((item: object) => !('vhost' in item)), key);
    }
    await apiOk(target, 'PUT', '/api/vhosts/def-copy', {}, 201);
    await apiOk(target, 'POST', '/api/definitions/def-copy', defs, 204);
    assert.equal((await apiOk(target, 'GET', '/api/queues/def-copy/mq-q1')).body.name, 'mq-q1');
    assert.equal(((await apiOk(target, 'GET', '/api/bindings/def-copy/e/mq-x1/q/mq-q1')).body as unknown[]).length, 1);
    assert.equal((await api(target, 'GET', '/api/definitions/no-such-vhost')).status, 400);
    await apiOk(target, 'DELETE', '/api/vhosts/def-copy', undefined, 204);
  });

  test('imported users, vhosts and durable objects survive a restart', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'warren-defs-restart-'));
    try {
      const start = async () => Broker.start({ port: 0, host: '127.0.0.1', dataDir, managementPort: await freePort(), prometheusPort: 0, logLevel: 'error' });
      let broker = await start();
      await apiOk(`http://127.0.0.1:${broker.managementPort}`, 'POST', '/api/definitions', RABBITMQ_EXPORT, 204);
      await broker.close();
      broker = await start();
      try {
        const base = `http://127.0.0.1:${broker.managementPort}`;
        assert.equal((await apiOk(base, 'GET', '/api/queues/mgmtref-vh/mq-q1')).body.durable, true);
        assert.equal((await apiOk(base, 'GET', `/api/permissions/mgmtref-vh/${seg('mgmtref_exp')}`)).body.configure, '^mq-');
        const c = await connect(`amqp://mgmtref_exp:${encodeURIComponent(PASSWORD)}@127.0.0.1:${broker.port}/mgmtref-vh`);
        await c.close();
      } finally {
        await broker.close();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
