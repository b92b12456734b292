// Cross-client suite, Celery (python3-celery over python3-kombu / py-amqp): real worker processes
// consume tasks from the broker, a caller process gets results back through the rpc:// backend.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import {
  runPython, PythonProcess, pythonModuleVersion, theEvent, interopDir,
} from './pika/support/python.js';
import { amqpUrl } from './pika/support/broker.js';
import { targetBrokerForSuite } from './pika/support/suite.js';
import { managementAdmin } from './pika/support/admin.js';
import { assertSucceeded, uniqueName } from './pika/support/scenario.js';

const celeryDir = path.join(interopDir, 'celery');

describe(`celery ${pythonModuleVersion('celery')} (kombu ${pythonModuleVersion('kombu')})`, () => {
  const broker = targetBrokerForSuite();
  const workers: PythonProcess[] = [];

  /** A worker on its own task queue; resolves once Celery logs "<name> ready.". */
  async function startWorker(name: string, env: Record<string, string>): Promise<PythonProcess> {
    const worker = new PythonProcess(
      ['-m', 'celery', '-A', 'app', 'worker', '--pool=solo', '-n', name, '--loglevel=INFO'],
      { cwd: celeryDir, env },
    );
    workers.push(worker);
    await worker.waitFor(`worker ${name} ready`, (w) => w.stderr.includes(`${name} ready.`), 30_000);
    return worker;
  }

  const taskQueues: string[] = [];

  /** Stops this test's workers; drops its durable task queue and exchange (both named CELERY_QUEUE). */
  async function stopWorkers(): Promise<void> {
    await Promise.all(workers.splice(0).map((w) => w.stop()));
    const admin = managementAdmin(broker.managementUrl);
    for (const name of taskQueues.splice(0)) {
      await admin.deleteQueue('/', name).catch(() => {});
      await admin.deleteExchange('/', name).catch(() => {});
    }
  }

  const caller = (env: Record<string, string>, ...args: string[]) =>
    runPython(path.join('celery', 'caller.py'), args, { cwd: celeryDir, env, timeoutMs: 60_000 });

  function envFor(url = broker.url): Record<string, string> {
    const queue = uniqueName('celery-q');
    taskQueues.push(queue);
    return { AMQP_URL: url, CELERY_QUEUE: queue };
  }

  test('a worker consumes tasks; the caller gets results through rpc://', async () => {
    const env = envFor();
    try {
      await startWorker(uniqueName('w1') + '@interop', env);
      const result = await caller(env, 'results');
      assertSucceeded(result);
      const results = theEvent(result, 'results');
      assert.deepEqual(results.values, [0, 11, 22, 33, 44, 55, 66, 77, 88, 99]);
      assert.deepEqual(results.states, Array(10).fill('SUCCESS'));
      assert.equal(results.distinct_ids, 10);
      assert.equal(theEvent(result, 'apply-async').value, 42, 'priority/expires/headers options');
    } finally {
      await stopWorkers();
    }
  });

  test('task retries; task exceptions reach the caller', async () => {
    const env = envFor();
    try {
      const name = uniqueName('w1') + '@interop';
      await startWorker(name, env);
      const result = await caller(env, 'retries');
      assertSucceeded(result);
      assert.deepEqual(theEvent(result, 'flaky'), { event: 'flaky', retries: 3, hostname: name });
      assert.deepEqual(theEvent(result, 'hopeless'), {
        event: 'hopeless',
        raised: 'RuntimeError',
        message: 'still broken after 2 retries',
        state: 'FAILURE',
      });
      assert.deepEqual(theEvent(result, 'boom'), { event: 'boom', raised: 'ValueError', message: 'boom', state: 'FAILURE' });
    } finally {
      await stopWorkers();
    }
  });

  test('two workers share the load and both answer a broadcast ping', async () => {
    const env = envFor();
    try {
      const names = [uniqueName('w1') + '@interop', uniqueName('w2') + '@interop'];
      await Promise.all(names.map((n) => startWorker(n, env)));
      const ping = await caller(env, 'ping', '2');
      assertSucceeded(ping);
      assert.deepEqual(theEvent(ping, 'ping').workers, [...names].sort());
      assert.deepEqual(theEvent(ping, 'ping').answers, ['pong']);

      const result = await caller(env, 'share', '20');
      assertSucceeded(result);
      const share = theEvent(result, 'share');
      assert.equal(share.total, 20);
      const perWorker = share.per_worker as Record<string, number>;
      assert.deepEqual(Object.keys(perWorker).sort(), [...names].sort(), 'both workers ran tasks');
      // prefetch 1 and 0.3 s tasks: roughly half each; a broker ignoring basic.qos would skew this.
      for (const n of names) assert.ok(perWorker[n]! >= 6, `${n} ran only ${perWorker[n]} of 20 tasks`);
    } finally {
      await stopWorkers();
    }
  });

  test('a task held by a killed worker is redelivered to the other worker (acks_late)', async () => {
    const env = envFor();
    try {
      const first = uniqueName('w1') + '@interop';
      const second = uniqueName('w2') + '@interop';
      const w1 = await startWorker(first, env);
      // 12 s: long enough that the second worker is up (seconds on a loaded machine) before the first would finish.
      const call = new PythonProcess([path.join(celeryDir, 'caller.py'), 'slow', '12'], { cwd: celeryDir, env });
      await w1.waitFor('w1 to receive the task', (w) => /Task app\.whoami\[[^\]]+\] received/.test(w.stderr));
      await startWorker(second, env);
      w1.child.kill('SIGKILL'); // mid-task: its unacked delivery must go back to the queue
      const result = await call.wait(45_000);
      assertSucceeded(result);
      assert.equal(theEvent(result, 'slow').ran_on, second);
    } finally {
      await stopWorkers();
    }
  });

  test('priority tasks: a queue with x-max-priority (task_queue_max_priority) runs higher priorities first', async () => {
    const env = { ...envFor(), CELERY_MAX_PRIORITY: '10' };
    try {
      const call = new PythonProcess([path.join(celeryDir, 'caller.py'), 'priority'], { cwd: celeryDir, env });
      await call.waitFor('the tasks to be sent', (c) => c.events.some((e) => e.event === 'sent'), 30_000);
      await startWorker(uniqueName('w1') + '@interop', env);
      const result = await call.wait(45_000);
      assertSucceeded(result);
      assert.deepEqual(theEvent(result, 'priority').order, ['high-1', 'high-2', 'mid-1', 'mid-2', 'low-1', 'low-2']);
    } finally {
      await stopWorkers();
    }
  });

  test('non-default vhost and user', async () => {
    const admin = managementAdmin(broker.managementUrl);
    const vhost = uniqueName('celery-vhost');
    const user = uniqueName('celery-user');
    const password = 'pw-' + uniqueName('c');
    try {
      await admin.createVhost(vhost);
      await admin.createUser(user, password);
      await admin.setPermissions(vhost, user);
      const env = envFor(amqpUrl(broker.host, broker.amqpPort, user, password, vhost));
      const worker = await startWorker(uniqueName('w1') + '@interop', env);
      assert.match(worker.stderr, new RegExp(`Connected to amqp://${user}:\\*\\*@127\\.0\\.0\\.1:${broker.amqpPort}/${vhost}`));
      const result = await caller(env, 'results');
      assertSucceeded(result);
      assert.deepEqual(theEvent(result, 'results').values, [0, 11, 22, 33, 44, 55, 66, 77, 88, 99]);
    } finally {
      await stopWorkers();
      await admin.deleteVhost(vhost).catch(() => {});
      await admin.deleteUser(user).catch(() => {});
    }
  });

  test('a refused login surfaces as amqp.exceptions.AccessRefused (403)', async () => {
    const result = await caller(envFor(amqpUrl(broker.host, broker.amqpPort, 'guest', 'wrong-password')), 'bad-login');
    assertSucceeded(result);
    assert.deepEqual(theEvent(result, 'bad-login'), {
      event: 'bad-login',
      raised: 'amqp.exceptions.AccessRefused',
      reply_code: 403,
      reply_text:
        'ACCESS_REFUSED - Login was refused using authentication mechanism PLAIN. For details see the broker logfile.',
    });
  });
});
