/**
 * The management HTTP API's resources and their RabbitMQ 3.10 shapes: vhosts, users, permissions,
 * topic permissions, queues (declare, delete, purge, get), exchanges (declare, delete, publish),
 * bindings, pagination/sorting/columns, input validation, and the static UI.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { api, apiOk, connect, seg, startTarget, uniqueName, type Target } from './management-support.js';

describe('management API resources', () => {
  let target: Target;
  const V = uniqueName('api-vhost');
  const U = uniqueName('api-user');

  before(async () => {
    target = await startTarget();
    await apiOk(target, 'PUT', `/api/vhosts/${seg(V)}`, { description: 'for the API tests', tags: 'a,b' }, 201);
  });

  after(async () => {
    await api(target, 'DELETE', `/api/vhosts/${seg(V)}`);
    await api(target, 'DELETE', `/api/users/${seg(U)}`);
    await target.close();
  });

  describe('vhosts', () => {
    test('PUT creates (201), again updates (204); GET shows description and tags', async () => {
      await apiOk(target, 'PUT', `/api/vhosts/${seg(V)}`, { description: 'for the API tests', tags: ['a', 'b'] }, 204);
      const v = (await apiOk(target, 'GET', `/api/vhosts/${seg(V)}`)).body;
      assert.equal(v.name, V);
      assert.equal(v.description, 'for the API tests');
      assert.deepEqual(v.tags, ['a', 'b']);
      assert.deepEqual(v.metadata, { description: 'for the API tests', tags: ['a', 'b'] });
      assert.equal(v.tracing, false);
    });

    test('creating a vhost over HTTP gives its creator full permissions, as RabbitMQ', async () => {
      const p = (await apiOk(target, 'GET', `/api/permissions/${seg(V)}/guest`)).body;
      assert.deepEqual(p, { user: 'guest', vhost: V, configure: '.*', write: '.*', read: '.*' });
    });

    test('the list has message counts and stats', async () => {
      const list = (await apiOk(target, 'GET', '/api/vhosts')).body as Record<string, unknown>[];
      const v = list.find((x) => x['name'] === V)!;
      for (const key of ['messages', 'messages_ready', 'messages_unacknowledged', 'message_stats', 'recv_oct', 'send_oct', 'cluster_state']) {
        assert.ok(key in v, key);
      }
    });

    test('DELETE removes it with its queues; then 404', async () => {
      const name = uniqueName('api-gone');
      await apiOk(target, 'PUT', `/api/vhosts/${seg(name)}`, {}, 201);
      await apiOk(target, 'PUT', `/api/queues/${seg(name)}/q1`, {}, 201);
      await apiOk(target, 'DELETE', `/api/vhosts/${seg(name)}`, undefined, 204);
      assert.deepEqual((await api(target, 'DELETE', `/api/vhosts/${seg(name)}`)).body, { error: 'Object Not Found', reason: 'Not Found' });
      assert.equal((await api(target, 'GET', `/api/queues/${seg(name)}/q1`)).status, 404);
    });
  });

  describe('users', () => {
    test('PUT with a password creates a user who can log in over AMQP', async () => {
      await apiOk(target, 'PUT', `/api/users/${seg(U)}`, { password: 'secret', tags: 'management,monitoring' }, 201);
      const u = (await apiOk(target, 'GET', `/api/users/${seg(U)}`)).body;
      assert.equal(u.name, U);
      assert.deepEqual(u.tags, ['management', 'monitoring']);
      assert.equal(u.hashing_algorithm, 'rabbit_password_hashing_sha256');
      assert.equal(Buffer.from(u.password_hash, 'base64').length, 36, '4-byte salt + SHA-256');
      assert.deepEqual(u.limits, {});
      await apiOk(target, 'PUT', `/api/permissions/${seg(V)}/${seg(U)}`, { configure: '.*', write: '.*', read: '.*' }, 201);
      const c = await connect(target.amqpUrl(U, 'secret', V));
      await c.close();
    });

    test('PUT without a password leaves no password (as RabbitMQ); with password_hash sets it as is', async () => {
      await apiOk(target, 'PUT', `/api/users/${seg(U)}`, { tags: ['administrator'] }, 204);
      await assert.rejects(connect(target.amqpUrl(U, 'secret', V)));
      const guestHash = (await apiOk(target, 'GET', '/api/users/guest')).body.password_hash;
      await apiOk(target, 'PUT', `/api/users/${seg(U)}`, { password_hash: guestHash, hashing_algorithm: 'rabbit_password_hashing_sha256', tags: '' }, 204);
      const c2 = await connect(target.amqpUrl(U, 'guest', V));
      await c2.close();
      await apiOk(target, 'PUT', `/api/users/${seg(U)}`, { password: 'secret', tags: 'management' }, 204);
    });

    test('bad input is a 400', async () => {
      const bad = [
        [{ password: 'x' }, /^tags_not_present$/],
        [{ password_hash: 'abc', hashing_algorithm: 'bogus', tags: '' }, /unsupported hashing_algorithm/],
        [{ password: 12, tags: '' }, /password must be a string/],
        [{ password: 'x', tags: 7 }, /tags/],
      ] as const;
      for (const [body, reason] of bad) {
        const a = await api(target, 'PUT', `/api/users/${seg(U)}-bad`, body);
        assert.equal(a.status, 400, JSON.stringify(body));
        assert.equal(a.body.error, 'bad_request');
        assert.match(String(a.body.reason), reason);
      }
      assert.equal((await api(target, 'GET', `/api/users/${seg(U)}-bad`)).status, 404);
    });

    test('without-permissions, bulk-delete, DELETE and 404', async () => {
      const a = `${U}-a`;
      const b = `${U}-b`;
      await apiOk(target, 'PUT', `/api/users/${seg(a)}`, { password: 'x', tags: '' }, 201);
      await apiOk(target, 'PUT', `/api/users/${seg(b)}`, { password: 'x', tags: '' }, 201);
      const lonely = ((await apiOk(target, 'GET', '/api/users/without-permissions')).body as { name: string }[]).map((u) => u.name);
      assert.ok(lonely.includes(a) && lonely.includes(b) && !lonely.includes('guest'));
      await apiOk(target, 'POST', '/api/users/bulk-delete', { users: [a, b] }, 204);
      assert.equal((await api(target, 'GET', `/api/users/${seg(a)}`)).status, 404);
      assert.equal((await api(target, 'DELETE', `/api/users/${seg(b)}`)).status, 404);
    });

    test("a user's permissions and topic permissions", async () => {
      const p = (await apiOk(target, 'GET', `/api/users/${seg(U)}/permissions`)).body;
      assert.deepEqual(p, [{ user: U, vhost: V, configure: '.*', write: '.*', read: '.*' }]);
      assert.deepEqual((await apiOk(target, 'GET', `/api/users/${seg(U)}/topic-permissions`)).body, []);
    });
  });

  describe('permissions', () => {
    test('missing keys, bad regex, unknown vhost or user: 400 with RabbitMQ reasons', async () => {
      const path = `/api/permissions/${seg(V)}/${seg(U)}`;
      assert.deepEqual((await api(target, 'PUT', path, { configure: '.*' })).body, { error: 'bad_request', reason: '[{key_missing,write},{key_missing,read}]' });
      const badRegex = await api(target, 'PUT', path, { configure: '(', write: '', read: '' });
      assert.equal(badRegex.status, 400);
      assert.match(badRegex.body.reason, /invalid regular expression '\('/);
      for (const p of [`/api/permissions/no-such-vhost/${seg(U)}`, `/api/permissions/${seg(V)}/no-such-user`]) {
        assert.deepEqual((await api(target, 'PUT', p, { configure: '', write: '', read: '' })).body, { error: 'bad_request', reason: 'vhost_or_user_not_found' });
      }
    });

    test('PUT 201 then 204, GET, list by vhost, DELETE then 404', async () => {
      const other = uniqueName('api-perm-user');
      await apiOk(target, 'PUT', `/api/users/${seg(other)}`, { password: 'x', tags: '' }, 201);
      const path = `/api/permissions/${seg(V)}/${seg(other)}`;
      await apiOk(target, 'PUT', path, { configure: '^a', write: '^b', read: '^c' }, 201);
      await apiOk(target, 'PUT', path, { configure: '^a', write: '^b', read: '^d' }, 204);
      assert.deepEqual((await apiOk(target, 'GET', path)).body, { user: other, vhost: V, configure: '^a', write: '^b', read: '^d' });
      const inVhost = (await apiOk(target, 'GET', `/api/vhosts/${seg(V)}/permissions`)).body as { user: string }[];
      assert.ok(inVhost.some((p) => p.user === other));
      assert.ok(((await apiOk(target, 'GET', '/api/permissions')).body as { user: string }[]).some((p) => p.user === other));
      await apiOk(target, 'DELETE', path, undefined, 204);
      assert.equal((await api(target, 'DELETE', path)).status, 404);
      assert.equal((await api(target, 'GET', path)).status, 404);
      await apiOk(target, 'DELETE', `/api/users/${seg(other)}`, undefined, 204);
    });

    test('topic permissions: PUT needs an exchange, GET lists them, DELETE by exchange or all', async () => {
      const path = `/api/topic-permissions/${seg(V)}/${seg(U)}`;
      assert.deepEqual((await api(target, 'PUT', path, { write: '.*', read: '.*' })).body, { error: 'bad_request', reason: '[{key_missing,exchange}]' });
      await apiOk(target, 'PUT', path, { exchange: 'amq.topic', write: '^a', read: '^b' }, 201);
      await apiOk(target, 'PUT', path, { exchange: 'x.other', write: '^c', read: '^d' }, 201);
      const list = (await apiOk(target, 'GET', path)).body;
      assert.deepEqual(list, [
        { user: U, vhost: V, exchange: 'amq.topic', write: '^a', read: '^b' },
        { user: U, vhost: V, exchange: 'x.other', write: '^c', read: '^d' },
      ]);
      assert.equal(((await apiOk(target, 'GET', `/api/vhosts/${seg(V)}/topic-permissions`)).body as unknown[]).length, 2);
      await apiOk(target, 'DELETE', `${path}?exchange=x.other`, undefined, 204);
      assert.equal(((await apiOk(target, 'GET', path)).body as unknown[]).length, 1);
      await apiOk(target, 'DELETE', path, undefined, 204);
      assert.equal((await api(target, 'GET', path)).status, 404);
    });
  });

  describe('queues', () => {
    test('PUT declares with defaults like RabbitMQ (not durable), 204 when equivalent, 400 when not', async () => {
      await apiOk(target, 'PUT', `/api/queues/${seg(V)}/q-defaults`, {}, 201);
      const q = (await apiOk(target, 'GET', `/api/queues/${seg(V)}/q-defaults?columns=durable,auto_delete,exclusive,arguments`)).body;
      assert.deepEqual(q, { durable: false, auto_delete: false, exclusive: false, arguments: {} });
      await apiOk(target, 'PUT', `/api/queues/${seg(V)}/q-defaults`, { durable: false }, 204);
      const clash = await api(target, 'PUT', `/api/queues/${seg(V)}/q-defaults`, { durable: true });
      assert.equal(clash.status, 400);
      assert.equal(clash.body.reason, `inequivalent arg 'durable' for queue 'q-defaults' in vhost '${V}': received 'true' but current is 'false'`);
    });

    test('invalid input: not_boolean, bad x-arguments, reserved names, unknown vhost', async () => {
      assert.deepEqual((await api(target, 'PUT', `/api/queues/${seg(V)}/q-bad`, { durable: 'yes' })).body, { error: 'bad_request', reason: ['not_boolean', 'yes'] });
      const ttl = await api(target, 'PUT', `/api/queues/${seg(V)}/q-bad`, { arguments: { 'x-message-ttl': 'abc' } });
      assert.equal(ttl.status, 400);
      assert.match(ttl.body.reason, /x-message-ttl/);
      const reserved = await api(target, 'PUT', `/api/queues/${seg(V)}/amq.q`, {});
      assert.equal(reserved.status, 401);
      assert.equal((await api(target, 'PUT', '/api/queues/no-such-vhost/q', {})).status, 404);
      assert.equal((await api(target, 'GET', `/api/queues/${seg(V)}/q-bad`)).status, 404);
    });

    test('ready and unacknowledged counts follow a consumer, with consumer details', async () => {
      const name = 'q-counts';
      await apiOk(target, 'PUT', `/api/queues/${seg(V)}/${name}`, { durable: true, arguments: { 'x-max-length': 100 } }, 201);
      const c = await connect(target.amqpUrl('guest', 'guest', V));
      try {
        const ch = await c.createChannel();
        for (let i = 0; i < 5; i++) ch.sendToQueue(name, Buffer.from(`m${i}`));
        await ch.checkQueue(name);
        await ch.prefetch(2);
        await ch.consume(name, () => {}, { consumerTag: 'api-test-ctag' });
        let q: Record<string, any> = {};
        for (let i = 0; i < 100 && q['messages_unacknowledged'] !== 2; i++) {
          q = (await apiOk(target, 'GET', `/api/queues/${seg(V)}/${name}`)).body;
        }
        assert.equal(q['messages'], 5);
        assert.equal(q['messages_ready'], 3);
        assert.equal(q['messages_unacknowledged'], 2);
        assert.equal(q['consumers'], 1);
        assert.equal(q['message_bytes'], 10);
        assert.equal(q['message_bytes_unacknowledged'], 4);
        assert.deepEqual(q['arguments'], { 'x-max-length': 100 });
        assert.equal(q['durable'], true);
        assert.equal(q['message_stats']['publish'], 5);
        assert.equal(typeof q['messages_details']['rate'], 'number');
        const cd = q['consumer_details'][0];
        assert.equal(cd.consumer_tag, 'api-test-ctag');
        assert.equal(cd.ack_required, true);
        assert.equal(cd.prefetch_count, 2);
        assert.deepEqual(cd.queue, { name, vhost: V });
        assert.equal(cd.channel_details.user, 'guest');
      } finally {
        await c.close();
      }
      // Unacked messages return when the consumer's connection goes.
      let ready = 0;
      for (let i = 0; i < 100 && ready !== 5; i++) ready = (await apiOk(target, 'GET', `/api/queues/${seg(V)}/${name}`)).body.messages_ready;
      assert.equal(ready, 5);
    });

    test('get: ack modes, encodings, truncation, properties, count validation', async () => {
      const name = 'q-get';
      await apiOk(target, 'PUT', `/api/queues/${seg(V)}/${name}`, {}, 201);
      const pub = (payload: string, encoding: string, properties: unknown = {}) =>
        apiOk(target, 'POST', `/api/exchanges/${seg(V)}/amq.default/publish`, { routing_key: name, payload, payload_encoding: encoding, properties });
      // Note: "amq.default" is the default exchange's name in the API.
      assert.deepEqual((await pub('hello', 'string', { delivery_mode: 2, headers: { h: 'v', n: 1 }, content_type: 'text/plain' })).body, { routed: true });
      await pub(Buffer.from([0xff, 0x00, 0x01]).toString('base64'), 'base64');
      const url = `/api/queues/${seg(V)}/${name}/get`;
      const peek = (await apiOk(target, 'POST', url, { count: 5, ackmode: 'ack_requeue_true', encoding: 'auto' })).body;
      assert.equal(peek.length, 2);
      assert.deepEqual(peek[0], {
        payload_bytes: 5, redelivered: false, exchange: '', routing_key: name, message_count: 1,
        properties: { delivery_mode: 2, headers: { h: 'v', n: 1 }, content_type: 'text/plain' }, payload: 'hello', payload_encoding: 'string',
      });
      assert.equal(peek[1].payload_encoding, 'base64', 'not valid UTF-8');
      assert.equal(peek[1].payload, Buffer.from([0xff, 0x00, 0x01]).toString('base64'));
      assert.deepEqual(peek[1].properties, [], 'RabbitMQ shows empty properties as []');
      const again = (await apiOk(target, 'POST', url, { count: '1', ackmode: 'reject_requeue_true', encoding: 'base64', truncate: 2 })).body;
      assert.equal(again[0].redelivered, true);
      assert.equal(again[0].payload, Buffer.from('he').toString('base64'));
      const taken = (await apiOk(target, 'POST', url, { count: 10, ackmode: 'ack_requeue_false', encoding: 'auto' })).body;
      assert.equal(taken.length, 2);
      assert.deepEqual((await apiOk(target, 'POST', url, { count: 1, ackmode: 'ack_requeue_false', encoding: 'auto' })).body, []);
      assert.deepEqual((await api(target, 'POST', url, { count: 1 })).body, { error: 'bad_request', reason: '[{key_missing,ackmode},{key_missing,encoding}]' });
      assert.deepEqual((await apiOk(target, 'POST', url, { count: 0, ackmode: 'ack_requeue_true', encoding: 'auto' })).body, []);
      for (const bad of [{ count: -1, ackmode: 'ack_requeue_true', encoding: 'auto' }, { count: 1, ackmode: 'bogus', encoding: 'auto' }, { count: 1, ackmode: 'ack_requeue_true', encoding: 'hex' }]) {
        assert.equal((await api(target, 'POST', url, bad)).status, 400, JSON.stringify(bad));
      }
    });

    test('purge (DELETE …/contents), if-empty / if-unused, DELETE, bindings of a queue', async () => {
      const name = 'q-purge';
      await apiOk(target, 'PUT', `/api/queues/${seg(V)}/${name}`, {}, 201);
      await apiOk(target, 'POST', `/api/exchanges/${seg(V)}/amq.default/publish`, { routing_key: name, payload: 'x', payload_encoding: 'string', properties: {} });
      const notEmpty = await api(target, 'DELETE', `/api/queues/${seg(V)}/${name}?if-empty=true`);
      assert.equal(notEmpty.status, 400);
      assert.match(notEmpty.body.reason, /not empty/);
      await apiOk(target, 'DELETE', `/api/queues/${seg(V)}/${name}/contents`, undefined, 204);
      assert.equal((await apiOk(target, 'GET', `/api/queues/${seg(V)}/${name}`)).body.messages, 0);
      const bindings = (await apiOk(target, 'GET', `/api/queues/${seg(V)}/${name}/bindings`)).body;
      assert.deepEqual(bindings, [{ source: '', vhost: V, destination: name, destination_type: 'queue', routing_key: name, arguments: {}, properties_key: name }]);
      await apiOk(target, 'DELETE', `/api/queues/${seg(V)}/${name}?if-empty=true&if-unused=true`, undefined, 204);
      assert.deepEqual((await api(target, 'DELETE', `/api/queues/${seg(V)}/${name}`)).body, { error: 'Object Not Found', reason: 'Not Found' });
      assert.equal((await api(target, 'DELETE', `/api/queues/${seg(V)}/${name}/contents`)).status, 404);
    });
  });

  describe('exchanges and bindings', () => {
    test('PUT: default type direct, invalid type, inequivalent, reserved names', async () => {
      await apiOk(target, 'PUT', `/api/exchanges/${seg(V)}/x-plain`, {}, 201);
      const x = (await apiOk(target, 'GET', `/api/exchanges/${seg(V)}/x-plain`)).body;
      assert.equal(x.type, 'direct');
      assert.equal(x.durable, false);
      assert.deepEqual((await api(target, 'PUT', `/api/exchanges/${seg(V)}/x-plain`, { type: 'bogus' })).body, { error: 'bad_request', reason: "unknown exchange type 'bogus'" });
      assert.deepEqual((await api(target, 'PUT', `/api/exchanges/${seg(V)}/x-plain`, { type: 'fanout' })).body, {
        error: 'bad_request', reason: `inequivalent arg 'type' for exchange 'x-plain' in vhost '${V}': received 'fanout' but current is 'direct'`,
      });
      await apiOk(target, 'PUT', `/api/exchanges/${seg(V)}/x-plain`, { type: 'direct' }, 204);
      assert.equal((await api(target, 'DELETE', `/api/exchanges/${seg(V)}/amq.direct`)).status, 401);
      assert.equal((await api(target, 'PUT', `/api/exchanges/${seg(V)}/amq.new`, { type: 'direct' })).status, 401);
    });

    test('the list holds the predeclared exchanges', async () => {
      const names = ((await apiOk(target, 'GET', `/api/exchanges/${seg(V)}`)).body as { name: string }[]).map((x) => x.name);
      for (const n of ['', 'amq.direct', 'amq.fanout', 'amq.topic', 'amq.headers', 'amq.match']) assert.ok(names.includes(n), n);
    });

    test('bindings: POST 201 with location, list, show and DELETE by properties key, e2e', async () => {
      await apiOk(target, 'PUT', `/api/exchanges/${seg(V)}/x-topic`, { type: 'topic' }, 201);
      await apiOk(target, 'PUT', `/api/queues/${seg(V)}/q-bound`, {}, 201);
      const created = await apiOk(target, 'POST', `/api/bindings/${seg(V)}/e/x-topic/q/q-bound`, { routing_key: 'a.#', arguments: { k: 'v' } }, 201);
      const location = created.headers.get('location')!;
      assert.match(location, /^q-bound\/a\.%2523~/);
      const key = decodeURIComponent(location.split('/')[1]!);
      const list = (await apiOk(target, 'GET', `/api/bindings/${seg(V)}/e/x-topic/q/q-bound`)).body;
      assert.deepEqual(list, [{ source: 'x-topic', vhost: V, destination: 'q-bound', destination_type: 'queue', routing_key: 'a.#', arguments: { k: 'v' }, properties_key: key }]);
      assert.deepEqual((await apiOk(target, 'GET', `/api/bindings/${seg(V)}/e/x-topic/q/q-bound/${seg(key)}`)).body, list[0]);
      assert.deepEqual((await apiOk(target, 'GET', `/api/exchanges/${seg(V)}/x-topic/bindings/source`)).body, list);
      const all = (await apiOk(target, 'GET', `/api/bindings/${seg(V)}`)).body as { source: string; destination: string }[];
      assert.ok(all.some((b) => b.source === '' && b.destination === 'q-bound'), 'default exchange binding listed');
      assert.ok(all.some((b) => b.source === 'x-topic'));
      // Routing through the binding.
      assert.deepEqual((await apiOk(target, 'POST', `/api/exchanges/${seg(V)}/x-topic/publish`, { routing_key: 'a.b.c', payload: 'x', payload_encoding: 'string', properties: {} })).body, { routed: true });
      assert.deepEqual((await apiOk(target, 'POST', `/api/exchanges/${seg(V)}/x-topic/publish`, { routing_key: 'b.c', payload: 'x', payload_encoding: 'string', properties: {} })).body, { routed: false });
      await apiOk(target, 'DELETE', `/api/bindings/${seg(V)}/e/x-topic/q/q-bound/${seg(key)}`, undefined, 204);
      assert.equal((await api(target, 'DELETE', `/api/bindings/${seg(V)}/e/x-topic/q/q-bound/${seg(key)}`)).status, 404);
      // Exchange to exchange, with an empty routing key ("~" as its key).
      await apiOk(target, 'POST', `/api/bindings/${seg(V)}/e/x-topic/e/x-plain`, {}, 201);
      const e2e = (await apiOk(target, 'GET', `/api/exchanges/${seg(V)}/x-plain/bindings/destination`)).body;
      assert.deepEqual(e2e, [{ source: 'x-topic', vhost: V, destination: 'x-plain', destination_type: 'exchange', routing_key: '', arguments: {}, properties_key: '~' }]);
      await apiOk(target, 'DELETE', `/api/bindings/${seg(V)}/e/x-topic/e/x-plain/~`, undefined, 204);
      assert.deepEqual((await api(target, 'POST', `/api/bindings/${seg(V)}/e/no-such-x/q/q-bound`, {})).body, { error: 'not_found', reason: `no exchange 'no-such-x' in vhost '${V}'` });
    });

    test('publish: validation, unknown exchange, internal exchange', async () => {
      const url = `/api/exchanges/${seg(V)}/x-plain/publish`;
      const missing = await api(target, 'POST', url, { routing_key: 'x' });
      assert.equal(missing.body.error, 'bad_request');
      // RabbitMQ wraps this reason over lines; the content is the same.
      assert.equal(missing.body.reason.replace(/\s+/g, ''), '[{key_missing,properties},{key_missing,payload},{key_missing,payload_encoding}]');
      for (const bad of [
        { routing_key: 'x', properties: {}, payload: 'x', payload_encoding: 'hex' },
        { routing_key: 'x', properties: { delivery_mode: 'two' }, payload: 'x', payload_encoding: 'string' },
        { routing_key: 'x', properties: { headers: 'no' }, payload: 'x', payload_encoding: 'string' },
        { routing_key: 'x', properties: {}, payload: '***', payload_encoding: 'base64' },
      ]) {
        assert.equal((await api(target, 'POST', url, bad)).status, 400, JSON.stringify(bad));
      }
      // RabbitMQ answers a publish to a missing exchange 400 (`404 NOT_FOUND - no exchange …`).
      assert.equal((await api(target, 'POST', `/api/exchanges/${seg(V)}/no-such-x/publish`, { routing_key: 'x', properties: {}, payload: 'x', payload_encoding: 'string' })).status, 400);
      await apiOk(target, 'PUT', `/api/exchanges/${seg(V)}/x-internal`, { type: 'fanout', internal: true }, 201);
      assert.equal((await api(target, 'POST', `/api/exchanges/${seg(V)}/x-internal/publish`, { routing_key: 'x', properties: {}, payload: 'x', payload_encoding: 'string' })).status, 400);
    });

    test('DELETE with if-unused, then 404', async () => {
      await apiOk(target, 'PUT', `/api/exchanges/${seg(V)}/x-used`, { type: 'fanout' }, 201);
      await apiOk(target, 'POST', `/api/bindings/${seg(V)}/e/x-used/q/q-bound`, {}, 201);
      assert.equal((await api(target, 'DELETE', `/api/exchanges/${seg(V)}/x-used?if-unused=true`)).status, 400);
      await apiOk(target, 'DELETE', `/api/exchanges/${seg(V)}/x-used`, undefined, 204);
      assert.equal((await api(target, 'DELETE', `/api/exchanges/${seg(V)}/x-used`)).status, 404);
    });
  });

  describe('lists: pagination, sorting, columns', () => {
    before(async () => {
      for (const n of ['p-a', 'p-b', 'p-c', 'P-D', 'other']) await apiOk(target, 'PUT', `/api/queues/${seg(V)}/${n}`, {});
    });

    test('page, page_size, name filter (case-insensitive), use_regex', async () => {
      const page = (await apiOk(target, 'GET', `/api/queues/${seg(V)}?page=1&page_size=2&name=p-&sort=name&columns=name`)).body;
      assert.equal(page.filtered_count, 4);
      assert.equal(page.item_count, 2);
      assert.equal(page.page, 1);
      assert.equal(page.page_count, 2);
      assert.equal(page.page_size, 2);
      assert.ok(page.total_count >= 5);
      // Sorting is by code unit, as RabbitMQ: upper case first.
      assert.deepEqual(page.items, [{ name: 'P-D' }, { name: 'p-a' }]);
      const second = (await apiOk(target, 'GET', `/api/queues/${seg(V)}?page=2&page_size=2&name=p-&sort=name&columns=name`)).body;
      assert.deepEqual(second.items, [{ name: 'p-b' }, { name: 'p-c' }]);
      const regex = (await apiOk(target, 'GET', `/api/queues/${seg(V)}?page=1&name=${encodeURIComponent('^p-[ab]$')}&use_regex=true&columns=name&sort=name&sort_reverse=true`)).body;
      assert.deepEqual(regex.items, [{ name: 'p-b' }, { name: 'p-a' }]);
    });

    test('errors: invalid parameters, page out of range', async () => {
      assert.deepEqual((await api(target, 'GET', `/api/queues/${seg(V)}?page=abc`)).body, { error: 'bad_request', reason: 'Pagination parameters are invalid' });
      assert.equal((await api(target, 'GET', `/api/queues/${seg(V)}?page=1&page_size=501`)).status, 400);
      const out = await api(target, 'GET', `/api/queues/${seg(V)}?page=99&page_size=100`);
      assert.equal(out.status, 400);
      assert.equal(out.body.error, 'page_out_of_range');
      const regex = await api(target, 'GET', `/api/queues/${seg(V)}?page=1&name=(&use_regex=true`);
      assert.equal(regex.status, 400);
    });

    test('without page, name does not filter (as RabbitMQ); sort by number; nested columns', async () => {
      const all = (await apiOk(target, 'GET', `/api/queues/${seg(V)}?name=zzz&columns=name`)).body as unknown[];
      assert.ok(all.length >= 5);
      await apiOk(target, 'POST', `/api/exchanges/${seg(V)}/amq.default/publish`, { routing_key: 'other', payload: 'x', payload_encoding: 'string', properties: {} });
      const sorted = (await apiOk(target, 'GET', `/api/queues/${seg(V)}?sort=messages&sort_reverse=true&columns=name,messages,message_stats.publish`)).body as { name: string; messages: number }[];
      const counts = sorted.map((q) => q.messages);
      assert.deepEqual(counts, [...counts].sort((a, b) => b - a));
      assert.deepEqual(sorted.find((q) => q.name === 'other'), { name: 'other', messages: 1, message_stats: { publish: 1 } });
      assert.deepEqual(Object.keys(sorted[0]!).sort(), ['message_stats', 'messages', 'name']);
    });
  });

  describe('input that must never crash the server', () => {
    test('bad JSON, wrong JSON type, unknown paths, wrong methods, bad percent-encoding', async () => {
      assert.deepEqual((await api(target, 'PUT', `/api/vhosts/${seg(V)}`, '{bad')).body, { error: 'bad_request', reason: 'not_json' });
      assert.deepEqual((await api(target, 'PUT', `/api/users/${seg(U)}`, '[1]')).body, { error: 'bad_request', reason: 'not_json' });
      assert.deepEqual((await api(target, 'GET', '/api/nonsense')).body, { error: 'Object Not Found', reason: 'Not Found' });
      assert.equal((await api(target, 'GET', '/nonsense')).status, 404);
      const wrongMethod = await api(target, 'PATCH', '/api/overview');
      assert.equal(wrongMethod.status, 405);
      assert.equal((await api(target, 'GET', '/api/queues/%E0%A4%A')).status, 400);
      assert.equal((await api(target, 'POST', `/api/queues/${seg(V)}/p-a/get`, 'null')).status, 400);
      assert.equal((await api(target, 'PUT', `/api/permissions/${seg(V)}/${seg(U)}`, { configure: 1, write: [], read: {} })).status, 400);
      assert.equal((await api(target, 'POST', '/api/definitions', { users: 'notalist' })).status, 400);
      // Still alive and answering.
      assert.equal((await apiOk(target, 'GET', '/api/overview')).status, 200);
    });
  });

  describe('web UI and scripts', () => {
    test('/ serves the UI page and its hashed, long-cached assets without credentials', async () => {
      const page = await api(target, 'GET', '/', undefined, null);
      assert.equal(page.status, 200);
      assert.match(page.headers.get('content-type')!, /text\/html/);
      assert.equal(page.headers.get('cache-control'), 'no-cache');
      assert.match(page.body, /<title>Warren Management<\/title>/);
      const files = [...(page.body as string).matchAll(/(?:src|href)="(assets\/[^"]+)"/g)].map((m) => m[1]!);
      assert.ok(files.some((f) => f.endsWith('.js')) && files.some((f) => f.endsWith('.css')), files.join(', '));
      for (const f of files) {
        const asset = await api(target, 'GET', `/${f}`, undefined, null);
        assert.equal(asset.status, 200, f);
        assert.equal(asset.headers.get('cache-control'), 'public, max-age=31536000, immutable');
      }
      assert.equal((await api(target, 'GET', '/assets/main-NOTBUILT.js', undefined, null)).status, 404);
    });

    test('paginated queue lists filter and sort by name without rendering every queue', async () => {
      for (const n of ['page-b', 'page-a', 'page-c']) await apiOk(target, 'PUT', `/api/queues/%2F/${n}`, { durable: false });
      const a = await apiOk(target, 'GET', '/api/queues/%2F?page=1&page_size=2&name=page-&sort=name&sort_reverse=true');
      assert.deepEqual(a.body.items.map((q: { name: string }) => q.name), ['page-c', 'page-b']);
      assert.equal(a.body.filtered_count, 3);
      assert.equal(a.body.page_count, 2);
      const b = await apiOk(target, 'GET', '/api/queues?page=1&name=%5Epage-%5Bab%5D%24&use_regex=true&sort=messages&columns=name');
      assert.deepEqual(new Set(b.body.items.map((q: { name: string }) => q.name)), new Set(['page-a', 'page-b']));
      for (const n of ['page-a', 'page-b', 'page-c']) await apiOk(target, 'DELETE', `/api/queues/%2F/${n}`);
    });

    test('/cli/rabbitmqadmin serves an admin script', async () => {
      const script = await api(target, 'GET', '/cli/rabbitmqadmin', undefined, null);
      assert.equal(script.status, 200);
      assert.match(script.body, /^#!\/usr\/bin\/env python3/);
    });
  });
});
