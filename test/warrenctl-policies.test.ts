/**
 * warrenctl's policy and limit commands, run as the real CLI: rabbitmqctl's banners, tables and
 * exit codes (outputs compared with rabbitmqctl 3.10.8's).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { apiOk } from './management-support.js';
import { warrenctlFixture } from './support/warrenctl.js';

describe('warrenctl policies and limits', () => {
  const fixture = warrenctlFixture();
  const { ctl, ok } = fixture;

  test('set_policy, list_policies, clear_policy', async () => {
    assert.equal(await ok('set_policy', '--priority', '2', '--apply-to', 'queues', 'pp', '^x', '{"max-length":3}'),
      'Setting policy "pp" for pattern "^x" to "{"max-length":3}" with priority "2" for vhost "/" ...\n');
    assert.equal(await ok('list_policies'),
      'Listing policies for vhost "/" ...\nvhost\tname\tpattern\tapply-to\tdefinition\tpriority\n/\tpp\t^x\tqueues\t{"max-length":3}\t2\n');
    const bad = await ctl('set_policy', 'pq', '^x', '{"max-length":"a"}');
    assert.equal(bad.code, 69);
    assert.equal(bad.stderr, 'Error:\nValidation failed\n\n<<"a">> is not a valid maximum length\n\n');
    assert.equal((await ctl('set_policy', 'pq', '^x', 'notjson')).stderr, 'Error:\nJSON decoding error. Reason: badarg\n');
    assert.equal(await ok('clear_policy', 'pp'), 'Clearing policy "pp" on vhost "/" ...\n');
    const again = await ctl('clear_policy', 'pp');
    assert.equal(again.code, 69);
    assert.equal(again.stderr, 'Error:\nParameter does not exist\n');
  });

  test('operator policies', async () => {
    assert.equal(await ok('set_operator_policy', '--apply-to', 'queues', 'op', '^x', '{"max-length":3}'),
      'Setting operator policy override "op" for pattern "^x" to "{"max-length":3}" with priority "0" for vhost "/" ...\n');
    assert.equal(await ok('list_operator_policies', '-q', '--formatter', 'json'),
      '[\n{"vhost":"/","name":"op","pattern":"^x","apply-to":"queues","definition":"{\\"max-length\\":3}","priority":0}\n]\n');
    const refused = await ctl('set_operator_policy', 'op2', '^x', '{"dead-letter-exchange":"d"}');
    assert.equal(refused.code, 69);
    assert.match(refused.stderr, /are not recognised policy settings/);
    assert.equal(await ok('clear_operator_policy', 'op'), 'Clearing operator policy "op" on vhost "/" ...\n');
  });

  test('vhost and user limits', async () => {
    assert.equal(await ok('set_vhost_limits', '{"max-queues":5}'), 'Setting vhost limits to "{"max-queues":5}" for vhost "/" ...\n');
    assert.equal(await ok('list_vhost_limits'), 'Listing limits for vhost "/" ...\n{"max-queues":5}\n');
    assert.equal(await ok('list_vhost_limits', '--global'), 'Listing limits for all vhosts ...\nvhost\tlimits\n/\t{"max-queues":5}\n');
    assert.equal(await ok('clear_vhost_limits'), 'Clearing vhost "/" limits ...\n');
    assert.deepEqual((await apiOk(fixture.target, 'GET', '/api/vhost-limits')).body, []);
    const bad = await ctl('set_vhost_limits', '{"max-foo":5}');
    assert.equal(bad.code, 69);
    assert.equal(bad.stderr, 'Error:\nValidation failed\n\nUnrecognised terms [{<<"max-foo">>,5}] in limits\n\n');
    assert.equal(await ok('set_user_limits', 'guest', '{"max-channels":5}'), 'Setting user limits to "{"max-channels":5}" for user "guest" ...\n');
    assert.equal(await ok('list_user_limits', '--user', 'guest'), 'Listing limits for user "guest" ...\n{"max-channels":5}\n');
    assert.equal(await ok('clear_user_limits', 'guest', 'max-channels'), 'Clearing "max-channels" limit for user "guest" ...\n');
    assert.deepEqual((await apiOk(fixture.target, 'GET', '/api/user-limits')).body, []);
  });
});
