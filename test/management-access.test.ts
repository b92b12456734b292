/**
 * Who may do what in the management API, by user tag: RabbitMQ's statuses and reasons for users
 * with no tag, management, policymaker, monitoring and administrator, with and without
 * permissions in the vhost. Also passes against RabbitMQ 3.10 (WARREN_TEST_REFERENCE).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { api, apiOk, connect, eventually, seg, startTarget, uniqueName, type Target } from './management-support.js';

const PREFIX = uniqueName('acc');
const users = {
  none: `${PREFIX}-none`,
  management: `${PREFIX}-management`,
  policymaker: `${PREFIX}-policymaker`,
  monitoring: `${PREFIX}-monitoring`,
  administrator: `${PREFIX}-administrator`,
  /** A management user with permissions in "/". */
  member: `${PREFIX}-member`,
};
const PASSWORD = 'pw';

describe('management API access by user tag', () => {
  let target: Target;
  const as = (user: string) => ({ user, password: PASSWORD });

  before(async () => {
    target = await startTarget();
    for (const [tag, name] of Object.entries(users)) {
      const tags = tag === 'none' ? '' : tag === 'member' ? 'management' : tag;
      await apiOk(target, 'PUT', `/api/users/${seg(name)}`, { password: PASSWORD, tags });
    }
    await apiOk(target, 'PUT', `/api/permissions/%2F/${seg(users.member)}`, { configure: '.*', write: '.*', read: '.*' });
  });

  after(async () => {
    for (const name of Object.values(users)) await api(target, 'DELETE', `/api/users/${seg(name)}`);
    await target.close();
  });

  test('no credentials: a bare 401 challenge with the RabbitMQ realm (LWP-based tools need it)', async () => {
    const a = await api(target, 'GET', '/api/overview', undefined, null);
    assert.equal(a.status, 401);
    assert.equal(a.body, '');
    assert.equal(a.headers.get('www-authenticate'), 'Basic realm="RabbitMQ Management"');
  });

  test('an unreadable Authorization header is a bad request (400, empty body, no challenge); another scheme a failed login', async () => {
    const get = (authorization: string) => fetch(`${target.managementUrl}/api/overview`, { headers: { authorization } });
    const guest = Buffer.from('guest:guest').toString('base64');
    for (const authorization of ['', 'Basic', 'Basic !!!not-base64', `Basic ${Buffer.from('guest').toString('base64')}`, `Basic ${guest.replace(/=+$/, '')}`]) {
      const r = await get(authorization);
      assert.equal(r.status, 400, JSON.stringify(authorization));
      assert.equal(await r.text(), '');
      assert.equal(r.headers.get('www-authenticate'), null);
    }
    const bearer = await get('Bearer some-token');
    assert.equal(bearer.status, 401);
    assert.deepEqual(await bearer.json(), { error: 'not_authorized', reason: 'Login failed' });
    // The scheme's case does not matter.
    assert.equal((await get(`basic ${guest}`)).status, 200);
  });

  test('wrong credentials: 401 not_authorized, Login failed', async () => {
    for (const auth of [{ user: 'guest', password: 'nope' }, { user: 'nobody-here', password: 'x' }]) {
      const a = await api(target, 'GET', '/api/overview', undefined, auth);
      assert.equal(a.status, 401);
      assert.deepEqual(a.body, { error: 'not_authorized', reason: 'Login failed' });
      assert.equal(a.headers.get('www-authenticate'), 'Basic realm="RabbitMQ Management"');
    }
  });

  test('a user without a management tag may do nothing', async () => {
    for (const path of ['/api/overview', '/api/whoami', '/api/queues', '/api/vhosts', '/api/health/checks/alarms']) {
      const a = await api(target, 'GET', path, undefined, as(users.none));
      assert.equal(a.status, 401, path);
      assert.deepEqual(a.body, { error: 'not_authorised', reason: 'Not management user' });
    }
  });

  test('whoami answers each user with their tags', async () => {
    for (const tag of ['management', 'policymaker', 'monitoring', 'administrator'] as const) {
      const a = await apiOk(target, 'GET', '/api/whoami', undefined);
      assert.equal(a.body.name, 'guest');
      const me = await api(target, 'GET', '/api/whoami', undefined, as(users[tag]));
      assert.equal(me.status, 200);
      assert.deepEqual(me.body, { name: users[tag], tags: [tag] });
    }
  });

  test('administrator-only endpoints refuse the other tags', async () => {
    const adminOnly = ['/api/users', '/api/users/guest', '/api/permissions', '/api/definitions', '/api/vhosts/%2F', '/api/permissions/%2F/guest', '/api/topic-permissions'];
    for (const tag of ['management', 'policymaker', 'monitoring'] as const) {
      for (const path of adminOnly) {
        const a = await api(target, 'GET', path, undefined, as(users[tag]));
        assert.equal(a.status, 401, `${tag} ${path}`);
        assert.deepEqual(a.body, { error: 'not_authorised', reason: 'Not administrator user' });
      }
    }
    const put = await api(target, 'PUT', `/api/users/${seg(PREFIX)}-x`, { password: 'x', tags: '' }, as(users.monitoring));
    assert.equal(put.status, 401);
    for (const path of ['/api/users', '/api/definitions', '/api/vhosts/%2F']) {
      assert.equal((await api(target, 'GET', path, undefined, as(users.administrator))).status, 200, path);
    }
  });

  test('nodes need monitoring (or administrator)', async () => {
    for (const tag of ['management', 'policymaker'] as const) {
      const a = await api(target, 'GET', '/api/nodes', undefined, as(users[tag]));
      assert.equal(a.status, 401);
      assert.deepEqual(a.body, { error: 'not_authorised', reason: 'Not monitor user' });
    }
    assert.equal((await api(target, 'GET', '/api/nodes', undefined, as(users.monitoring))).status, 200);
    assert.equal((await api(target, 'GET', '/api/nodes', undefined, as(users.administrator))).status, 200);
  });

  test('vhost-scoped resources need permissions in the vhost (administrators read everything)', async () => {
    const paths = ['/api/queues/%2F', '/api/exchanges/%2F/amq.direct', '/api/aliveness-test/%2F'];
    for (const tag of ['management', 'policymaker', 'monitoring'] as const) {
      for (const path of paths) {
        const a = await api(target, 'GET', path, undefined, as(users[tag]));
        assert.equal(a.status, 401, `${tag} ${path}`);
        assert.deepEqual(a.body, { error: 'not_authorised', reason: 'User not authorised to access virtual host' });
      }
    }
    assert.equal((await api(target, 'GET', '/api/exchanges/%2F/amq.direct', undefined, as(users.member))).status, 200);
    assert.deepEqual((await api(target, 'GET', '/api/aliveness-test/%2F', undefined, as(users.member))).body, { status: 'ok' });
    assert.equal((await api(target, 'GET', '/api/queues/%2F', undefined, as(users.administrator))).status, 200);
    // Administrators without permissions read, but an operation as a client is refused.
    const alive = await api(target, 'GET', '/api/aliveness-test/%2F', undefined, as(users.administrator));
    assert.equal(alive.status, 401);
    assert.deepEqual(alive.body, { error: 'not_authorised', reason: 'Access refused.' });
  });

  test('lists show what the user may see', async () => {
    const names = (a: { body: { name: string }[] }) => a.body.map((x) => x.name);
    // vhosts: monitoring sees every one; management and policymaker only those they have permissions in.
    assert.deepEqual(names(await api(target, 'GET', '/api/vhosts', undefined, as(users.policymaker))), []);
    assert.ok(names(await api(target, 'GET', '/api/vhosts', undefined, as(users.monitoring))).includes('/'));
    assert.deepEqual(names(await api(target, 'GET', '/api/vhosts', undefined, as(users.member))), ['/']);
    // queues, exchanges, bindings: only vhosts with permissions, monitoring included.
    for (const path of ['/api/queues', '/api/exchanges', '/api/bindings']) {
      assert.deepEqual((await api(target, 'GET', path, undefined, as(users.monitoring))).body, [], path);
    }
    assert.ok(((await api(target, 'GET', '/api/exchanges', undefined, as(users.member))).body as unknown[]).length >= 5);
  });

  test('connections: own ones for management users, all for monitoring', async () => {
    const c = await connect(target.amqpUrl(users.member, PASSWORD));
    try {
      // RabbitMQ lists a connection once its stats are emitted (within 5 s); Warren at once.
      let mine: { body: { user: string }[] } = { body: [] };
      await eventually(async () => (mine = await api(target, 'GET', '/api/connections', undefined, as(users.member))).body.length > 0, 10_000);
      assert.deepEqual(mine.body.map((x) => x.user), [users.member]);
      const other = await api(target, 'GET', '/api/connections', undefined, as(users.management));
      assert.deepEqual(other.body, []);
      const monitor = await api(target, 'GET', '/api/connections', undefined, as(users.monitoring));
      assert.ok(monitor.body.some((x: { user: string }) => x.user === users.member));
    } finally {
      await c.close();
    }
  });

  test('operations through the API use the AMQP permissions', async () => {
    await apiOk(target, 'PUT', `/api/permissions/%2F/${seg(users.member)}`, { configure: '^$', write: '.*', read: '^$' });
    try {
      const declare = await api(target, 'PUT', `/api/queues/%2F/${seg(PREFIX)}-q`, {}, as(users.member));
      assert.equal(declare.status, 401);
      assert.equal(declare.body.error, 'not_authorised');
      const get = await api(target, 'POST', '/api/queues/%2F/aliveness-test/get', { count: 1, ackmode: 'ack_requeue_true', encoding: 'auto' }, as(users.member));
      assert.equal(get.status, 401);
      assert.deepEqual(get.body, {
        error: 'not_authorised',
        reason: `ACCESS_REFUSED - access to queue 'aliveness-test' in vhost '/' refused for user '${users.member}'`,
      });
      const publish = await api(target, 'POST', '/api/exchanges/%2F/amq.direct/publish', { properties: {}, routing_key: 'x', payload: 'x', payload_encoding: 'string' }, as(users.member));
      assert.deepEqual(publish.body, { routed: false });
    } finally {
      await apiOk(target, 'PUT', `/api/permissions/%2F/${seg(users.member)}`, { configure: '.*', write: '.*', read: '.*' });
    }
  });
});
