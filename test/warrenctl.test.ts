/**
 * warrenctl, run as the real CLI against an in-process broker: every command, rabbitmqctl's
 * tab-separated output (with --formatter json, -q, -s), and its exit codes on errors.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { api, apiOk, connect, runWarrenctl } from './management-support.js';
import { freePort } from './support/free-port.js';
import { warrenctlFixture } from './support/warrenctl.js';

describe('warrenctl', () => {
  const fixture = warrenctlFixture();
  const { ctl, ok } = fixture;
  const tmp = mkdtempSync(join(tmpdir(), 'warrenctl-test-'));
  after(() => rmSync(tmp, { recursive: true, force: true }));

  describe('users', () => {
    test('add_user, then again: exit 70 "already exists"', async () => {
      assert.equal(await ok('add_user', 'ctl-ann', 'pw1'), `Adding user "ctl-ann" ...\nDone. Don't forget to grant the user permissions to some virtual hosts! See 'warrenctl help set_permissions' to learn more.\n`);
      const again = await ctl('add_user', 'ctl-ann', 'pw1');
      assert.equal(again.code, 70);
      assert.equal(again.stderr, 'Error:\nUser "ctl-ann" already exists\n');
    });

    test('list_users: table, quiet, silent, json', async () => {
      assert.equal(await ok('list_users'), 'Listing users ...\nuser\ttags\nguest\t[administrator]\nctl-ann\t[]\n');
      assert.equal(await ok('list_users', '-q'), 'user\ttags\nguest\t[administrator]\nctl-ann\t[]\n');
      assert.equal(await ok('-s', 'list_users'), 'guest\t[administrator]\nctl-ann\t[]\n');
      assert.equal(await ok('list_users', '--formatter', 'json'), '[\n{"user":"guest","tags":["administrator"]}\n,{"user":"ctl-ann","tags":[]}\n]\n');
    });

    test('set_user_tags keeps the password; authenticate_user checks it', async () => {
      assert.equal(await ok('set_user_tags', 'ctl-ann', 'monitoring', 'policymaker'), 'Setting tags for user "ctl-ann" to [monitoring, policymaker] ...\n');
      assert.deepEqual((await apiOk(fixture.target, 'GET', '/api/users/ctl-ann')).body.tags, ['monitoring', 'policymaker']);
      assert.equal(await ok('authenticate_user', 'ctl-ann', 'pw1'), 'Authenticating user "ctl-ann" ...\nSuccess\n');
      const bad = await ctl('authenticate_user', 'ctl-ann', 'nope');
      assert.equal(bad.code, 65);
      assert.match(bad.stderr, /failed to authenticate user "ctl-ann"/);
    });

    test('change_password and clear_password', async () => {
      await ok('change_password', 'ctl-ann', 'pw2');
      assert.equal((await ctl('authenticate_user', 'ctl-ann', 'pw1')).code, 65);
      assert.equal((await ctl('authenticate_user', 'ctl-ann', 'pw2')).code, 0);
      assert.deepEqual((await apiOk(fixture.target, 'GET', '/api/users/ctl-ann')).body.tags, ['monitoring', 'policymaker'], 'tags kept');
      await ok('clear_password', 'ctl-ann');
      assert.equal((await ctl('authenticate_user', 'ctl-ann', 'pw2')).code, 65);
    });

    test('delete_user, then again: exit 67', async () => {
      assert.equal(await ok('delete_user', 'ctl-ann'), 'Deleting user "ctl-ann" ...\n');
      const again = await ctl('delete_user', 'ctl-ann');
      assert.equal(again.code, 67);
      assert.equal(again.stderr, 'Error:\nUser "ctl-ann" does not exist\n');
      assert.equal((await ctl('change_password', 'ctl-ann', 'x')).code, 67);
      assert.equal((await ctl('set_user_tags', 'ctl-ann', 'x')).code, 67);
    });
  });

  describe('vhosts and permissions', () => {
    test('add_vhost (with a description), list_vhosts; the admin gets no permissions (as rabbitmqctl)', async () => {
      assert.equal(await ok('add_vhost', 'ctl-v', '--description', 'a test vhost'), 'Adding vhost "ctl-v" ...\n');
      assert.equal(await ok('list_vhosts', '-q', 'name', 'description'), 'name\tdescription\n/\tDefault virtual host\nctl-v\ta test vhost\n');
      assert.equal((await api(fixture.target, 'GET', '/api/permissions/ctl-v/guest')).status, 404);
    });

    test('set_permissions, list_permissions, list_user_permissions, clear_permissions', async () => {
      await ok('add_user', 'ctl-bob', 'pw');
      assert.equal(await ok('set_permissions', '-p', 'ctl-v', 'ctl-bob', '^bob-', '.*', '.*'), 'Setting permissions for user "ctl-bob" in vhost "ctl-v" ...\n');
      assert.equal(await ok('list_permissions', '-p', 'ctl-v'), 'Listing permissions for vhost "ctl-v" ...\nuser\tconfigure\twrite\tread\nctl-bob\t^bob-\t.*\t.*\n');
      assert.equal(await ok('list_user_permissions', '-q', 'ctl-bob'), 'vhost\tconfigure\twrite\tread\nctl-v\t^bob-\t.*\t.*\n');
      const c = await connect(fixture.target.amqpUrl('ctl-bob', 'pw', 'ctl-v'));
      await c.close();
      await ok('clear_permissions', '-p', 'ctl-v', 'ctl-bob');
      assert.equal(await ok('list_permissions', '-q', '-p', 'ctl-v'), '\n', 'an empty table is an empty line, as rabbitmqctl prints it');
      await assert.rejects(connect(fixture.target.amqpUrl('ctl-bob', 'pw', 'ctl-v')));
    });

    test('set_permissions errors: unknown user 67, unknown vhost 69, bad regex 69', async () => {
      const noUser = await ctl('set_permissions', '-p', 'ctl-v', 'nobody', '.*', '.*', '.*');
      assert.equal(noUser.code, 67);
      assert.equal(noUser.stderr, 'Error:\nUser nobody does not exist\n');
      const noVhost = await ctl('set_permissions', '-p', 'nowhere', 'ctl-bob', '.*', '.*', '.*');
      assert.equal(noVhost.code, 69);
      assert.equal(noVhost.stderr, 'Error:\nVirtual host nowhere does not exist\n');
      const badRegex = await ctl('set_permissions', '-p', 'ctl-v', 'ctl-bob', '(', '.*', '.*');
      assert.equal(badRegex.code, 69);
      assert.match(badRegex.stderr, /invalid regular expression/);
    });

    test('topic permissions: set, list, list for a user, clear', async () => {
      assert.equal(await ok('set_topic_permissions', '-p', 'ctl-v', 'ctl-bob', 'amq.topic', '^a', '^b'), 'Setting topic permissions on "amq.topic" for user "ctl-bob" in vhost "ctl-v" ...\n');
      assert.equal(await ok('list_topic_permissions', '-q', '-p', 'ctl-v'), 'user\texchange\twrite\tread\nctl-bob\tamq.topic\t^a\t^b\n');
      assert.equal(await ok('list_user_topic_permissions', '-q', 'ctl-bob'), 'vhost\texchange\twrite\tread\nctl-v\tamq.topic\t^a\t^b\n');
      await ok('clear_topic_permissions', '-p', 'ctl-v', 'ctl-bob', 'amq.topic');
      assert.equal(await ok('list_topic_permissions', '-s', '-p', 'ctl-v'), '\n');
    });

    test('delete_vhost, then again: exit 65', async () => {
      assert.equal(await ok('delete_vhost', 'ctl-v'), 'Deleting vhost "ctl-v" ...\n');
      const again = await ctl('delete_vhost', 'ctl-v');
      assert.equal(again.code, 65);
      assert.equal(again.stderr, "Virtual host 'ctl-v' does not exist\n");
      await ok('delete_user', 'ctl-bob');
    });
  });

  describe('queues, exchanges, bindings, connections', () => {
    test('list_queues with columns, list_exchanges, list_bindings', async () => {
      const c = await connect(fixture.target.amqpUrl('guest', 'guest'));
      try {
        const ch = await c.createChannel();
        await ch.assertExchange('ctl-x', 'topic', { durable: true });
        await ch.assertQueue('ctl-q', { durable: true, arguments: { 'x-max-length': 10 } });
        await ch.bindQueue('ctl-q', 'ctl-x', 'a.*');
        ch.sendToQueue('ctl-q', Buffer.from('one'));
        ch.sendToQueue('ctl-q', Buffer.from('two'));
        await ch.checkQueue('ctl-q');
      } finally {
        await c.close();
      }
      assert.equal(await ok('list_queues'), 'Timeout: 60.0 seconds ...\nListing queues for vhost / ...\nname\tmessages\nctl-q\t2\n');
      assert.equal(await ok('list_queues', '-q', 'name', 'durable', 'auto_delete', 'exclusive', 'consumers', 'arguments'), 'name\tdurable\tauto_delete\texclusive\tconsumers\targuments\nctl-q\ttrue\tfalse\tfalse\t0\t[{"x-max-length",10}]\n');
      assert.equal(await ok('list_queues', '-q', '--formatter', 'json', 'name', 'messages_ready', 'memory'), `[\n{"name":"ctl-q","messages_ready":2,"memory":${(await apiOk(fixture.target, 'GET', '/api/queues/%2F/ctl-q')).body.memory}}\n]\n`);
      const unknown = await ctl('list_queues', 'name', 'bogus');
      assert.equal(unknown.code, 64);
      assert.match(unknown.stderr, /Info key\(s\) bogus are not supported/);
      assert.match(await ok('list_exchanges', '-q'), /^name\ttype\n\tdirect\namq\.direct\tdirect\n(.*\n)*ctl-x\ttopic\n/);
      assert.equal(await ok('list_exchanges', '-q', 'name', 'durable', 'internal'), 'name\tdurable\tinternal\n\ttrue\tfalse\namq.direct\ttrue\tfalse\namq.fanout\ttrue\tfalse\namq.topic\ttrue\tfalse\namq.headers\ttrue\tfalse\namq.match\ttrue\tfalse\namq.rabbitmq.trace\ttrue\ttrue\nctl-x\ttrue\tfalse\n');
      assert.equal(await ok('list_bindings', '-q'), 'source_name\tsource_kind\tdestination_name\tdestination_kind\trouting_key\targuments\n\texchange\tctl-q\tqueue\tctl-q\t[]\nctl-x\texchange\tctl-q\tqueue\ta.*\t[]\n');
      assert.deepEqual(await ctl('list_queues', '-p', 'nowhere'), { code: 0, stdout: 'Timeout: 60.0 seconds ...\nListing queues for vhost nowhere ...\n', stderr: '' });
    });

    test('list_connections, list_channels, list_consumers, close_connection', async () => {
      const c = await connect(fixture.target.amqpUrl('guest', 'guest'));
      const closed = new Promise<Error>((resolve) => c.on('close', resolve));
      const ch = await c.createChannel();
      await ch.prefetch(1);
      await ch.consume('ctl-q', () => {}, { consumerTag: 'ctl-consumer' });
      const conns = await ok('list_connections', '-q');
      const [header, row] = conns.trimEnd().split('\n');
      assert.equal(header, 'user\tpeer_host\tpeer_port\tstate');
      assert.match(row!, /^guest\t127\.0\.0\.1\t\d+\trunning$/);
      const name = (await ok('list_connections', '-s', 'name')).trim();
      assert.match(name, /^127\.0\.0\.1:\d+ -> 127\.0\.0\.1:\d+$/);
      let channels = '';
      for (let i = 0; i < 50 && !channels.includes('\t1\n'); i++) channels = await ok('list_channels', '-s');
      assert.equal(channels, `${name} (1)\tguest\t1\t1\n`);
      assert.equal(await ok('list_consumers', '-q'), `queue_name\tchannel_pid\tconsumer_tag\tack_required\tprefetch_count\tactive\targuments\nctl-q\t${name} (1)\tctl-consumer\ttrue\t1\ttrue\t[]\n`);
      assert.equal(await ok('close_connection', name, 'go away'), `Closing connection ${name}, reason: go away...\n`);
      assert.match(String((await closed).message), /CONNECTION_FORCED - go away/);
      assert.equal((await ctl('close_connection', 'no-such', 'x')).code, 69);
    });

    test('purge_queue and delete_queue (with --if-empty)', async () => {
      const notEmpty = await ctl('delete_queue', 'ctl-q', '--if-empty');
      assert.deepEqual(notEmpty, { code: 64, stdout: "Deleting queue 'ctl-q' on vhost '/' if queue is empty ...\n", stderr: 'Error:\nQueue is not empty\n' });
      assert.equal(await ok('purge_queue', 'ctl-q'), "Purging queue 'ctl-q' in vhost '/' ...\n");
      assert.equal(await ok('list_queues', '-s', 'messages'), '0\n');
      assert.equal(await ok('delete_queue', 'ctl-q', '-e'), "Deleting queue 'ctl-q' on vhost '/' if queue is empty ...\nQueue was successfully deleted with 0 ready messages\n");
      assert.deepEqual(await ctl('delete_queue', '-q', 'ctl-q'), { code: 64, stdout: '', stderr: 'Error:\nQueue not found\n' });
      assert.deepEqual(await ctl('purge_queue', '-q', 'ctl-q'), { code: 69, stdout: '', stderr: 'Error:\nnot_found\n' });
    });
  });

  describe('definitions and node', () => {
    test('export_definitions and import_definitions (file and stdin)', async () => {
      const file = join(tmp, 'defs.json');
      await ok('add_user', 'ctl-exported', 'secret');
      assert.equal(await ok('export_definitions', file), `Exporting definitions in JSON to a file at "${file}" ...\n`);
      const defs = JSON.parse(readFileSync(file, 'utf8'));
      assert.ok(defs.users.some((u: { name: string }) => u.name === 'ctl-exported'));
      await ok('delete_user', 'ctl-exported');
      assert.equal(await ok('import_definitions', file), `Importing definitions in JSON from a file at "${file}" ...\nSuccessfully imported definitions.\n`);
      assert.equal((await ctl('authenticate_user', 'ctl-exported', 'secret')).code, 0);
      const viaStdout = JSON.parse(await ok('export_definitions', '-'));
      assert.ok(viaStdout.users.some((u: { name: string }) => u.name === 'ctl-exported'));
      const fromStdin = await runWarrenctl(fixture.url, ['import_definitions', '-'], JSON.stringify({ vhosts: [{ name: 'ctl-from-stdin' }] }));
      assert.equal(fromStdin.code, 0, fromStdin.stderr);
      assert.equal((await apiOk(fixture.target, 'GET', '/api/vhosts/ctl-from-stdin')).body.name, 'ctl-from-stdin');
      const badFile = join(tmp, 'bad.json');
      writeFileSync(badFile, '{"users": [{"name": 1}]}');
      const bad = await ctl('import_definitions', badFile);
      assert.equal(bad.code, 65);
      assert.match(bad.stderr, /definitions refused/);
      writeFileSync(badFile, 'not json');
      assert.equal((await ctl('import_definitions', badFile)).code, 65);
      assert.equal((await ctl('import_definitions', join(tmp, 'missing.json'))).code, 65);
    });

    test('status, text and json', async () => {
      const text = await ok('status');
      assert.match(text, /^Status of node warren@/);
      assert.match(text, new RegExp(`Interface: 127\\.0\\.0\\.1, port: ${fixture.target.broker!.port}, protocol: amqp`));
      assert.match(text, /Alarms\n\n\(none\)/);
      const json = JSON.parse(await ok('status', '--formatter', 'json'));
      assert.equal(json.product_name, 'Warren');
      assert.deepEqual(json.alarms, []);
      assert.ok(json.listeners.some((l: { port: number }) => l.port === fixture.target.broker!.port));
    });

    test('await_startup: at once when up, exit 75 after its timeout when down', async () => {
      assert.equal((await ok('await_startup')), '');
      const downUrl = `http://guest:guest@127.0.0.1:${await freePort()}`;
      const started = Date.now();
      const down = await runWarrenctl(downUrl, ['await_startup', '--timeout', '1']);
      assert.equal(down.code, 75);
      assert.match(down.stderr, /did not start within 1 seconds/);
      assert.ok(Date.now() - started < 10_000);
    });
  });

  describe('errors', () => {
    test('broker unreachable: exit 69 with the URL', async () => {
      const port = await freePort();
      const r = await runWarrenctl(`http://guest:guest@127.0.0.1:${port}`, ['list_users']);
      assert.equal(r.code, 69);
      assert.match(r.stderr, new RegExp(`unable to connect to the Warren management API at http://127\\.0\\.0\\.1:${port}: ECONNREFUSED`));
    });

    test('wrong credentials: exit 77', async () => {
      const r = await runWarrenctl(`http://guest:wrong@127.0.0.1:${fixture.target.broker!.managementPort}`, ['list_users']);
      assert.equal(r.code, 77);
      assert.match(r.stderr, /access refused/);
    });

    test('usage errors: unknown command, wrong arity, bad formatter: exit 64', async () => {
      assert.equal((await ctl('frobnicate')).code, 64);
      const arity = await ctl('add_user', 'only-name');
      assert.equal(arity.code, 64);
      assert.equal(arity.stderr, 'Error (argument validation): not enough arguments.\nArguments given:\n\tadd_user only-name\n\nUsage\n\nwarrenctl add_user <username> <password>\n');
      assert.equal((await ctl('list_users', '--formatter', 'xml')).code, 64);
      assert.equal((await ctl('list_users', '--url')).code, 64);
    });

    test('help lists every command; help <command> shows one', async () => {
      const help = await ok('help');
      for (const cmd of ['add_user', 'delete_user', 'change_password', 'authenticate_user', 'set_user_tags', 'list_users', 'add_vhost',
        'delete_vhost', 'list_vhosts', 'set_permissions', 'clear_permissions', 'list_permissions', 'list_user_permissions',
        'set_topic_permissions', 'list_queues', 'list_exchanges', 'list_bindings', 'list_connections', 'list_channels',
        'list_consumers', 'purge_queue', 'delete_queue', 'close_connection', 'export_definitions', 'import_definitions', 'status', 'await_startup']) {
        assert.match(help, new RegExp(`\\n  ${cmd}\\b`), cmd);
      }
      assert.match(await ok('help', 'set_permissions'), /^Usage: warrenctl set_permissions \[-p <vhost>\] <username> <conf> <write> <read>/);
      assert.match(await ok('--version'), /^\d+\.\d+\.\d+/);
    });
  });
});
