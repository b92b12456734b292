/**
 * warrenctl's diagnostics against rabbitmq-diagnostics 3.10.8: status (memory breakdown, alarms,
 * listeners, file descriptors, uptime, versions), environment, ping, check_running,
 * check_local_alarms / check_alarms / alarms (also with a memory alarm raised), check_port_connectivity,
 * check_virtual_hosts, listeners, memory_breakdown, with --formatter json; ping and check_running
 * against a node that is not there. Values differ from node to node, so each case is a pattern with
 * the node's name in it; the patterns were taken from the reference node's output.
 *
 * With WARREN_TEST_RABBITMQCTL_NODE and WARREN_TEST_RABBITMQCTL_MANAGEMENT set (see
 * warrenctl-compat.test.ts), the same cases also run through the real rabbitmq-diagnostics and
 * rabbitmqctl against that node. rabbitmq-diagnostics prints section titles in bold (terminal
 * escapes) even into a pipe; warrenctl prints them plain, so escapes are removed before comparing.
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { apiOk, connect, eventually, runWarrenctl, type CtlRun } from './management-support.js';
import { freePort } from './support/free-port.js';
import { warrenctlFixture } from './support/warrenctl.js';

interface Side {
  node: string;
  /** rabbitmq-diagnostics ARGS (warrenctl on Warren's side). */
  diagnostics(args: string[]): Promise<CtlRun>;
  /** rabbitmqctl ARGS (warrenctl on Warren's side). */
  ctl(args: string[]): Promise<CtlRun>;
  /** `ping` / `check_running` against a node that does not run. */
  absent(args: string[]): Promise<CtlRun>;
}

const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const plain = (s: string) => s.replace(/\x1b\[[0-9;]*m/g, '');

interface Case {
  args: string[];
  code?: number;
  /** Pattern for stdout; NODE stands for the node's name. */
  stdout: string;
  stderr?: string;
}

const SIMPLE: Case[] = [
  { args: ['ping', '-q'], stdout: '^Ping succeeded\\n$' },
  { args: ['ping', '--formatter', 'json'], stdout: '^\\{"message":"Ping succeeded"\\}\\n$' },
  { args: ['check_running'], stdout: '^Checking if RabbitMQ is running on node NODE \\.\\.\\.\\nRabbitMQ on node NODE is fully booted and running\\n$' },
  { args: ['check_running', '--formatter', 'json'], stdout: '^\\{"message":"RabbitMQ on node NODE is fully booted and running"\\}\\n$' },
  { args: ['check_local_alarms'], stdout: '^Asking node NODE to report any local resource alarms \\.\\.\\.\\nNode NODE reported no local alarms\\n$' },
  { args: ['check_local_alarms', '--formatter', 'json'], stdout: '^\\{"result":"ok"\\}\\n$' },
  { args: ['alarms'], stdout: '^Asking node NODE to report any known resource alarms \\.\\.\\.\\nNode NODE reported no alarms, local or clusterwide\\n$' },
  { args: ['alarms', '--formatter', 'json'], stdout: '^\\{"alarms":\\[\\],"node":"NODE","result":"ok"\\}\\n$' },
  { args: ['check_virtual_hosts'], stdout: '^Checking if all vhosts are running on node NODE \\.\\.\\.\\nNode NODE reported all vhosts as running\\n$' },
  { args: ['check_virtual_hosts', '--formatter', 'json'], stdout: '^\\{"result":"ok"\\}\\n$' },
  { args: ['check_port_connectivity'], stdout: '^Testing TCP connections to all active listeners on node NODE \\.\\.\\.\\nSuccessfully connected to ports \\d+(, \\d+)* on node NODE\\.\\n$' },
  { args: ['listeners'], stdout: '^Asking node NODE to report its protocol listeners \\.\\.\\.\\n(Interface: \\S+, port: \\d+, protocol: [a-z/]+, purpose: [^\\n]+\\n)+$' },
  { args: ['memory_breakdown'], stdout: '^Reporting memory breakdown on node NODE\\.\\.\\.\\n([a-z_]+: \\d+(\\.\\d+)? gb \\(\\d+(\\.\\d+)?%\\)\\n)+\\n$' },
  { args: ['environment'], stdout: '^Application environment of node NODE \\.\\.\\.\\n\\[\\{[a-z_0-9]+,' },
  {
    args: ['status'],
    stdout: [
      '^Status of node NODE \\.\\.\\.\\nRuntime\\n\\nOS PID: \\d+\\nOS: Linux\\nUptime \\(seconds\\): \\d+\\nIs under maintenance\\?: false\\n',
      '[^]*\\nNode name: NODE\\n',
      '[^]*\\nData directory\\n\\nNode data directory: \\S+\\n',
      '[^]*\\nAlarms\\n\\n\\(none\\)\\n\\nMemory\\n\\nTotal memory used: \\d+\\.\\d+ gb\\nCalculation strategy: rss\\n',
      'Memory high watermark setting: 0\\.4 of available memory, computed to: \\d+\\.\\d+ gb\\n\\n([a-z_]+: \\d+(\\.\\d+)? gb \\(\\d+(\\.\\d+)? %\\)\\n)+',
      '\\nFile Descriptors\\n\\nTotal: \\d+, limit: \\d+\\nSockets: \\d+, limit: \\d+\\n',
      '\\nFree Disk Space\\n\\nLow free disk space watermark: 0\\.05 gb\\nFree disk space: \\d+(\\.\\d+)? gb\\n',
      '\\nTotals\\n\\nConnection count: \\d+\\nQueue count: \\d+\\nVirtual host count: \\d+\\n',
      '\\nListeners\\n\\n(Interface: \\S+, port: \\d+, protocol: [a-z/]+, purpose: [^\\n]+\\n)+$',
    ].join(''),
  },
];

function assertCase(side: Side, c: Case, r: CtlRun): void {
  const what = `${c.args.join(' ')}: ${JSON.stringify(r)}`;
  assert.equal(r.code, c.code ?? 0, what);
  assert.match(plain(r.stdout), new RegExp(c.stdout.replaceAll('NODE', esc(side.node))), what);
  assert.match(plain(r.stderr), new RegExp(c.stderr?.replaceAll('NODE', esc(side.node)) ?? '^$'), what);
}

function diagnosticsCases(side: () => Side): void {
  test('health checks, listeners, memory breakdown, environment and status: text and JSON', async () => {
    for (const c of SIMPLE) assertCase(side(), c, await side().diagnostics(c.args));
  });

  test('status and listeners in JSON carry RabbitMQ\'s keys', async () => {
    const status = JSON.parse((await side().diagnostics(['status', '--formatter', 'json'])).stdout);
    for (const key of ['alarms', 'config_files', 'data_directory', 'disk_free', 'disk_free_limit', 'file_descriptors', 'listeners', 'log_files',
      'memory', 'os', 'pid', 'rabbitmq_version', 'totals', 'uptime', 'vm_memory_high_watermark_limit', 'vm_memory_high_watermark_setting']) {
      assert.ok(key in status, key);
    }
    assert.equal(status.rabbitmq_version, '3.10.8');
    assert.deepEqual(status.alarms, []);
    assert.deepEqual(status.vm_memory_high_watermark_setting, { relative: 0.4 });
    assert.equal(typeof status.memory.total.rss, 'number');
    assert.deepEqual(Object.keys(status.file_descriptors).sort(), ['sockets_limit', 'sockets_used', 'total_limit', 'total_used']);
    const listeners = JSON.parse((await side().diagnostics(['listeners', '--formatter', 'json'])).stdout);
    assert.equal(listeners.result, 'ok');
    assert.equal(listeners.node, side().node);
    assert.ok(listeners.listeners.some((l: { protocol: string; purpose: string }) => l.protocol === 'amqp' && l.purpose === 'AMQP 0-9-1 and AMQP 1.0'));
    assert.deepEqual(status.listeners, listeners.listeners);
    const breakdown = JSON.parse((await side().diagnostics(['memory_breakdown', '--formatter', 'json'])).stdout);
    for (const [key, v] of Object.entries(breakdown) as [string, { bytes: number; percentage: number }][]) {
      assert.equal(typeof v.bytes, 'number', key);
      assert.equal(typeof v.percentage, 'number', key);
    }
  });

  test('a memory alarm: check_local_alarms and check_alarms exit 69, alarms and status list it', async () => {
    const s = side();
    assert.equal((await s.ctl(['set_vm_memory_high_watermark', 'absolute', '1'])).code, 0);
    try {
      let r: CtlRun = { code: 0, stdout: '', stderr: '' };
      await eventually(async () => (r = await s.diagnostics(['check_local_alarms'])).code !== 0, 15_000);
      assertCase(s, { args: [], code: 69, stdout: '^Asking node NODE to report any local resource alarms \\.\\.\\.\\n$', stderr: '^Error:\\nMemory alarm on node NODE\\n$' }, r);
      assertCase(s, { args: [], code: 69, stdout: '^$', stderr: '^\\{"local":\\["Memory alarm on node NODE"\\],"message":"Node NODE reported local alarms","result":"error"\\}\\n$' },
        await s.diagnostics(['check_local_alarms', '--formatter', 'json']));
      assertCase(s, { args: [], code: 69, stdout: '^Asking node NODE to report any local resource alarms \\.\\.\\.\\n$', stderr: '^Memory alarm on node NODE\\n$' },
        await s.diagnostics(['check_alarms']));
      assertCase(s, { args: [], stdout: '^Asking node NODE to report any known resource alarms \\.\\.\\.\\nMemory alarm on node NODE\\n$' }, await s.diagnostics(['alarms']));
      assertCase(s, { args: [], stdout: '^\\{"global":\\[\\],"local":\\["Memory alarm on node NODE"\\],"message":"Node NODE reported alarms","result":"ok"\\}\\n$' },
        await s.diagnostics(['alarms', '--formatter', 'json']));
      assertCase(s, { args: [], stdout: '\\nAlarms\\n\\nMemory alarm on node NODE\\n\\nMemory\\n' }, await s.diagnostics(['status']));
      const status = JSON.parse((await s.diagnostics(['status', '--formatter', 'json'])).stdout);
      assert.deepEqual(status.alarms, [{ node: s.node, resource: 'memory', type: 'resource_limit' }]);
      assert.deepEqual(status.vm_memory_high_watermark_setting, { absolute: 1 });
    } finally {
      assert.equal((await s.ctl(['set_vm_memory_high_watermark', '0.4'])).code, 0);
    }
    await eventually(async () => (await s.diagnostics(['check_local_alarms'])).code === 0, 15_000);
  });

  test('ping and check_running against a node that is not there: exit 69', async () => {
    const ping = await side().absent(['ping']);
    assert.equal(ping.code, 69, JSON.stringify(ping));
    assert.match(ping.stdout, /^Will ping \S+\. This only checks if /);
    assert.match(ping.stderr, /^Error:\nFailed to connect and authenticate to \S+ in 60000 ms\n$/);
    assert.equal((await side().absent(['check_running'])).code, 69);
  });
}

describe('warrenctl diagnostics → Warren', () => {
  const fixture = warrenctlFixture();
  let side: Side;
  before(async () => {
    const node = (await apiOk(fixture.target, 'GET', '/api/overview')).body.node as string;
    const absentUrl = `http://guest:guest@127.0.0.1:${await freePort()}`;
    side = {
      node,
      diagnostics: (args) => fixture.ctl(...args),
      ctl: (args) => fixture.ctl(...args),
      absent: (args) => runWarrenctl(absentUrl, args),
    };
  });
  diagnosticsCases(() => side);

  test('environment hides the default password; JSON has the settings by name', async () => {
    const text = await fixture.ok('environment');
    assert.match(text, /\{default_pass,"\*\*\*\*\*\*\*\*"\}/);
    assert.doesNotMatch(text, /\{default_pass,"guest"\}/);
    const json = JSON.parse(await fixture.ok('environment', '--formatter', 'json'));
    assert.equal(json.warren.port, fixture.target.broker!.port);
    assert.equal(json.warren.defaultPass, '********');
  });

  test('list_channels and list_consumers; close_all_connections closes them with the reason', async () => {
    const conn = await connect(fixture.target.amqpUrl('guest', 'guest'));
    const closed = new Promise<Error>((resolve) => conn.on('close', resolve));
    const ch = await conn.createChannel();
    await ch.assertQueue('diag-q', { exclusive: true });
    await ch.consume('diag-q', () => {}, { consumerTag: 'diag-tag' });
    assert.match(await fixture.ok('list_consumers', '-q', 'queue_name', 'consumer_tag'), /^queue_name\tconsumer_tag\ndiag-q\tdiag-tag\n$/);
    assert.match(await fixture.ok('list_channels', '-s', 'number', 'consumer_count'), /^1\t1\n$/);
    assert.equal(await fixture.ok('close_all_connections', 'maintenance'), 'Closing all connections in vhost /, reason: maintenance...\nClosed 1 connections\n');
    assert.match(String((await closed).message), /CONNECTION_FORCED - maintenance/);
    assert.equal(await fixture.ok('list_connections'), 'Listing connections ...\n');
  });
});

const referenceNode = process.env['WARREN_TEST_RABBITMQCTL_NODE'];
describe('rabbitmq-diagnostics → RabbitMQ: the same patterns', { skip: referenceNode ? false : 'WARREN_TEST_RABBITMQCTL_NODE not set' }, () => {
  const run = (tool: string, node: string, args: string[]) =>
    new Promise<CtlRun>((resolve) => {
      execFile(tool, ['-n', node, ...args], { timeout: 90_000 }, (error, stdout, stderr) => {
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
      });
    });
  const side: Side = {
    node: referenceNode!,
    diagnostics: (args) => run('rabbitmq-diagnostics', referenceNode!, args),
    ctl: (args) => run('rabbitmqctl', referenceNode!, args),
    absent: (args) => run('rabbitmq-diagnostics', `warren-absent@${referenceNode!.split('@')[1]}`, args),
  };
  diagnosticsCases(() => side);
});
