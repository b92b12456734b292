/**
 * Vhost and user limits: the HTTP API with RabbitMQ's JSON and 400 reasons, and the refusals a
 * client sees (checked on RabbitMQ 3.10.8): over max-queues a 406 on queue.declare, over a vhost's
 * or user's max-connections a 530 at connection.open, over a user's max-channels a 530 at
 * channel.open. WARREN_TEST_REFERENCE runs the same bodies against RabbitMQ.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import amqp from 'amqplib';
import { api, apiOk, connect, startTarget, uniqueName, type Target } from './management-support.js';

describe('limits', () => {
  let target: Target;
  let vhost: string;
  let user: string;
  before(async () => {
    target = await startTarget();
    vhost = uniqueName('limits-vh');
    user = uniqueName('limits-user');
    await apiOk(target, 'PUT', `/api/vhosts/${vhost}`, {});
    await apiOk(target, 'PUT', `/api/users/${user}`, { password: 'pw', tags: '' });
    await apiOk(target, 'PUT', `/api/permissions/${vhost}/${user}`, { configure: '.*', write: '.*', read: '.*' });
  });
  after(async () => {
    await api(target, 'DELETE', `/api/vhosts/${vhost}`);
    await api(target, 'DELETE', `/api/users/${user}`);
    await target.close();
  });

  test('vhost limits: API shape and 400 reasons', async () => {
    assert.equal((await api(target, 'PUT', `/api/vhost-limits/${vhost}/max-queues`, { value: 'a' })).body.reason,
      'Validation failed\n\nmax-queues should be a number, actually was <<"a">>\n');
    assert.equal((await api(target, 'PUT', `/api/vhost-limits/${vhost}/max-foo`, { value: 3 })).body.reason,
      'Validation failed\n\nUnrecognised terms [{<<"max-foo">>,3}] in limits\n');
    assert.equal((await api(target, 'PUT', `/api/vhost-limits/${vhost}/max-queues`, {})).body.reason, '[{key_missing,value}]');
    assert.equal((await api(target, 'PUT', `/api/vhost-limits/${vhost}/max-connections`, { value: -1 })).status, 204);
    assert.deepEqual((await apiOk(target, 'GET', `/api/vhost-limits/${vhost}`)).body, [{ vhost, value: { 'max-connections': -1 } }]);
    assert.equal((await api(target, 'DELETE', `/api/vhost-limits/${vhost}/max-connections`)).status, 204);
    assert.deepEqual((await apiOk(target, 'GET', `/api/vhost-limits/${vhost}`)).body, []);
  });

  test('max-queues: 406 with RabbitMQ\'s text once the vhost holds that many queues', async () => {
    await apiOk(target, 'PUT', `/api/vhost-limits/${vhost}/max-queues`, { value: 1 });
    const conn = await connect(target.amqpUrl(user, 'pw', vhost));
    const ch = await conn.createChannel();
    ch.on('error', () => {});
    await ch.assertQueue('lq1', { durable: false });
    await assert.rejects(ch.assertQueue('lq2', { durable: false }), (e: Error) =>
      e.message.includes(`406 (PRECONDITION-FAILED) with message "PRECONDITION_FAILED - cannot declare queue 'lq2': queue limit in vhost '${vhost}' (1) is reached"`));
    await conn.close();
    await apiOk(target, 'DELETE', `/api/vhost-limits/${vhost}/max-queues`);
  });

  test('vhost max-connections: 530 at connection.open', async () => {
    await apiOk(target, 'PUT', `/api/vhost-limits/${vhost}/max-connections`, { value: 1 });
    const first = await connect(target.amqpUrl(user, 'pw', vhost));
    await assert.rejects(amqp.connect(target.amqpUrl(user, 'pw', vhost)), /ConnectionClose|530|NOT_ALLOWED/);
    await first.close();
    const again = await connect(target.amqpUrl(user, 'pw', vhost));
    await again.close();
    await apiOk(target, 'DELETE', `/api/vhost-limits/${vhost}/max-connections`);
  });

  test('user limits: API, max-connections at connection.open, max-channels closes the connection with 530', async () => {
    assert.equal((await api(target, 'PUT', `/api/user-limits/${user}/max-foo`, { value: 2 })).body.reason,
      'Unrecognised terms [{<<"max-foo">>,2}] in user-limits');
    assert.deepEqual((await api(target, 'PUT', '/api/user-limits/no-such-user-x/max-channels', { value: 2 })).body.reason, ['no_such_user', 'no-such-user-x']);
    await apiOk(target, 'PUT', `/api/user-limits/${user}/max-connections`, { value: 1 });
    assert.deepEqual((await apiOk(target, 'GET', `/api/user-limits/${user}`)).body, [{ user, value: { 'max-connections': 1 } }]);
    const first = await connect(target.amqpUrl(user, 'pw', vhost));
    await assert.rejects(amqp.connect(target.amqpUrl(user, 'pw', vhost)), /ConnectionClose|530|NOT_ALLOWED/);
    await first.close();
    await apiOk(target, 'DELETE', `/api/user-limits/${user}/max-connections`);
    await apiOk(target, 'PUT', `/api/user-limits/${user}/max-channels`, { value: 1 });
    const conn = await amqp.connect(target.amqpUrl(user, 'pw', vhost));
    const closed = new Promise<Error>((resolve) => conn.on('error', resolve));
    await conn.createChannel();
    conn.createChannel().catch(() => {});
    const e = await closed;
    assert.match(e.message, new RegExp(`530 \\(NOT-ALLOWED\\) with message "NOT_ALLOWED - number of channels opened for user '${user}' has reached the maximum allowed user limit of \\(1\\)"`));
    await apiOk(target, 'DELETE', `/api/user-limits/${user}/max-channels`);
  });
});
