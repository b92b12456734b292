/**
 * amqp091-go's OWN integration suite (`go test -tags integration`), as Debian's
 * golang-github-rabbitmq-amqp091-go-dev ships it (integration_test.go and the other *_test.go files
 * beside the sources), against one Warren. Run by .ci/run; nothing of the suite is committed.
 *
 * The suite reads its broker from AMQP_URL, so Warren runs on a free port. The package is copied to
 * a temporary module (the Debian tree is read-only and its go.mod names go.uber.org/goleak, which
 * is not packaged): a stand-in goleak whose VerifyTestMain only runs the tests is written there and
 * `replace`d in, and GOPROXY=off keeps the build offline. With WARREN_TEST_AMQP_URL set the same
 * suite runs against that broker instead (how it was checked against RabbitMQ 3.10.8).
 *
 * Fails when a test fails, or when fewer tests pass than the suite has (so a suite that silently
 * skips or stops compiling does not pass).
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startBrokerUnderTest, type BrokerUnderTest } from '../support/warren-process.js';

const PACKAGE_DIR = '/usr/share/gocode/src/github.com/rabbitmq/amqp091-go';
const SUITE_TIMEOUT_MS = 10 * 60_000;
/** amqp091-go 1.5.0 (Debian 12) runs 116 tests and subtests; fewer means the suite did not really run. */
const MIN_PASSING = 100;

function skipReason(): string | undefined {
  if (spawnSync('go', ['version']).status !== 0) return 'amqp091-go suite skipped: the go toolchain is missing (Debian golang-go)';
  if (!existsSync(join(PACKAGE_DIR, 'integration_test.go'))) return `amqp091-go suite skipped: ${PACKAGE_DIR}/integration_test.go is missing (Debian golang-github-rabbitmq-amqp091-go-dev)`;
  return undefined;
}

const skip = skipReason();
if (skip) process.stderr.write(`${skip}\n`);

describe("amqp091-go's own integration suite against Warren", { skip, timeout: SUITE_TIMEOUT_MS + 60_000 }, () => {
  let work = '';
  let broker: BrokerUnderTest | undefined;

  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'warren-amqp091-'));
    const module = join(work, 'amqp091-go');
    cpSync(PACKAGE_DIR, module, { recursive: true });
    rmSync(join(module, 'go.sum'), { force: true });
    const goleak = join(work, 'goleak');
    mkdirSync(goleak);
    writeFileSync(join(goleak, 'go.mod'), 'module go.uber.org/goleak\n\ngo 1.16\n');
    writeFileSync(join(goleak, 'goleak.go'), [
      '// Package goleak stands in for go.uber.org/goleak, which Debian does not package: it runs the tests, checking no leaks.',
      'package goleak',
      '',
      'import (',
      '\t"os"',
      '\t"testing"',
      ')',
      '',
      'func VerifyTestMain(m *testing.M, _ ...interface{}) { os.Exit(m.Run()) }',
      '',
    ].join('\n'));
    appendFileSync(join(module, 'go.mod'), `\nreplace go.uber.org/goleak => ${goleak}\n`);
    broker = await startBrokerUnderTest();
  });

  after(async () => {
    await broker?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  test('every test of the suite passes', { timeout: SUITE_TIMEOUT_MS }, async () => {
    const go = spawn('go', ['test', '-tags', 'integration', '-count=1', '-v', '-timeout', '8m', '.'], {
      cwd: join(work, 'amqp091-go'),
      env: { ...process.env, AMQP_URL: broker!.url, GOFLAGS: '-mod=mod', GOPROXY: 'off', GOTOOLCHAIN: 'local' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const keep = (d: Buffer): void => {
      output += d.toString('utf8');
    };
    go.stdout.on('data', keep);
    go.stderr.on('data', keep);
    const killer = setTimeout(() => go.kill('SIGKILL'), SUITE_TIMEOUT_MS - 10_000);
    const code = await new Promise<number | null>((resolve) => go.once('exit', (c) => resolve(c)));
    clearTimeout(killer);
    const count = (word: string): number => output.match(new RegExp(`--- ${word}: `, 'g'))?.length ?? 0;
    const failed = output.split('\n').filter((l) => /--- FAIL: /.test(l));
    process.stdout.write(`amqp091-go suite: ${count('PASS')} passed, ${count('FAIL')} failed, ${count('SKIP')} skipped\n`);
    if (code !== 0 || failed.length > 0) process.stdout.write(`${output.slice(-20_000)}\n${broker!.logs()}\n`);
    assert.deepEqual(failed, [], 'no test of the suite may fail');
    assert.equal(code, 0, `go test exited with ${code}`);
    assert.ok(count('PASS') >= MIN_PASSING, `the suite should pass its ~116 tests; go test reported ${count('PASS')}`);
  });
});
