// warrenctl's run-time commands with rabbitmqctl 3.10.8's messages and exit codes (observed on the
// reference node): trace_on/trace_off, set_vm_memory_high_watermark, set_disk_free_limit.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { totalmem } from 'node:os';
import { apiOk } from './management-support.js';
import { warrenctlFixture } from './support/warrenctl.js';

describe('warrenctl run-time settings', () => {
  const fixture = warrenctlFixture();
  const ctl = fixture.ctl;
  let node: string;
  before(async () => {
    node = (await apiOk(fixture.target, 'GET', '/api/overview')).body.node;
  });
  const nodeInfo = async () => (await apiOk(fixture.target, 'GET', '/api/nodes')).body[0];

  test('cluster_status on a single node: a cluster of one, led by itself', async () => {
    const json = await ctl('cluster_status', '--formatter', 'json');
    assert.equal(json.code, 0, json.stderr);
    const status = JSON.parse(json.stdout) as Record<string, unknown>;
    assert.equal(status['cluster_name'], node, 'as RabbitMQ, the cluster is named after its node by default');
    assert.deepEqual(status['running_nodes'], [node]);
    assert.deepEqual(status['disk_nodes'], [node]);
    assert.equal(status['leader'], node);
    assert.deepEqual(status['in_sync'], [node]);
    assert.deepEqual(status['nodes'], [{ name: node, role: 'leader', running: true, in_sync: true, lag_bytes: 0 }]);
    const text = await ctl('cluster_status');
    assert.equal(text.code, 0);
    assert.match(text.stdout, new RegExp(`^Cluster status of node ${node} \\.\\.\\.\nBasics\n\nCluster name: ${node}\n\nDisk Nodes\n\n${node}\n\nRunning Nodes\n\n${node}\n`));
    assert.match(text.stdout, new RegExp(`^Leader\n\n${node}\n\nIn-sync Nodes\n\n${node}\n\nReplication\n\n${node}: leader$`, 'm'));
    assert.match(text.stdout, /^Listeners\n\nNode: .*, interface: .*, port: \d+, protocol: amqp, purpose: AMQP 0-9-1$/m);
    assert.match(text.stdout, /^Alarms\n\n\(none\)$/m);
    assert.equal((await ctl('cluster_status', 'extra')).code, 64);
  });

  test('trace_on / trace_off, also for a vhost that does not exist yet', async () => {
    assert.deepEqual(await ctl('trace_on'), { code: 0, stdout: 'Starting tracing for vhost "/" ...\nTrace enabled for vhost /\n', stderr: '' });
    assert.equal((await apiOk(fixture.target, 'GET', '/api/vhosts/%2F')).body.tracing, true);
    assert.deepEqual(await ctl('trace_off', '-p', '/'), { code: 0, stdout: 'Stopping tracing for vhost "/" ...\nTrace disabled for vhost /\n', stderr: '' });
    assert.equal((await apiOk(fixture.target, 'GET', '/api/vhosts/%2F')).body.tracing, false);
    assert.equal((await ctl('trace_on', '-p', 'later-vh')).code, 0);
    await apiOk(fixture.target, 'PUT', '/api/vhosts/later-vh', {});
    assert.equal((await apiOk(fixture.target, 'GET', '/api/vhosts/later-vh')).body.tracing, true, 'tracing starts when the vhost is created');
  });

  test('set_vm_memory_high_watermark: fraction, absolute with units, refusals', async () => {
    assert.deepEqual(await ctl('set_vm_memory_high_watermark', 'absolute', '1GB'), { code: 0, stdout: `Setting memory threshold on ${node} to 1GB bytes ...\n`, stderr: '' });
    assert.equal((await nodeInfo()).mem_limit, 1_000_000_000);
    assert.equal((await ctl('set_vm_memory_high_watermark', 'absolute', '600000000')).code, 0);
    assert.equal((await nodeInfo()).mem_limit, 600_000_000);
    assert.deepEqual(await ctl('set_vm_memory_high_watermark', '0.5'), { code: 0, stdout: `Setting memory threshold on ${node} to 0.5 ...\n`, stderr: '' });
    assert.equal((await nodeInfo()).mem_limit, Math.floor(totalmem() * 0.5));
    assert.equal((await ctl('set_vm_memory_high_watermark', '2')).code, 65);
    assert.equal((await ctl('set_vm_memory_high_watermark', 'abc')).code, 65);
    assert.equal((await ctl('set_vm_memory_high_watermark')).code, 64);
  });

  test('a watermark below what the broker uses raises the memory alarm at once; raising it clears it', async () => {
    assert.equal((await ctl('set_vm_memory_high_watermark', 'absolute', '1000')).code, 0);
    assert.equal((await nodeInfo()).mem_alarm, true);
    assert.match((await ctl('cluster_status')).stdout, new RegExp(`^Alarms\n\nMemory alarm on node ${node}$`, 'm'));
    assert.deepEqual(JSON.parse((await ctl('cluster_status', '--formatter', 'json')).stdout).alarms, [{ node, resource: 'memory' }]);
    assert.equal((await ctl('set_vm_memory_high_watermark', '0.9')).code, 0);
    assert.equal((await nodeInfo()).mem_alarm, false);
  });

  test('set_disk_free_limit: bytes, units, mem_relative, refusals', async () => {
    assert.deepEqual(await ctl('set_disk_free_limit', '60000000'), { code: 0, stdout: `Setting disk free limit on ${node} to 60000000 bytes ...\n`, stderr: '' });
    assert.equal((await nodeInfo()).disk_free_limit, 60_000_000);
    assert.equal((await ctl('set_disk_free_limit', '1GB')).code, 0);
    assert.equal((await nodeInfo()).disk_free_limit, 1_000_000_000);
    assert.deepEqual(await ctl('set_disk_free_limit', 'mem_relative', '1.5'), { code: 0, stdout: `Setting disk free limit on ${node} to 1.5 times the total RAM ...\n`, stderr: '' });
    assert.equal((await ctl('set_disk_free_limit', 'abc')).code, 65);
    assert.equal((await ctl('set_disk_free_limit')).code, 64);
    assert.equal((await ctl('set_disk_free_limit', '50000000')).code, 0);
  });
});
