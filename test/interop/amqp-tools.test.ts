// amqp-tools, the command-line clients from rabbitmq-c (amqp-declare-queue,
// amqp-publish, amqp-consume, amqp-get, amqp-delete-queue), driven the way a
// shell script drives them. The tools print only bodies, so an amqplib
// observer reads what they cannot (properties, queue depth). They have no
// confirm mode and cannot read reply_to, so confirms and RPC are covered for
// C by the rabbitmq-c suite instead.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startBrokerUnderTest, type BrokerUnderTest } from '../support/warren-process.js';
import { createVhostWithUser, deleteVhostAndUser } from '../support/admin.js';
import { amqpUrl, namePrefix, testTimeoutMs, uniqueVhostUser } from './harness/client-suite.js';
import { runProgram, describeRun, type ProgramRun } from './harness/run-program.js';
import { Observer } from './harness/observer.js';
import * as expect from './harness/scenarios.js';
import { debianPackageVersion } from './harness/versions.js';

const client = 'amqp-tools';
const options = { timeout: testTimeoutMs };

describe(`${client} ${debianPackageVersion('amqp-tools')}`, () => {
  let broker: BrokerUnderTest;
  let observer: Observer;
  const prefix = namePrefix(client);

  before(async () => {
    broker = await startBrokerUnderTest();
    observer = await Observer.connect(broker.url);
  });
  after(async () => {
    await observer?.close();
    await broker?.stop();
  });

  const tool = (name: string, args: string[], input?: string): Promise<ProgramRun> =>
    runProgram(name, args, { timeoutMs: 20_000, ...(input === undefined ? {} : { input }) });

  const succeeded = (run: ProgramRun, what: string): string => {
    assert.equal(run.code, 0, `${what} failed\n${describeRun(run, broker.logs())}`);
    return run.stdout;
  };

  /** Waits until amqp-consume is consuming, failing at once if it exited instead. */
  async function consumerReady(queue: string, consume: Promise<ProgramRun>): Promise<void> {
    const exitedEarly = consume.then((run) => {
      throw new Error(`amqp-consume exited before consuming\n${describeRun(run, broker.logs())}`);
    });
    exitedEarly.catch(() => {}); // observed through the race below
    await Promise.race([observer.waitForConsumer(queue), exitedEarly]);
  }

  async function connectScenario(url: string): Promise<Record<string, unknown>> {
    const queue = succeeded(await tool('amqp-declare-queue', ['-u', url, '-q', '']), 'amqp-declare-queue').trim();
    try {
      succeeded(await tool('amqp-publish', ['-u', url, '-r', queue, '-b', 'hello']), 'amqp-publish');
      return { body: succeeded(await tool('amqp-get', ['-u', url, '-q', queue]), 'amqp-get') };
    } finally {
      await tool('amqp-delete-queue', ['-u', url, '-q', queue]);
    }
  }

  /** amqp-consume declares its queue and binds it; binding to a missing exchange fails. */
  async function error404Scenario(url: string): Promise<Record<string, unknown>> {
    const queue = `${prefix}.e404`;
    const run = await tool('amqp-consume', ['-u', url, '-q', queue, '-e', `${prefix}.missing`, '-r', 'k', 'cat']);
    assert.notEqual(run.code, 0, `amqp-consume should fail\n${describeRun(run)}`);
    // amqp-tools reports: queue.bind: server channel error 404, message: <reply text>
    const match = /server channel error (\d+), message: (.*)/.exec(run.stderr);
    assert.ok(match, `no channel error in stderr\n${describeRun(run)}`);
    const cleanup = await tool('amqp-delete-queue', ['-u', url, '-q', queue]);
    return { code: Number(match[1]), text: match[2]!.trim(), recovered: cleanup.code === 0 };
  }

  test('connect, declare a queue, publish and get', options, async () => {
    expect.assertConnect(await connectScenario(broker.url));
  });

  test('non-default vhost and user', options, async () => {
    // Fails (never skips) while the broker has no management API to create them.
    const target = uniqueVhostUser(client);
    const admin = { managementUrl: broker.managementUrl };
    await createVhostWithUser(admin, target);
    try {
      const url = amqpUrl(broker.host, broker.amqpPort, target.user, target.password, target.vhost);
      expect.assertConnect(await connectScenario(url));
      expect.assertError404(await error404Scenario(url), prefix, target.vhost);
    } finally {
      await deleteVhostAndUser(admin, target);
    }
  });

  test('declare exchange and queue, bind, route by topic', options, async () => {
    // amqp-tools cannot declare exchanges: it binds to the predeclared amq.topic.
    const queue = `${prefix}.bind`;
    const consume = tool('amqp-consume', ['-u', broker.url, '-q', queue, '-e', 'amq.topic', '-r', `${prefix}.a.*.c`, '-c', '1', 'cat']);
    await consumerReady(queue, consume);
    succeeded(await tool('amqp-publish', ['-u', broker.url, '-e', 'amq.topic', '-r', `${prefix}.x.y.z`, '-b', 'nomatch']), 'amqp-publish');
    succeeded(await tool('amqp-publish', ['-u', broker.url, '-e', 'amq.topic', '-r', `${prefix}.a.b.c`, '-b', 'match']), 'amqp-publish');
    const received = succeeded(await consume, 'amqp-consume');
    expect.assertDeclareBind({ received: [received] });
  });

  test('publish with every basic property', options, async () => {
    // amqp-publish sets only these properties; the observer reads them back.
    const queue = `${prefix}.props`;
    succeeded(await tool('amqp-declare-queue', ['-u', broker.url, '-q', queue]), 'amqp-declare-queue');
    try {
      succeeded(
        await tool('amqp-publish', [
          '-u', broker.url, '-r', queue,
          '-C', 'application/json', '-E', 'utf-8', '-H', 'x-str: hello', '-p', '-t', 'reply.queue',
          '-b', expect.expectedPropertiesBody,
        ]),
        'amqp-publish',
      );
      const message = await observer.get(queue);
      assert.ok(message, 'the published message is not in the queue');
      const p = message.properties;
      assert.deepEqual(
        {
          body: message.content.toString(),
          content_type: p.contentType,
          content_encoding: p.contentEncoding,
          headers: p.headers,
          delivery_mode: p.deliveryMode,
          reply_to: p.replyTo,
        },
        {
          body: expect.expectedPropertiesBody,
          content_type: expect.expectedProperties.content_type,
          content_encoding: expect.expectedProperties.content_encoding,
          headers: { 'x-str': 'hello' },
          delivery_mode: 2,
          reply_to: expect.expectedProperties.reply_to,
        },
      );
    } finally {
      await tool('amqp-delete-queue', ['-u', broker.url, '-q', queue]);
    }
  });

  test('consume with manual ack and prefetch 2', options, async () => {
    // amqp-consume acks each message after its command exits; the command is
    // slow, so the broker must hold back all but 2 of the 5 messages.
    const queue = `${prefix}.prefetch`;
    succeeded(await tool('amqp-declare-queue', ['-u', broker.url, '-q', queue]), 'amqp-declare-queue');
    const consume = tool('amqp-consume', ['-u', broker.url, '-q', queue, '-p', '2', '-c', '5', '--', 'sh', '-c', 'cat; sleep 0.3']);
    await consumerReady(queue, consume);
    let done = false;
    void consume.finally(() => (done = true));
    // -l publishes each input line as one message (newline included).
    succeeded(await tool('amqp-publish', ['-u', broker.url, '-r', queue, '-l'], 'm1\nm2\nm3\nm4\nm5\n'), 'amqp-publish');
    // Ready messages peak at 5 - prefetch while the first deliveries are being processed.
    let maxReady = 0;
    while (!done) {
      const state = await observer.queueState(queue);
      if (state) maxReady = Math.max(maxReady, state.messageCount);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    const received = succeeded(await consume, 'amqp-consume').split('\n').filter(Boolean);
    const remaining = (await observer.queueState(queue))?.messageCount;
    await tool('amqp-delete-queue', ['-u', broker.url, '-q', queue]);
    expect.assertPrefetch({ received, maxInFlight: 5 - maxReady, remaining });
  });

  test('404 on a missing exchange, reported by the client', options, async () => {
    expect.assertError404(await error404Scenario(broker.url), prefix);
  });
});
