// Cross-client suite, Python pika (python3-pika): one test per scenario, each running a small pika
// program from test/interop/pika/ against a real broker and asserting on what it printed.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { access } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import {
  runPython, PythonProcess, pythonModuleVersion, theEvent, eventsNamed, explain, interopDir,
  type Event,
} from './pika/support/python.js';
import { amqpUrl } from './pika/support/broker.js';
import { targetBrokerForSuite } from './pika/support/suite.js';
import { managementAdmin } from './pika/support/admin.js';
import { assertSucceeded, uniqueName } from './pika/support/scenario.js';

const execFileAsync = promisify(execFile);

describe(`pika ${pythonModuleVersion('pika')}`, () => {
  const broker = targetBrokerForSuite();

  const run = (script: string, args: string[] = [], env: Record<string, string> = {}, timeoutMs = 60_000) =>
    runPython(path.join('pika', script), args, { env: { AMQP_URL: broker.url, ...env }, timeoutMs });

  test('connect, declare, bind, publish with properties, consume with manual ack and prefetch', async () => {
    const result = await run('basics.py');
    assertSucceeded(result);
    const declared = theEvent(result, 'queue-declared');
    assert.equal(declared.message_count, 0);
    assert.equal(declared.consumer_count, 0);
    assert.equal(theEvent(result, 'window-full').unacked, 3, 'prefetch_count=3 must cap unacked deliveries at 3');
    assert.equal(theEvent(result, 'after-one-ack').delivered, 4, 'one ack must free exactly one slot');
    const consumed = theEvent(result, 'consumed');
    assert.deepEqual(consumed.bodies, Array.from({ length: 10 }, (_, i) => `msg-${i}`));
    assert.deepEqual(consumed.delivery_tags, Array.from({ length: 10 }, (_, i) => i + 1));
    assert.ok((consumed.redelivered as boolean[]).every((r) => r === false));
    assert.equal(consumed.consumer_tag_matches, true);
    assert.equal(consumed.routing_key, 'task');
    assert.equal(consumed.content_type, 'text/plain');
    assert.deepEqual(consumed.message_ids, Array.from({ length: 10 }, (_, i) => `id-${i}`));
    assert.deepEqual(consumed.headers, Array.from({ length: 10 }, (_, i) => ({ seq: i })));
    assert.deepEqual(theEvent(result, 'after-drain'), { event: 'after-drain', message_count: 0, consumer_count: 0 });
  });

  test('retry pattern: reject -> DLX -> wait queue with TTL -> back to the work queue, x-death counting the rounds', async () => {
    const result = await run('retry_dlx.py');
    assertSucceeded(result);
    const r = theEvent(result, 'rounds');
    assert.equal(r.body, 'job-1');
    assert.deepEqual(r.rounds, [0, 1, 2, 3].map((n) => ({ rejected: n, expired: n, redelivered: false })));
  });

  test('delayed retry: republished through an x-delayed-message exchange with growing x-delay', async () => {
    const result = await run('delayed_retry.py');
    assertSucceeded(result);
    const r = theEvent(result, 'delayed-retry');
    assert.equal(r.done, true);
    const attempts = r.attempts as { attempt: number; waited_ms: number }[];
    assert.deepEqual(attempts.map((a) => a.attempt), [0, 1, 2, 3]);
    // Each retry waited at least its delay (200, 400, 600 ms).
    for (let i = 1; i < 4; i++) assert.ok(attempts[i]!.waited_ms >= 200 * i - 20, JSON.stringify(attempts));
  });

  test('all 14 basic properties round-trip; a foreign user_id is refused', async () => {
    const result = await run('properties.py');
    assertSucceeded(result);
    const expected = {
      content_type: 'application/json',
      content_encoding: 'utf-8',
      headers: { 'x-origin': 'pika', attempt: 1 },
      delivery_mode: 2,
      priority: 7,
      correlation_id: 'corr-42',
      reply_to: 'reply-queue',
      expiration: '600000',
      message_id: 'msg-42',
      timestamp: 1700000000,
      type: 'order.created',
      user_id: 'guest',
      app_id: 'warren-interop',
      cluster_id: 'cluster-a',
    };
    assert.deepEqual(theEvent(result, 'via-get').properties, expected);
    assert.deepEqual(theEvent(result, 'via-consume').properties, expected);
    const bare = theEvent(result, 'bare').properties as Record<string, unknown>;
    assert.deepEqual(Object.values(bare), Array(14).fill(null), 'a message without properties gains none');
    assert.deepEqual(theEvent(result, 'spoofed-user-id'), {
      event: 'spoofed-user-id',
      accepted: false,
      error: 'ChannelClosedByBroker',
      reply_code: 406,
      reply_text: "PRECONDITION_FAILED - user_id property set to 'someone-else' but authenticated user was 'guest'",
    });
  });

  test('headers tables with nested values survive; headers exchange x-match all/any', async () => {
    const result = await run('headers.py');
    assertSucceeded(result);
    const roundTrip = theEvent(result, 'round-trip');
    assert.deepEqual(roundTrip.received, roundTrip.sent);
    const exchange = theEvent(result, 'headers-exchange');
    assert.deepEqual(exchange.all, ['both']);
    assert.deepEqual(exchange.any, ['both', 'format-only']);
  });

  test('a 5 MiB message arrives intact (default and 4 KiB frame_max)', async () => {
    const result = await run('large_message.py');
    assertSucceeded(result);
    const sent = theEvent(result, 'sent');
    assert.deepEqual(eventsNamed(result, 'tuned').map((e) => e.frame_max), [131072, 4096]);
    const received = eventsNamed(result, 'received');
    assert.deepEqual(
      received.map((e) => e.path),
      ['default-frame-max/get', 'default-frame-max/consume', 'frame-max-4096/get', 'frame-max-4096/consume'],
    );
    for (const e of received) {
      assert.equal(e.size, 5 * 1024 * 1024, `${e.path}: size`);
      assert.equal(e.sha256, sent.sha256, `${e.path}: content`);
    }
  });

  test('100 channels on one connection; a channel error closes only its channel', async () => {
    const result = await run('many_channels.py');
    assertSucceeded(result);
    assert.deepEqual(theEvent(result, 'opened'), { event: 'opened', count: 100, distinct_numbers: 100 });
    assert.deepEqual(theEvent(result, 'cross-channel-get').mismatches, []);
    const victim = theEvent(result, 'victim');
    assert.equal(victim.closed, true);
    assert.equal(victim.reply_code, 404);
    assert.deepEqual(theEvent(result, 'survivors'), {
      event: 'survivors',
      open: 99,
      connection_open: true,
      queue0_depth: 99,
    });
  });

  test('heartbeats: broker proposes 60 s, keeps a 1 s connection alive, drops a silent client', async () => {
    const result = await run('heartbeats.py');
    assertSucceeded(result);
    assert.equal(theEvent(result, 'server-proposed').heartbeat, 60);
    assert.equal(theEvent(result, 'negotiated').heartbeat, 1);
    const idle = theEvent(result, 'after-idle');
    assert.equal(idle.open, true);
    // RabbitMQ sends one every timeout/2; over 5 idle seconds at least a few must arrive.
    assert.ok((idle.heartbeats_received as number) >= 3, `broker heartbeats received: ${idle.heartbeats_received}`);
    assert.equal(theEvent(result, 'still-usable').body, 'still alive');
    const silent = theEvent(result, 'silent-client');
    assert.equal(silent.disconnected, true, 'the broker must close a connection that missed its heartbeats');
    // RabbitMQ just closes the socket (no connection.close): pika reports a lost stream.
    assert.equal(silent.error, 'StreamLostError', explain(result));
  });

  test('durability across a broker restart', async (t) => {
    if (!broker.canRestart) {
      t.skip('the external broker (WARREN_TEST_AMQP_URL) cannot be restarted');
      return;
    }
    const name = uniqueName('pika-durable');
    const before = await run('durability.py', ['before', name]);
    assertSucceeded(before);
    assert.equal(theEvent(before, 'acked-before-restart').body, 'persistent-0');
    assert.deepEqual(theEvent(before, 'published'), { event: 'published', durable_depth: 4, transient_depth: 4 });

    await broker.restart();

    const after = await run('durability.py', ['after', name]);
    assertSucceeded(after);
    assert.equal(theEvent(after, 'exchange').exists, true, 'durable exchange');
    const transient = theEvent(after, 'transient-queue');
    assert.equal(transient.exists, false, 'a non-durable queue must not survive a restart');
    assert.equal(transient.reply_code, 404);
    assert.equal(theEvent(after, 'durable-queue').message_count, 3, 'three persistent, unacked messages');
    const headers = (n: number) => ({ n, tags: ['a', { b: true }] });
    assert.deepEqual(theEvent(after, 'messages').messages, [
      ...[1, 2, 3].map((i) => ({
        body: `persistent-${i}`,
        redelivered: false,
        routing_key: `orders.${i}`,
        delivery_mode: 2,
        message_id: `p${i}`,
        content_type: 'text/plain',
        headers: headers(i),
      })),
      {
        body: 'after-restart',
        redelivered: false,
        routing_key: 'orders.after',
        delivery_mode: 2,
        message_id: null,
        content_type: null,
        headers: null,
      },
    ]);
  });

  test('publisher confirms: acks, mandatory returns, reject-publish nacks, 404 closes the channel', async () => {
    const result = await run('confirms.py');
    assertSucceeded(result);
    const acked = theEvent(result, 'acked');
    assert.equal(acked.depth, 200);
    assert.deepEqual(theEvent(result, 'unroutable'), {
      event: 'unroutable',
      raised: 'UnroutableError',
      reply_code: 312,
      reply_text: 'NO_ROUTE',
      body: 'lost',
    });
    assert.equal(theEvent(result, 'unroutable-not-mandatory').acked, true);
    assert.equal(theEvent(result, 'overflow').raised, 'NackError', 'x-overflow=reject-publish must nack');
    assert.equal(theEvent(result, 'overflow-depth').message_count, 1);
    const missing = theEvent(result, 'missing-exchange');
    assert.equal(missing.closed, true);
    assert.equal(missing.error, 'ChannelClosedByBroker');
    assert.equal(missing.reply_code, 404);
    assert.equal(missing.reply_text, `NOT_FOUND - no exchange '${missing.exchange}' in vhost '/'`);
    assert.equal(theEvent(result, 'connection').open, true);
  });

  test('basic.get: get-empty, message_count, requeue sets redelivered, 404 on a missing queue', async () => {
    const result = await run('basic_get.py');
    assertSucceeded(result);
    assert.deepEqual(eventsNamed(result, 'empty').map((e) => e.got_message), [false, false]);
    const gets = eventsNamed(result, 'get');
    assert.deepEqual(
      gets.map((g) => [g.body, g.message_count, g.redelivered, g.delivery_tag, g.message_id]),
      [
        ['m0', 2, false, 1, '0'],
        ['m0', 2, true, 2, '0'],
        ['m1', 1, false, 3, '1'],
        ['m2', 0, false, 4, '2'],
      ],
    );
    assert.ok(gets.every((g) => g.exchange === ''));
    assert.equal(theEvent(result, 'depth').message_count, 0);
    const missing = theEvent(result, 'missing-queue');
    assert.equal(missing.reply_code, 404);
    assert.match(String(missing.reply_text), /^NOT_FOUND - no queue 'no-such-queue-[0-9a-f]+' in vhost '\/'$/);
  });

  test('nack and reject: requeue keeps order and sets redelivered, multiple, requeue=false drops', async () => {
    const result = await run('nack_requeue.py');
    assertSucceeded(result);
    const pass = (name: string) =>
      (theEvent(result, name).deliveries as Array<{ body: string; redelivered: boolean }>).map(
        (d) => `${d.body}${d.redelivered ? '*' : ''}`,
      );
    assert.deepEqual(pass('first-pass'), ['a', 'b', 'c', 'd']);
    assert.deepEqual(pass('after-nack'), ['a*', 'b*', 'c*'], 'requeued in original order, marked redelivered');
    assert.deepEqual(pass('after-single-nack'), ['a*']);
    assert.deepEqual(pass('extra'), []);
    assert.equal(theEvent(result, 'depth').message_count, 0);
  });

  test('idempotent unbind/delete of missing entities; auto-delete queue goes with its last consumer', async () => {
    const result = await run('idempotent.py');
    assertSucceeded(result);
    const outcome = Object.fromEntries(eventsNamed(result, 'case').map((e) => [e.case, e.ok]));
    assert.deepEqual(outcome, {
      'unbind-missing-binding': true,
      'unbind-missing-queue': true,
      'unbind-missing-exchange': true,
      'delete-missing-queue': true,
      'delete-missing-exchange': true,
      'exchange-unbind-missing': true,
      'auto-delete-gone-after-cancel': false,
    }, explain(result));
  });

  async function rpc(extraArgs: string[]): Promise<{ client: Event; served: Event }> {
    const queue = uniqueName('pika-rpc');
    const server = new PythonProcess([path.join(interopDir, 'pika', 'rpc_server.py'), queue, '5'], {
      env: { AMQP_URL: broker.url },
    });
    try {
      await server.waitForEvent('ready');
      const client = await run('rpc_client.py', [queue, '5', ...extraArgs]);
      assertSucceeded(client);
      const served = await server.wait(20_000);
      assertSucceeded(served);
      if (!extraArgs.length) {
        assert.match(String(theEvent(client, 'reply-queue').name), /^amq\.gen-/, 'server-named queue');
      }
      return { client: theEvent(client, 'answers'), served: theEvent(served, 'served') };
    } finally {
      await server.stop();
    }
  }

  test('RPC with reply_to and correlation_id (exclusive server-named reply queue)', async () => {
    const { client, served } = await rpc([]);
    assert.deepEqual(client.bodies, [1, 4, 9, 16, 25]);
    assert.equal(client.all_matched, true);
    assert.equal((served.requests as unknown[]).length, 5);
  });

  test('RPC with direct reply-to (amq.rabbitmq.reply-to)', async () => {
    const { client, served } = await rpc(['--direct-reply-to']);
    assert.deepEqual(client.bodies, [1, 4, 9, 16, 25]);
    assert.equal(client.all_matched, true);
    for (const request of served.requests as Array<{ reply_to: string }>) {
      assert.match(request.reply_to, /^amq\.rabbitmq\.reply-to\../, 'the server sees a per-channel reply address');
    }
  });

  test('errors as pika reports them (404, 406, 403, 405, 503, 530, bad login)', async () => {
    const result = await run('errors.py');
    assertSucceeded(result);
    const cases = new Map(eventsNamed(result, 'case').map((e) => [e.case as string, e]));
    const expectCase = (name: string, error: string, code: number, text: RegExp, connectionOpen?: boolean) => {
      const e = cases.get(name);
      assert.ok(e, `case ${name} missing\n${explain(result)}`);
      assert.equal(e.error, error, `${name}: exception class`);
      assert.equal(e.reply_code, code, `${name}: reply code`);
      assert.match(String(e.reply_text), text, `${name}: reply text`);
      if (connectionOpen !== undefined) assert.equal(e.connection_open, connectionOpen, `${name}: connection open`);
    };
    const id = '[0-9a-f]+';
    const noExchange = new RegExp(`^NOT_FOUND - no exchange 'no-such-exchange-${id}' in vhost '/'$`);
    expectCase('publish-missing-exchange', 'ChannelClosedByBroker', 404, noExchange, true);
    expectCase('passive-missing-exchange', 'ChannelClosedByBroker', 404, noExchange, true);
    expectCase('bind-missing-exchange', 'ChannelClosedByBroker', 404, noExchange, true);
    expectCase('consume-missing-queue', 'ChannelClosedByBroker', 404,
      new RegExp(`^NOT_FOUND - no queue 'no-such-queue-${id}' in vhost '/'$`), true);
    expectCase('inequivalent-durable', 'ChannelClosedByBroker', 406,
      new RegExp(`^PRECONDITION_FAILED - inequivalent arg 'durable' for queue 'pika-err-q-${id}' in vhost '/': received 'true' but current is 'false'$`), true);
    expectCase('reserved-prefix', 'ChannelClosedByBroker', 403,
      new RegExp(`^ACCESS_REFUSED - queue name 'amq.custom-q-${id}' contains reserved prefix 'amq\\.\\*'$`), true);
    expectCase('unknown-delivery-tag', 'ChannelClosedByBroker', 406, /^PRECONDITION_FAILED - unknown delivery tag 99$/, true);
    expectCase('exchange-type-invalid', 'ConnectionClosedByBroker', 503,
      /^COMMAND_INVALID - unknown exchange type 'no-such-type'$/, false);
    expectCase('exclusive-locked', 'ChannelClosedByBroker', 405,
      new RegExp(`^RESOURCE_LOCKED - cannot obtain exclusive access to locked queue 'pika-locked-q-${id}' in vhost '/'`), true);
    const badLogin = /^ACCESS_REFUSED - Login was refused using authentication mechanism PLAIN/;
    expectCase('wrong-password', 'ProbableAuthenticationError', 403, badLogin);
    expectCase('unknown-user', 'ProbableAuthenticationError', 403, badLogin);
    expectCase('missing-vhost', 'ProbableAccessDeniedError', 530,
      new RegExp(`^NOT_ALLOWED - vhost no-such-vhost-${id} not found$`));
  });

  test('non-default vhost and user (management API), with permissions enforced', async () => {
    const admin = managementAdmin(broker.managementUrl);
    const vhost = uniqueName('pika-vhost');
    const user = uniqueName('pika-user');
    const password = 's3cret-' + uniqueName('pw');
    try {
      await admin.createVhost(vhost);
      await admin.createUser(user, password);
      await admin.setPermissions(vhost, user, { configure: '^allowed-.*', write: '.*', read: '.*' });
      const result = await run('vhost_user.py', [], {
        AMQP_URL: amqpUrl(broker.host, broker.amqpPort, user, password, vhost),
        GUEST_URL: broker.url,
        CONFIGURE_PREFIX: 'allowed-',
        NO_ACCESS_VHOST: '/',
      });
      assertSucceeded(result);
      assert.deepEqual(
        { user: theEvent(result, 'connected').user, vhost: theEvent(result, 'connected').vhost },
        { user, vhost },
      );
      const roundTrip = theEvent(result, 'round-trip');
      assert.equal(roundTrip.body, 'in the vhost');
      assert.deepEqual(roundTrip.headers, { vhost });
      const isolation = theEvent(result, 'isolation');
      assert.equal(isolation.visible_from_default_vhost, false);
      assert.equal(isolation.reply_code, 404);
      const outside = theEvent(result, 'outside-prefix');
      assert.equal(outside.reply_code, 403);
      assert.match(String(outside.reply_text),
        new RegExp(`^ACCESS_REFUSED - access to queue 'forbidden-q-[0-9a-f]+' in vhost '${vhost}' refused for user '${user}'$`));
      const noAccess = theEvent(result, 'no-access-vhost');
      assert.equal(noAccess.error, 'ProbableAccessDeniedError');
      assert.equal(noAccess.reply_code, 530);
      assert.equal(noAccess.reply_text, `NOT_ALLOWED - access to vhost '/' refused for user '${user}'`);
    } finally {
      await admin.deleteVhost(vhost).catch(() => {});
      await admin.deleteUser(user).catch(() => {});
    }
  });

  test('PlainCredentials with a user made by warrenctl', async () => {
    const warrenctl = path.resolve(interopDir, '..', '..', 'dist', 'src', 'cli', 'warrenctl.js');
    await access(warrenctl).catch(() => assert.fail(`warrenctl is not built yet: ${warrenctl} does not exist`));
    const mgmt = new URL(broker.managementUrl);
    const env = { ...process.env, WARREN_MANAGEMENT_URL: `${mgmt.protocol}//guest:guest@${mgmt.host}` };
    const ctl = async (...args: string[]) => {
      try {
        return await execFileAsync(process.execPath, [warrenctl, ...args], { env, timeout: 20_000 });
      } catch (err) {
        assert.fail(`warrenctl ${args.join(' ')} failed: ${String(err)}`);
      }
    };
    const vhost = uniqueName('pika-ctl-vhost');
    const user = uniqueName('pika-ctl-user');
    const password = 'pw-' + uniqueName('ctl');
    try {
      await ctl('add_vhost', vhost);
      await ctl('add_user', user, password);
      await ctl('set_permissions', '-p', vhost, user, '.*', '.*', '.*');
      const result = await run('vhost_user.py', [], { AMQP_URL: amqpUrl(broker.host, broker.amqpPort, user, password, vhost) });
      assertSucceeded(result);
      assert.equal(theEvent(result, 'connected').user, user);
      assert.equal(theEvent(result, 'round-trip').body, 'in the vhost');
    } finally {
      const admin = managementAdmin(broker.managementUrl);
      await admin.deleteVhost(vhost).catch(() => {});
      await admin.deleteUser(user).catch(() => {});
    }
  });
});
