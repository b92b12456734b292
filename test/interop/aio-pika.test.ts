// Cross-client suite, aio-pika over aiormq (python3-aio-pika): asyncio programs from
// test/interop/aio-pika/ run against a real broker; the tests assert on what they printed.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import {
  runPython, PythonProcess, pythonModuleVersion, theEvent, eventsNamed, explain, interopDir,
} from './pika/support/python.js';
import { amqpUrl } from './pika/support/broker.js';
import { targetBrokerForSuite } from './pika/support/suite.js';
import { managementAdmin } from './pika/support/admin.js';
import { assertSucceeded, uniqueName } from './pika/support/scenario.js';

describe(`aio-pika ${pythonModuleVersion('aio_pika')} (aiormq ${pythonModuleVersion('aiormq')})`, () => {
  const broker = targetBrokerForSuite();

  const run = (script: string, args: string[] = [], env: Record<string, string> = {}) =>
    runPython(path.join('aio-pika', script), args, { env: { AMQP_URL: broker.url, ...env }, timeoutMs: 60_000 });

  test('async declare, bind, publish with properties, consume with manual ack and prefetch', async () => {
    const result = await run('basics.py');
    assertSucceeded(result);
    assert.equal(theEvent(result, 'confirmed').acks, 10);
    assert.deepEqual(theEvent(result, 'get'), { event: 'get', body: 'event-0', redelivered: false, message_count: 9 });
    assert.equal(theEvent(result, 'window-full').unacked, 4, 'prefetch_count=4 caps unacked deliveries');
    const consumed = theEvent(result, 'consumed');
    assert.deepEqual(consumed.bodies, Array.from({ length: 10 }, (_, i) => `event-${i}`));
    assert.deepEqual(consumed.redelivered, [true, ...Array(9).fill(false)], 'the rejected-and-requeued one is redelivered');
    assert.equal(consumed.routing_key, 'events.created');
    assert.equal(consumed.exchange, theEvent(result, 'declared').exchange);
    assert.deepEqual(consumed.properties, {
      content_type: 'text/plain',
      headers: { meta: { source: 'aio-pika', tags: ['x', 'y'] }, seq: 0 },
      correlation_id: 'corr-0',
      message_id: 'id-0',
      priority: 0,
      timestamp: '2024-01-01T00:00:00',
      app_id: 'aio-interop',
      type: 'event',
      delivery_mode: 2,
    });
    assert.equal(theEvent(result, 'after-drain').message_count, 0);
  });

  test('publisher confirms: acks, returned unroutable (PublishError), nack (DeliveryError), 404', async () => {
    const result = await run('confirms.py');
    assertSucceeded(result);
    assert.deepEqual(theEvent(result, 'acked'), { event: 'acked', acks: 200, depth: 200 });
    assert.deepEqual(theEvent(result, 'unroutable'), {
      event: 'unroutable',
      raised: 'PublishError',
      reply_code: 312,
      reply_text: 'NO_ROUTE',
      body: 'lost',
    });
    assert.deepEqual(theEvent(result, 'overflow'), { event: 'overflow', raised: 'DeliveryError', frame: 'Nack' });
    const missing = theEvent(result, 'missing-exchange');
    assert.equal(missing.error, 'aiormq.exceptions.ChannelNotFoundEntity');
    assert.equal(missing.reply_text, `NOT_FOUND - no exchange '${missing.exchange}' in vhost '/'`);
  });

  test('RPC: aio_pika.patterns.RPC (results, remote error, returned call, expiry via DLX) and by hand', async () => {
    const result = await run('rpc.py');
    assertSucceeded(result);
    assert.deepEqual(theEvent(result, 'pattern-results').values, Array.from({ length: 10 }, (_, i) => i * 7));
    assert.deepEqual(theEvent(result, 'pattern-remote-error'), {
      event: 'pattern-remote-error',
      raised: 'ValueError',
      message: 'remote failure',
    });
    assert.deepEqual(theEvent(result, 'pattern-unroutable'), {
      event: 'pattern-unroutable',
      raised: 'MessageProcessError',
      message: 'Message has been returned',
    });
    assert.deepEqual(
      theEvent(result, 'pattern-expired'),
      { event: 'pattern-expired', raised: 'TimeoutError', dead_lettered: true },
      'an expired call must be dead-lettered (x-dead-letter-exchange → headers exchange rpc.dlx) back to the caller',
    );
    const manual = theEvent(result, 'manual-results');
    assert.match(String(manual.reply_queue), /^amq\.gen-/);
    assert.deepEqual(manual.answers, ['ALPHA', 'BETA', 'GAMMA', 'DELTA']);
  });

  test('errors as aiormq reports them (404, 406, 403, bad login, missing vhost)', async () => {
    const result = await run('errors.py');
    assertSucceeded(result);
    const cases = new Map(eventsNamed(result, 'case').map((e) => [e.case as string, e]));
    const expectCase = (name: string, error: string, text: RegExp, code: number | null = null) => {
      const e = cases.get(name);
      assert.ok(e, `case ${name} missing\n${explain(result)}`);
      assert.equal(e.error, error, `${name}: exception class`);
      assert.equal(e.reply_code, code, `${name}: reply code`);
      assert.match(String(e.reply_text), text, `${name}: reply text`);
      if ('channel_closed' in e) assert.equal(e.channel_closed, true, `${name}: channel closed`);
    };
    const id = '[0-9a-f]+';
    const noExchange = new RegExp(`^NOT_FOUND - no exchange 'no-such-exchange-${id}' in vhost '/'$`);
    expectCase('passive-missing-exchange', 'aiormq.exceptions.ChannelNotFoundEntity', noExchange);
    expectCase('passive-missing-queue', 'aiormq.exceptions.ChannelNotFoundEntity',
      new RegExp(`^NOT_FOUND - no queue 'no-such-queue-${id}' in vhost '/'$`));
    expectCase('bind-missing-exchange', 'aiormq.exceptions.ChannelNotFoundEntity', noExchange);
    expectCase('inequivalent-type', 'aiormq.exceptions.ChannelPreconditionFailed',
      new RegExp(`^PRECONDITION_FAILED - inequivalent arg 'type' for exchange 'aio-err-x-${id}' in vhost '/': received 'fanout' but current is 'direct'$`));
    expectCase('reserved-prefix', 'aiormq.exceptions.ChannelAccessRefused',
      new RegExp(`^ACCESS_REFUSED - exchange name 'amq.custom-x-${id}' contains reserved prefix 'amq\\.\\*'$`));
    assert.equal(theEvent(result, 'connection').open, true, 'channel errors leave the connection open');
    expectCase('wrong-password', 'aiormq.exceptions.ProbableAuthenticationError',
      /^ACCESS_REFUSED - Login was refused using authentication mechanism PLAIN/);
    expectCase('missing-vhost', 'pamqp.exceptions.AMQPInternalError',
      new RegExp(`^NOT_ALLOWED - vhost no-such-vhost-${id} not found$`), 530);
  });

  test('non-default vhost and user', async () => {
    const admin = managementAdmin(broker.managementUrl);
    const vhost = uniqueName('aio-vhost');
    const user = uniqueName('aio-user');
    const password = 'pw-' + uniqueName('a');
    try {
      await admin.createVhost(vhost);
      await admin.createUser(user, password);
      await admin.setPermissions(vhost, user);
      const result = await run('vhost_user.py', [], { AMQP_URL: amqpUrl(broker.host, broker.amqpPort, user, password, vhost) });
      assertSucceeded(result);
      const connected = theEvent(result, 'connected');
      assert.equal(connected.user, user);
      assert.equal(connected.vhost, vhost);
      assert.deepEqual(theEvent(result, 'round-trip'), { event: 'round-trip', body: 'in the vhost', app_id: 'aio-vhost' });
    } finally {
      await admin.deleteVhost(vhost).catch(() => {});
      await admin.deleteUser(user).catch(() => {});
    }
  });

  test('connect_robust reconnects after a broker restart and gets its persisted message', async (t) => {
    if (!broker.canRestart) {
      t.skip('the external broker (WARREN_TEST_AMQP_URL) cannot be restarted');
      return;
    }
    const client = new PythonProcess([path.join(interopDir, 'aio-pika', 'robust.py'), uniqueName('aio-robust')], {
      env: { AMQP_URL: broker.url },
    });
    try {
      await client.waitForEvent('ready');
      await broker.restart();
      const result = await client.wait(45_000);
      assertSucceeded(result);
      assert.equal(eventsNamed(result, 'reconnected').length, 1);
      assert.deepEqual(theEvent(result, 'received').bodies, ['before-restart', 'after-restart']);
    } finally {
      await client.stop();
    }
  });
});
