// The six RabbitMQ tutorials, written in Python with Debian's python3-pika as pika users write
// them (test/interop/pika-tutorials/*.py), run as real child processes against an in-process
// Warren. Each test asserts what its tutorial promises a reader.
//
// Needs /usr/bin/python3 with python3-pika (or $WARREN_PYTHON). Not part of `npm test`.
// While developing, WARREN_TEST_AMQP_URL=amqp://... runs the same scenarios against another
// broker (the reference RabbitMQ) instead of starting Warren: passing there is the spec.
import { describe, test, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';

// Compiled to dist/test/interop/; the .py files stay in the source tree.
const TUTORIALS_DIR = fileURLToPath(new URL('../../../test/interop/pika-tutorials/', import.meta.url));

// Debian's python3-pika lives in the system interpreter's dist-packages: a python3 that comes
// first on PATH (pyenv, a venv) would not see it.
const PYTHON = process.env.WARREN_PYTHON ?? (existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3');

const WAIT_MS = 10_000;
// How long a receiver keeps listening after the last expected message, so that a message it
// should not get has the time to show up.
const QUIET_MS = 300;
const WAITING = ' [*] Waiting for messages. To exit press CTRL+C';
const WAITING_LOGS = ' [*] Waiting for logs. To exit press CTRL+C';

/** One running tutorial program: its stdout lines as they come, its stderr for failure messages. */
class Tutorial {
  readonly lines: string[] = [];
  stderr = '';
  private readonly child: ChildProcess;
  private closed = false;
  readonly finished: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(
    readonly label: string,
    script: string,
    args: string[],
    env: Record<string, string>,
  ) {
    this.child = spawn(PYTHON, [join(TUTORIALS_DIR, script), ...args], {
      env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1', PYTHONUNBUFFERED: '1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    createInterface({ input: this.child.stdout! }).on('line', (line) => this.lines.push(line));
    this.child.stderr!.on('data', (chunk: Buffer) => (this.stderr += chunk.toString('utf8')));
    // 'close' (not 'exit') fires once stdout is drained, so `lines` is complete by then.
    this.finished = new Promise((resolve) => {
      this.child.on('close', (code, signal) => {
        this.closed = true;
        resolve({ code, signal });
      });
      this.child.on('error', (error) => {
        this.closed = true;
        this.stderr += String(error);
        resolve({ code: null, signal: null });
      });
    });
  }

  get running(): boolean {
    return !this.closed;
  }

  describe(): string {
    return `${this.label}\n  stdout: ${JSON.stringify(this.lines)}\n  stderr: ${this.stderr.trim()}`;
  }

  /** Resolves with the first line equal to `expected` (or matching it), failing early if the program dies. */
  async waitForLine(expected: string | RegExp, timeoutMs = WAIT_MS): Promise<string> {
    const matches = (line: string) => (typeof expected === 'string' ? line === expected : expected.test(line));
    await waitUntil(
      () => {
        if (this.lines.some(matches)) return true;
        if (!this.running) throw new Error(`exited before printing ${expected}: ${this.describe()}`);
        return false;
      },
      `${this.label} to print ${expected}`,
      timeoutMs,
      () => this.describe(),
    );
    return this.lines.find(matches)!;
  }

  /** Waits for the program to exit on its own and asserts it exited cleanly. */
  async exitsCleanly(timeoutMs = WAIT_MS): Promise<string[]> {
    const abort = new AbortController();
    const timer = sleep(timeoutMs, 'timeout' as const, { signal: abort.signal }).catch(() => 'aborted' as const);
    const outcome = await Promise.race([this.finished, timer]);
    abort.abort(); // a pending timer would keep the test file alive
    if (outcome === 'timeout') assert.fail(`${this.label} still running after ${timeoutMs} ms: ${this.describe()}`);
    assert.deepEqual(outcome, { code: 0, signal: null }, `${this.label} failed: ${this.describe()}`);
    return this.lines;
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    if (this.running) this.child.kill(signal);
  }
}

async function waitUntil(
  condition: () => boolean,
  what: string,
  timeoutMs = WAIT_MS,
  details: () => string = () => '',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail(`timed out after ${timeoutMs} ms waiting for ${what}\n${details()}`);
    await sleep(20);
  }
}

/** The broker under test: a fresh in-process Warren per test, or the broker of WARREN_TEST_AMQP_URL. */
interface TestBroker {
  url: string;
  /** Stops the broker and starts it again on the same data dir; undefined for an external broker. */
  restart?: () => Promise<void>;
  close(): Promise<void>;
}

async function startBroker(): Promise<TestBroker> {
  const external = process.env.WARREN_TEST_AMQP_URL;
  if (external) return { url: external, close: async () => {} };

  const { Broker } = await import('../../src/index.js');
  const dataDir = await mkdtemp(join(tmpdir(), 'warren-pika-tutorials-'));
  const options = { port: 0, host: '127.0.0.1', dataDir, managementPort: 0, prometheusPort: 0, logLevel: 'warn' as const };
  let broker = await Broker.start(options);
  const handle: TestBroker = {
    url: `amqp://guest:guest@127.0.0.1:${broker.port}/`,
    restart: async () => {
      await broker.close();
      broker = await Broker.start(options);
      handle.url = `amqp://guest:guest@127.0.0.1:${broker.port}/`;
    },
    close: async () => {
      await broker.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
  return handle;
}

const fib = (n: number): number => (n < 2 ? n : fib(n - 1) + fib(n - 2));

describe('pika tutorials', () => {
  let broker: TestBroker;
  let programs: Tutorial[] = [];

  beforeEach(async () => {
    broker = await startBroker();
  });

  afterEach(async () => {
    for (const program of programs) program.kill('SIGKILL');
    await Promise.all(programs.map((program) => program.finished));
    programs = [];
    await broker.close();
  });

  /** Starts a tutorial program against the broker under test; afterEach kills it if it is still running. */
  function start(label: string, script: string, args: string[] = [], env: Record<string, string> = {}): Tutorial {
    const program = new Tutorial(label, script, args, { AMQP_URL: broker.url, ...env });
    programs.push(program);
    return program;
  }

  /** Runs a short-lived program (a producer) to a clean exit and returns its stdout lines. */
  function run(script: string, args: string[] = [], env: Record<string, string> = {}): Promise<string[]> {
    return start(`${script} ${args.join(' ')}`, script, args, env).exitsCleanly();
  }

  /** Starts a consumer and waits until the broker confirmed its subscription. */
  async function startConsumer(
    label: string,
    script: string,
    args: string[] = [],
    env: Record<string, string> = {},
  ): Promise<Tutorial> {
    const program = start(label, script, args, env);
    await program.waitForLine(/^ \[\*\] Waiting for /);
    return program;
  }

  /** Waits until `program` printed `expected` after its banner, then checks that nothing else follows. */
  async function assertReceivesExactly(program: Tutorial, expected: string[]): Promise<void> {
    await waitUntil(() => program.lines.length >= expected.length + 1, `${expected.length} messages`, WAIT_MS, () =>
      program.describe(),
    );
    await sleep(QUIET_MS);
    assert.deepEqual(program.lines.slice(1), expected, program.describe());
  }

  test('1 "Hello World!": send.py queues a message that receive.py prints, whether it was running or not', async () => {
    // The queue keeps a message published before any consumer exists...
    assert.deepEqual(await run('send.py', ['first']), [" [x] Sent 'first'"]);

    const receiver = start('receive.py', 'receive.py', [], { EXIT_AFTER: '2' });
    await receiver.waitForLine(' [x] Received first');
    // ...and a running consumer gets the next one pushed to it.
    assert.deepEqual(await run('send.py'), [" [x] Sent 'Hello World!'"]);

    assert.deepEqual(await receiver.exitsCleanly(), [WAITING, ' [x] Received first', ' [x] Received Hello World!']);
  });

  test('2 work queues: tasks are shared between two workers, each task done and acked exactly once', async () => {
    const env = { SECONDS_PER_DOT: '0.2' };
    const workers = [await startConsumer('worker A', 'worker.py', [], env), await startConsumer('worker B', 'worker.py', [], env)];
    const tasks = ['First message.', 'Second message..', 'Third message...', 'Fourth message....', 'Fifth message.....'];
    for (const task of tasks) assert.deepEqual(await run('new_task.py', task.split(' ')), [` [x] Sent ${task}`]);

    const done = () => workers.reduce((sum, w) => sum + w.lines.filter((l) => l === ' [x] Done').length, 0);
    await waitUntil(() => done() >= tasks.length, 'all tasks done', WAIT_MS, () => workers.map((w) => w.describe()).join('\n'));
    await sleep(QUIET_MS);

    const received = workers.map((w) => w.lines.filter((l) => l.startsWith(' [x] Received ')));
    assert.deepEqual(
      received.flat().sort(),
      tasks.map((t) => ` [x] Received ${t}`).sort(),
      'every task received exactly once, none redelivered',
    );
    assert.equal(done(), tasks.length);
    for (const [i, worker] of workers.entries()) {
      assert.ok(received[i]!.length > 0, `both workers got tasks: ${worker.describe()}`);
    }
  });

  test('2 work queues: with prefetch 1 a fast worker gets clearly more tasks than a slow one (fair dispatch)', async () => {
    const slow = await startConsumer('slow worker', 'worker.py', [], { SECONDS_PER_DOT: '1' });
    const fast = await startConsumer('fast worker', 'worker.py', [], { SECONDS_PER_DOT: '0' });
    const tasks = Array.from({ length: 12 }, (_, i) => `task-${i + 1}.`);
    for (const task of tasks) await run('new_task.py', [task]);

    const count = (w: Tutorial, line: RegExp) => w.lines.filter((l) => line.test(l)).length;
    const details = () => `${slow.describe()}\n${fast.describe()}`;
    await waitUntil(() => count(slow, /^ \[x\] Done$/) + count(fast, /^ \[x\] Done$/) >= tasks.length, 'all tasks done', WAIT_MS, details);

    const slowTasks = count(slow, /^ \[x\] Received /);
    const fastTasks = count(fast, /^ \[x\] Received /);
    assert.equal(slowTasks + fastTasks, tasks.length, details());
    // Round-robin without prefetch would give 6 and 6; the slow one takes a second per task,
    // so it can only have taken a couple while the tasks were being published.
    assert.ok(fastTasks >= 2 * slowTasks, `fast ${fastTasks} vs slow ${slowTasks}\n${details()}`);
  });

  test('2 work queues: the task of a worker killed with SIGKILL is redelivered to the other worker, marked redelivered', async () => {
    const doomed = await startConsumer('doomed worker', 'worker.py', [], { SECONDS_PER_DOT: '1' });
    const task = 'long task..........'; // ten seconds of "work": it will not finish
    await run('new_task.py', [task]);
    await doomed.waitForLine(` [x] Received ${task}`);

    const survivor = await startConsumer('surviving worker', 'worker.py', [], { SECONDS_PER_DOT: '0' });
    await sleep(QUIET_MS);
    assert.deepEqual(survivor.lines, [WAITING], 'the unacked task stays with the worker holding it');

    doomed.kill('SIGKILL');
    await survivor.waitForLine(' [x] Done');
    await sleep(QUIET_MS);
    assert.deepEqual(survivor.lines, [WAITING, ` [x] Received ${task} (redelivered)`, ' [x] Done']);
  });

  test('2 work queues: a persistent task in the durable queue survives a broker restart', async (t) => {
    if (!broker.restart) return t.skip('the external broker is shared and cannot be restarted');
    await run('new_task.py', ['survivor.']);
    await broker.restart();

    const worker = start('worker after restart', 'worker.py', [], { SECONDS_PER_DOT: '0', EXIT_AFTER: '1' });
    const lines = await worker.exitsCleanly(5_000);
    assert.equal(lines.length, 3, worker.describe());
    assert.match(lines[1]!, /^ \[x\] Received survivor\.( \(redelivered\))?$/);
  });

  test('3 publish/subscribe: every subscriber gets every log; logs emitted while nobody listens are dropped', async () => {
    await run('emit_log.py', ['info: nobody is listening']);

    const env = { EXIT_AFTER: '3' };
    const subscribers = [
      await startConsumer('subscriber 1', 'receive_logs.py', [], env),
      await startConsumer('subscriber 2', 'receive_logs.py', [], env),
    ];
    const logs = ['info: Hello World!', 'warning: disk 80% full', 'error: disk full'];
    for (const log of logs) assert.deepEqual(await run('emit_log.py', log.split(' ')), [` [x] Sent ${log}`]);

    for (const subscriber of subscribers) {
      assert.deepEqual(await subscriber.exitsCleanly(), [WAITING_LOGS, ...logs.map((log) => ` [x] ${log}`)]);
    }
  });

  test('4 routing: a subscriber gets only the severities it bound, once each even with several bindings', async () => {
    const errorsOnly = await startConsumer('error subscriber', 'receive_logs_direct.py', ['error']);
    const everything = await startConsumer('all-severities subscriber', 'receive_logs_direct.py', ['info', 'warning', 'error']);

    const logs: Array<[string, string]> = [
      ['info', 'Run. Run. Or it will explode.'],
      ['warning', 'disk 80% full'],
      ['debug', 'nobody bound debug'],
      ['error', 'disk full'],
    ];
    for (const [severity, message] of logs) {
      assert.deepEqual(await run('emit_log_direct.py', [severity, message]), [` [x] Sent ${severity}:${message}`]);
    }

    await assertReceivesExactly(errorsOnly, [' [x] error:disk full']);
    await assertReceivesExactly(everything, [
      ' [x] info:Run. Run. Or it will explode.',
      ' [x] warning:disk 80% full',
      ' [x] error:disk full',
    ]);
  });

  test('5 topics: "*" matches exactly one word, "#" zero or more, "#" alone everything', async () => {
    // The bindings of the tutorial's animal example, plus a catch-all and the command-line examples.
    const bindings: Record<string, string[]> = {
      orange: ['*.orange.*'],
      rabbitsAndLazy: ['*.*.rabbit', 'lazy.#'],
      all: ['#'],
      kernAndCritical: ['kern.*', '*.critical'],
    };
    const subscribers: Record<string, Tutorial> = {};
    for (const [name, keys] of Object.entries(bindings)) {
      subscribers[name] = await startConsumer(`topic subscriber ${keys.join(' ')}`, 'receive_logs_topic.py', keys);
    }

    // routing key → the subscribers that must get it (in publish order)
    const messages: Array<[string, string[]]> = [
      ['quick.orange.rabbit', ['orange', 'rabbitsAndLazy', 'all']],
      ['lazy.orange.elephant', ['orange', 'rabbitsAndLazy', 'all']],
      ['quick.orange.fox', ['orange', 'all']],
      ['lazy.brown.fox', ['rabbitsAndLazy', 'all']],
      ['lazy.pink.rabbit', ['rabbitsAndLazy', 'all']], // matches both bindings, delivered once
      ['quick.brown.fox', ['all']],
      ['orange', ['all']],
      ['quick.orange.new.rabbit', ['all']],
      ['lazy.orange.new.rabbit', ['rabbitsAndLazy', 'all']],
      ['lazy', ['rabbitsAndLazy', 'all']], // "#" also matches zero words
      ['kern.critical', ['kernAndCritical', 'all']],
      ['kern', ['all']],
      ['kern.disk.critical', ['all']],
      ['', ['all']],
    ];
    for (const [key] of messages) {
      assert.deepEqual(await run('emit_log_topic.py', [key, `to ${key || '(empty)'}`]), [
        ` [x] Sent ${key}:to ${key || '(empty)'}`,
      ]);
    }

    for (const [name, subscriber] of Object.entries(subscribers)) {
      const expected = messages
        .filter(([, receivers]) => receivers.includes(name))
        .map(([key]) => ` [x] ${key}:to ${key || '(empty)'}`);
      await assertReceivesExactly(subscriber, expected);
    }
  });

  test('6 RPC: the client gets fib(n) back for each request, with the correlation_id it sent', async () => {
    const server = start('rpc_server.py', 'rpc_server.py');
    await server.waitForLine(' [x] Awaiting RPC requests');

    const numbers = [30, 0, 1, 2, 10, 20];
    const lines = await run('rpc_client.py', numbers.map(String));
    assertRpcConversation(lines, numbers);
    assert.deepEqual(server.lines.slice(1), numbers.map((n) => ` [.] fib(${n})`));
  });

  test('6 RPC: concurrent clients each get only their own replies', async () => {
    const server = start('rpc_server.py', 'rpc_server.py');
    await server.waitForLine(' [x] Awaiting RPC requests');

    const calls = [
      [5, 6, 7, 8],
      [15, 16, 17, 18],
      [25, 1, 24, 2],
    ];
    const clients = calls.map((numbers, i) => start(`rpc client ${i}`, 'rpc_client.py', numbers.map(String)));
    for (const [i, client] of clients.entries()) assertRpcConversation(await client.exitsCleanly(), calls[i]!);
    assert.equal(server.lines.length - 1, calls.flat().length, server.describe());
  });
});

/**
 * The client's output is, per call: the request with its fresh correlation_id, every reply
 * that reached its callback queue with the reply's correlation_id, and the result.
 * One reply per request, carrying the request's id and the right Fibonacci number.
 */
function assertRpcConversation(lines: string[], numbers: number[]): void {
  const expected: string[] = [];
  const ids = new Set<string>();
  let cursor = 0;
  for (const n of numbers) {
    const request = /^ \[x\] Requesting fib\((\d+)\) correlation_id=(\S+)$/.exec(lines[cursor] ?? '');
    assert.ok(request, `a request at line ${cursor}: ${JSON.stringify(lines)}`);
    const id = request[2]!;
    assert.ok(!ids.has(id), 'each call has a fresh correlation_id');
    ids.add(id);
    expected.push(
      ` [x] Requesting fib(${n}) correlation_id=${id}`,
      ` [.] Got ${fib(n)} correlation_id=${id}`,
      ` [.] fib(${n}) = ${fib(n)}`,
    );
    cursor += 3;
  }
  assert.deepEqual(lines, expected);
}
