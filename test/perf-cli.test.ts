// warren-perf end to end: the CLI runs ~2 s against an in-process Warren (or WARREN_TEST_AMQP_URL)
// and its JSON summary must show real traffic whose counts agree. No timing assertions.
import { test, describe, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startTestBroker, type TestBroker } from './support/test-broker.js';
import type { PerfSummary } from '../src/perf/runner.js';

const cli = fileURLToPath(new URL('../src/cli/warren-perf.js', import.meta.url));

function runPerf(args: string[]): Promise<{ code: number; lines: unknown[]; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      const lines = out
        .split('\n')
        .filter((l) => l.trim() !== '')
        .map((l) => JSON.parse(l) as unknown);
      resolve({ code: code ?? -1, lines, stderr: err });
    });
  });
}

function summaryOf(lines: unknown[]): PerfSummary {
  const last = lines[lines.length - 1] as PerfSummary | undefined;
  assert.ok(last, 'warren-perf printed nothing');
  assert.equal(last.type, 'summary');
  return last;
}

describe('warren-perf CLI', () => {
  let broker: TestBroker;
  before(async () => {
    broker = await startTestBroker();
  });
  after(async () => {
    await broker.close();
  });

  test('1 publisher, 1 auto-ack consumer: live ticks and a summary whose counts agree', async () => {
    const { code, lines, stderr } = await runPerf(['--uri', broker.url, '--time', '2', '--autoack', '--max-backlog', '2000', '--json']);
    assert.equal(code, 0, stderr);
    const ticks = lines.filter((l) => (l as { type: string }).type === 'tick') as { publish_rate: number }[];
    assert.ok(ticks.length >= 1, 'expected at least one per-second line');
    const s = summaryOf(lines);
    assert.ok(s.totals.published > 0, 'nothing published');
    assert.ok(s.publish_rate > 0 && s.consume_rate > 0, 'rates must be non-zero');
    assert.equal(s.drained, true, 'consumer did not receive everything');
    assert.equal(s.totals.consumed, s.totals.published);
    assert.equal(s.totals.errors, 0);
    assert.deepEqual(s.errors, []);
    assert.ok(s.latency && s.latency.count > 0, 'latency histogram is empty');
    assert.equal(s.left_in_queues, 0);
  });

  test('confirms, manual acks and a fanout to 2 queues: every publish confirmed and delivered twice', async () => {
    const { code, lines, stderr } = await runPerf([
      '--uri', broker.url, '--time', '2', '--confirm', '64', '--manual-ack', '--prefetch', '50',
      '--exchange-type', 'fanout', '--queues', '2', '--consumers', '2', '--size', '100', '--json', '--quiet',
    ]);
    assert.equal(code, 0, stderr);
    const s = summaryOf(lines);
    assert.ok(s.totals.published > 0);
    assert.equal(s.drained, true);
    assert.equal(s.totals.confirmed, s.totals.published);
    assert.equal(s.totals.nacked, 0);
    assert.equal(s.expected_consumed, 2 * s.totals.published);
    assert.equal(s.totals.consumed, 2 * s.totals.published);
    assert.ok(s.confirm_rate > 0 && s.consume_rate > 0);
    assert.ok(s.confirm_latency && s.confirm_latency.count > 0);
    assert.equal(s.totals.errors, 0);
    assert.equal(s.left_in_queues, 0);
  });

  test('--pmessages stops each publisher after exactly N messages', async () => {
    const { code, lines, stderr } = await runPerf(['--uri', broker.url, '--time', '20', '--publishers', '2', '--pmessages', '5000', '--json', '--quiet']);
    assert.equal(code, 0, stderr);
    const s = summaryOf(lines);
    assert.equal(s.totals.published, 10000);
    assert.equal(s.totals.consumed, 10000);
    assert.ok(s.seconds < 20, 'the run should end when the publishers are done');
  });
});
