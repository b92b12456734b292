/**
 * rabbitmqadmin against Warren: the script Warren serves at /cli/rabbitmqadmin (fetched from the
 * broker, as users do with RabbitMQ), and RabbitMQ's own rabbitmqadmin when it is installed
 * (Debian's rabbitmq-server ships /usr/bin/rabbitmqadmin; or set RABBITMQADMIN to its path).
 * The same session runs with each: declare, publish, list, get, purge, users and permissions,
 * export and import, delete, and an access refusal. Skips only when python3 is missing.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { startBrokerUnderTest, type BrokerUnderTest } from '../support/warren-process.js';

function hasPython(): boolean {
  try {
    execFileSync('python3', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const PYTHON = hasPython();
const RABBITMQS_SCRIPT = process.env['RABBITMQADMIN'] ?? '/usr/bin/rabbitmqadmin';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

describe('rabbitmqadmin', { skip: PYTHON ? false : 'python3 is not installed' }, () => {
  let broker: BrokerUnderTest;
  const tmp = mkdtempSync(join(tmpdir(), 'rabbitmqadmin-test-'));
  let servedScript = '';

  before(async () => {
    broker = await startBrokerUnderTest();
    const res = await fetch(`${broker.managementUrl}/cli/rabbitmqadmin`);
    assert.equal(res.status, 200);
    servedScript = join(tmp, 'rabbitmqadmin');
    writeFileSync(servedScript, await res.text());
  });

  after(async () => {
    await broker?.stop();
    rmSync(tmp, { recursive: true, force: true });
  });

  function session(script: () => string): void {
    const suffix = randomBytes(3).toString('hex');
    const q = `ra-q-${suffix}`;
    const x = `ra-x-${suffix}`;
    const vhost = `ra-v-${suffix}`;
    const user = `ra-u-${suffix}`;
    const run = (...args: string[]): Promise<Run> => {
      const port = new URL(broker.managementUrl).port;
      return new Promise((resolve) => {
        execFile('python3', [script(), '-H', '127.0.0.1', '-P', port, '-u', 'guest', '-p', 'guest', ...args], { timeout: 30_000 }, (error, stdout, stderr) => {
          resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
        });
      });
    };
    const ok = async (...args: string[]) => {
      const r = await run(...args);
      assert.equal(r.code, 0, `rabbitmqadmin ${args.join(' ')}: ${r.stderr}`);
      return r.stdout;
    };
    /** Rows of `-f tsv` output as objects. */
    const tsv = async (...args: string[]) => {
      const [header, ...lines] = (await ok('-f', 'tsv', ...args)).trimEnd().split('\n');
      const columns = header!.split('\t');
      return lines.filter(Boolean).map((l) => Object.fromEntries(l.split('\t').map((v, i) => [columns[i], v])));
    };

    test('declare a queue, an exchange and a binding; publish; list; get', async () => {
      assert.match(await ok('declare', 'queue', `name=${q}`, 'durable=false'), /queue declared/);
      assert.match(await ok('declare', 'exchange', `name=${x}`, 'type=topic', 'durable=false'), /exchange declared/);
      assert.match(await ok('declare', 'binding', `source=${x}`, `destination=${q}`, 'routing_key=a.#'), /binding declared/);
      assert.match(await ok('publish', `exchange=${x}`, 'routing_key=a.b', 'payload=hello'), /Message published/);
      assert.match(await ok('publish', `exchange=${x}`, 'routing_key=zzz', 'payload=lost'), /NOT routed/);
      assert.match(await ok('publish', `routing_key=${q}`, 'payload=direct'), /Message published/);
      const queues = await tsv('list', 'queues', 'name', 'messages');
      assert.deepEqual(queues.find((r) => r['name'] === q), { name: q, messages: '2' });
      const bindings = await tsv('list', 'bindings', 'source', 'destination', 'routing_key');
      assert.ok(bindings.some((b) => b['source'] === x && b['destination'] === q && b['routing_key'] === 'a.#'));
      const got = await tsv('get', `queue=${q}`, 'count=2', 'ackmode=ack_requeue_true');
      assert.deepEqual(got.map((m) => m['payload']), ['hello', 'direct']);
      const overview = await tsv('show', 'overview', 'rabbitmq_version');
      assert.match(overview[0]!['rabbitmq_version']!, /^3\./);
    });

    test('purge and delete', async () => {
      assert.match(await ok('purge', 'queue', `name=${q}`), /queue purged/);
      assert.equal((await tsv('list', 'queues', 'name', 'messages')).find((r) => r['name'] === q)!['messages'], '0');
      assert.match(await ok('delete', 'exchange', `name=${x}`), /exchange deleted/);
      assert.match(await ok('delete', 'queue', `name=${q}`), /queue deleted/);
      assert.ok(!(await tsv('list', 'queues', 'name')).some((r) => r['name'] === q));
    });

    test('vhosts, users, permissions', async () => {
      await ok('declare', 'vhost', `name=${vhost}`);
      await ok('declare', 'user', `name=${user}`, 'password=pw', 'tags=monitoring');
      await ok('declare', 'permission', `vhost=${vhost}`, `user=${user}`, 'configure=^a', 'write=.*', 'read=.*');
      const users = await tsv('list', 'users', 'name', 'tags');
      assert.deepEqual(users.find((u) => u['name'] === user), { name: user, tags: 'monitoring' });
      const perms = await tsv('list', 'permissions', 'vhost', 'user', 'configure');
      assert.deepEqual(perms.find((p) => p['user'] === user), { vhost, user, configure: '^a' });
    });

    test('export, delete, import', async () => {
      const file = join(tmp, `defs-${suffix}.json`);
      await ok('export', file);
      assert.ok(JSON.parse(readFileSync(file, 'utf8')).users.some((u: { name: string }) => u.name === user));
      await ok('delete', 'user', `name=${user}`);
      await ok('delete', 'vhost', `name=${vhost}`);
      assert.ok(!(await tsv('list', 'users', 'name')).some((u) => u['name'] === user));
      await ok('import', file);
      assert.ok((await tsv('list', 'users', 'name')).some((u) => u['name'] === user));
      assert.ok((await tsv('list', 'vhosts', 'name')).some((v) => v['name'] === vhost));
      await ok('delete', 'user', `name=${user}`);
      await ok('delete', 'vhost', `name=${vhost}`);
    });

    test('wrong credentials: exit 1, access refused', async () => {
      const port = new URL(broker.managementUrl).port;
      const r = await new Promise<Run>((resolve) => {
        execFile('python3', [script(), '-H', '127.0.0.1', '-P', port, '-u', 'guest', '-p', 'wrong', 'list', 'queues'], (error, stdout, stderr) => {
          resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
        });
      });
      assert.equal(r.code, 1);
      assert.match(r.stderr, /Access refused/);
    });
  }

  describe('the script served at /cli/rabbitmqadmin', () => session(() => servedScript));

  describe("RabbitMQ's rabbitmqadmin", { skip: existsSync(RABBITMQS_SCRIPT) ? false : `${RABBITMQS_SCRIPT} not found` }, () => session(() => RABBITMQS_SCRIPT));
});
