/**
 * amqplib's OWN test suite (node:test), as its npm package 2.2.0 ships it (the dev dependency
 * `amqplib-suite`, an alias of amqplib@2.2.0; from 2.2.1 on the package leaves its tests out), against
 * one Warren. Run by .ci/run; nothing of the suite is committed.
 *
 * The suite reads its broker from URL, but its connect tests hard-wire `amqp://localhost` (port 5672),
 * so Warren and the suite run inside a private network namespace (`unshare -n`, loopback up), where
 * 5672 is free whatever runs on the host. Needs root and util-linux's unshare; skipped elsewhere.
 * The suite runs with its own client code (lib/ of 2.2.0) and its dev dependency claire.
 *
 * Fails when a test fails, or when fewer pass than the suite has.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { NODE_FLAGS } from '../../src/cli/node-flags.js';
import { repoRoot, warrenCli } from '../support/warren-process.js';

const PACKAGE_DIR = join(repoRoot, 'node_modules', 'amqplib-suite');
const SUITE_TIMEOUT_MS = 5 * 60_000;
/** amqplib 2.2.0's suite has 338 tests; fewer passing means part of it did not run. */
const MIN_PASSING = 330;

function skipReason(): string | undefined {
  if (process.platform !== 'linux') return 'amqplib suite: Linux only (network namespaces)';
  if (process.getuid?.() !== 0) return 'amqplib suite skipped: needs root for a network namespace (CI runs it as root from .ci/run)';
  if (spawnSync('ip', ['-V']).status !== 0) return 'amqplib suite skipped: iproute2 (`ip`) is missing';
  if (spawnSync('unshare', ['--version']).status !== 0) return 'amqplib suite skipped: unshare (util-linux) is missing';
  if (!existsSync(join(PACKAGE_DIR, 'test', 'channel_api.test.js'))) return `amqplib suite skipped: ${PACKAGE_DIR}/test is missing (npm ci installs it)`;
  return undefined;
}

/** Quotes one word for sh. */
const q = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

const skip = skipReason();
if (skip) process.stderr.write(`${skip}\n`);

describe("amqplib's own test suite against Warren", { skip, timeout: SUITE_TIMEOUT_MS + 60_000 }, () => {
  const work = mkdtempSync(join(tmpdir(), 'warren-amqplib-suite-'));
  const warrenLog = join(work, 'warren.log');

  after(() => rmSync(work, { recursive: true, force: true }));

  test('every test of the suite passes', { timeout: SUITE_TIMEOUT_MS }, async () => {
    // One shell in a fresh network namespace: Warren on the default ports, polled until it listens,
    // then the suite; the trap stops Warren however the shell ends.
    const script = [
      'set -u',
      'ip link set lo up',
      `${[process.execPath, ...NODE_FLAGS, warrenCli].map(q).join(' ')} --data-dir ${q(join(work, 'data'))} --management-port 0 --prometheus-port 0 --stream-port 0 > ${q(warrenLog)} 2>&1 &`,
      'warren=$!',
      'trap \'kill $warren 2>/dev/null; wait $warren\' EXIT',
      `for i in $(seq 1 600); do grep -q '"msg":"listening"' ${q(warrenLog)} && break; kill -0 $warren || exit 90; sleep 0.1; done`,
      `cd ${q(PACKAGE_DIR)} && ${q(process.execPath)} --test --test-timeout=60000 --test-reporter=tap`,
    ].join('\n');
    // Without NODE_TEST_CONTEXT: inherited from this runner it would make the inner `node --test`
    // report to us in the runner's internal format instead of TAP.
    const { NODE_TEST_CONTEXT: _, ...env } = process.env;
    const child = spawn('unshare', ['-n', 'sh', '-c', script], { env: { ...env, URL: 'amqp://localhost' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => { output += d.toString('utf8'); });
    child.stderr.on('data', (d: Buffer) => { output += d.toString('utf8'); });
    const killer = setTimeout(() => child.kill('SIGTERM'), SUITE_TIMEOUT_MS - 10_000);
    const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
    clearTimeout(killer);
    const count = (word: string): number => Number(new RegExp(`^# ${word} (\\d+)$`, 'm').exec(output)?.[1] ?? -1);
    const failures = output.split('\n').filter((l) => /^\s*not ok /.test(l));
    process.stdout.write(`amqplib suite: ${count('pass')} passed, ${count('fail')} failed of ${count('tests')}\n`);
    if (code !== 0) process.stdout.write(`${output.slice(-20_000)}\n--- Warren's log ---\n${existsSync(warrenLog) ? readFileSync(warrenLog, 'utf8').slice(-5_000) : ''}\n`);
    assert.deepEqual(failures, [], 'no test of the suite may fail');
    assert.equal(code, 0, `the suite exited with ${code}`);
    assert.ok(count('pass') >= MIN_PASSING, `the suite should pass its 338 tests; it reported ${count('pass')}`);
  });
});
