/**
 * Debian's nagios-plugins-rabbitmq (Perl, LWP) against Warren's management API: the overview,
 * queue and aliveness checks pass, thresholds read Warren's real counts, and the node checks
 * (server, watermark, partition), connections and objects work too. Skips when the plugins are not
 * installed (`apt-get install nagios-plugins-rabbitmq`).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { connect, startTarget, type Target } from './management-support.js';

const PLUGINS = '/usr/bin';
const installed = existsSync(`${PLUGINS}/check_rabbitmq_overview`);

interface Check {
  code: number;
  output: string;
}

describe('nagios-plugins-rabbitmq', { skip: installed ? false : 'nagios-plugins-rabbitmq is not installed' }, () => {
  let target: Target;

  const check = (plugin: string, ...args: string[]): Promise<Check> => {
    const port = String(target.broker!.managementPort);
    return new Promise((resolve) => {
      execFile(`${PLUGINS}/check_rabbitmq_${plugin}`, ['-H', '127.0.0.1', '--port', port, '-u', 'guest', '-p', 'guest', ...args], { timeout: 30_000 },
        (error, stdout, stderr) => resolve({ code: error ? (typeof error.code === 'number' ? error.code : 3) : 0, output: stdout + stderr }));
    });
  };

  before(async () => {
    target = await startTarget({ allowReference: false });
    const c = await connect(target.amqpUrl('guest', 'guest'));
    const ch = await c.createChannel();
    await ch.assertQueue('nagios-q', { durable: true });
    for (let i = 0; i < 5; i++) ch.sendToQueue('nagios-q', Buffer.from(`m${i}`));
    await ch.checkQueue('nagios-q');
    await c.close();
  });

  after(async () => {
    await target.close();
  });

  test('check_rabbitmq_overview: OK with the broker-wide counts', async () => {
    const r = await check('overview');
    assert.equal(r.code, 0, r.output);
    assert.match(r.output, /^RABBITMQ_OVERVIEW OK - messages OK \(5\) messages_ready OK \(5\) messages_unacknowledged OK \(0\)/);
  });

  test('check_rabbitmq_overview: thresholds apply to the counts', async () => {
    const r = await check('overview', '--warning', '3,-1,-1', '--critical', '10,-1,-1');
    assert.equal(r.code, 1, r.output);
    assert.match(r.output, /RABBITMQ_OVERVIEW WARNING - messages WARNING \(5\)/);
  });

  test('check_rabbitmq_queue: OK, then CRITICAL above a threshold', async () => {
    const ok = await check('queue', '--queue', 'nagios-q');
    assert.equal(ok.code, 0, ok.output);
    assert.match(ok.output, /RABBITMQ_QUEUE OK - messages OK \(5\) messages_ready OK \(5\) messages_unacknowledged OK \(0\) consumers OK \(0\)/);
    const critical = await check('queue', '--queue', 'nagios-q', '--critical', '4,-1,-1,-1');
    assert.equal(critical.code, 2, critical.output);
    assert.match(critical.output, /messages CRITICAL \(5\)/);
    const missing = await check('queue', '--queue', 'no-such-queue');
    assert.equal(missing.code, 2);
    assert.match(missing.output, /Not Found/);
  });

  test('check_rabbitmq_aliveness: OK', async () => {
    const r = await check('aliveness');
    assert.equal(r.code, 0, r.output);
    assert.match(r.output, /^RABBITMQ_ALIVENESS OK - vhost: \//);
  });

  test('wrong password: CRITICAL access refused', async () => {
    const port = String(target.broker!.managementPort);
    const r = await new Promise<Check>((resolve) => {
      execFile(`${PLUGINS}/check_rabbitmq_overview`, ['-H', '127.0.0.1', '--port', port, '-u', 'guest', '-p', 'wrong'],
        (error, stdout) => resolve({ code: error ? (typeof error.code === 'number' ? error.code : 3) : 0, output: stdout }));
    });
    assert.equal(r.code, 2);
    assert.match(r.output, /Access Refused/);
  });

  test('node checks (server, watermark, partition) for rabbit@<host>, connections, objects', async () => {
    const node = hostname().split('.')[0]!;
    for (const plugin of ['server', 'watermark', 'partition']) {
      const r = await check(plugin, '--node', node);
      assert.equal(r.code, 0, `${plugin}: ${r.output}`);
    }
    const conns = await check('connections');
    assert.equal(conns.code, 0, conns.output);
    const objects = await check('objects');
    assert.equal(objects.code, 0, objects.output);
    assert.match(objects.output, /queue=1;;/);
  });
});
