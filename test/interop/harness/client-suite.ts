// Declares the standard interop suite for one client: one describe named
// "<client> <version>" (the table reporter reads it), one test per scenario,
// each running the client's own program against a broker on an ephemeral port.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { startBrokerUnderTest, type BrokerUnderTest } from '../../support/warren-process.js';
import { createVhostWithUser, deleteVhostAndUser, type VhostUser } from '../../support/admin.js';
import { runProgram, describeRun, type ProgramRun } from './run-program.js';
import * as expect from './scenarios.js';
import type { ScenarioName } from './scenarios.js';

export interface ClientProgram {
  command: string;
  /** Arguments before `<scenario> <url> <prefix>`. */
  args: string[];
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}

export interface ClientUnderTest {
  /** One word: the table's "client" column. */
  name: string;
  version: string;
  /** Builds or locates the program once, before the scenarios run. */
  prepare: () => Promise<ClientProgram>;
  /** Per-run limit; the JVM and PHP need more than Node. */
  timeoutMs?: number;
}

export const testTimeoutMs = 60_000;

export function amqpUrl(host: string, port: number, user: string, password: string, vhost: string): string {
  const e = encodeURIComponent;
  return `amqp://${e(user)}:${e(password)}@${host}:${port}/${e(vhost)}`;
}

/** A fresh vhost and user (unique per run, so a shared reference broker is safe to use). */
export function uniqueVhostUser(client: string): VhostUser {
  const tag = `${client.replace(/[^a-z0-9]+/gi, '-')}-${randomBytes(3).toString('hex')}`;
  return { vhost: `interop-${tag}`, user: `interop-user-${tag}`, password: `pw-${randomBytes(6).toString('hex')}` };
}

export function namePrefix(client: string): string {
  return `interop.${client.replace(/[^a-z0-9]+/gi, '-')}.${process.pid}`;
}

export function describeClient(client: ClientUnderTest): void {
  describe(`${client.name} ${client.version}`, () => {
    let broker: BrokerUnderTest;
    let program: ClientProgram | undefined;
    let prepareError: unknown;
    const prefix = namePrefix(client.name);

    before(async () => {
      broker = await startBrokerUnderTest();
      // A build failure must fail every scenario, with its reason, not abort the file.
      try {
        program = await client.prepare();
      } catch (error) {
        prepareError = error;
      }
    });
    after(async () => {
      await broker?.stop();
    });

    const run = async (scenario: ScenarioName, url = broker.url): Promise<Record<string, unknown>> => {
      if (!program) throw new Error(`${client.name} program could not be prepared: ${String(prepareError)}`);
      const outcome: ProgramRun = await runProgram(program.command, [...program.args, scenario, url, prefix], {
        cwd: program.cwd,
        env: program.env,
        timeoutMs: client.timeoutMs ?? 30_000,
      });
      assert.ok(outcome.code === 0 && outcome.result, `${client.name} ${scenario} failed\n${describeRun(outcome, broker.logs())}`);
      return outcome.result;
    };
    const options = { timeout: testTimeoutMs };

    test('connect, declare a queue, publish and get', options, async () => {
      expect.assertConnect(await run('connect'));
    });

    test('non-default vhost and user', options, async () => {
      // Fails (never skips) while the broker has no management API to create them.
      const target = uniqueVhostUser(client.name);
      const admin = { managementUrl: broker.managementUrl };
      await createVhostWithUser(admin, target);
      try {
        const url = amqpUrl(broker.host, broker.amqpPort, target.user, target.password, target.vhost);
        expect.assertConnect(await run('connect', url));
        expect.assertError404(await run('error-404', url), prefix, target.vhost);
      } finally {
        await deleteVhostAndUser(admin, target);
      }
    });

    test('declare exchange and queue, bind, route by topic', options, async () => {
      expect.assertDeclareBind(await run('declare-bind'));
    });

    test('publish with every basic property', options, async () => {
      expect.assertProperties(await run('properties'));
    });

    test('consume with manual ack and prefetch 2', options, async () => {
      expect.assertPrefetch(await run('prefetch'));
    });

    test('publisher confirms and mandatory return', options, async () => {
      expect.assertConfirms(await run('confirms'));
    });

    test('RPC with reply_to and correlation_id', options, async () => {
      expect.assertRpc(await run('rpc'));
    });

    test('404 on a missing exchange, reported by the client', options, async () => {
      expect.assertError404(await run('error-404'), prefix);
    });
  });
}
