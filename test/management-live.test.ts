/**
 * The management API's view of live clients: connections, channels and consumers of a real
 * amqplib client, closing a connection from the API, overview totals, message rates from sampled
 * counters, nodes, health checks and the aliveness test.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Channel, ChannelModel } from 'amqplib';
import { api, apiOk, connect, eventually, seg, startTarget, uniqueName, type Target } from './management-support.js';

describe('management API: live clients, stats and health', () => {
  let target: Target;
  let client: ChannelModel;
  let ch: Channel;
  const Q = uniqueName('live-q');

  before(async () => {
    target = await startTarget({ allowReference: false });
    client = await connect(target.amqpUrl('guest', 'guest'));
    ch = await client.createChannel();
    await ch.assertQueue(Q, { durable: false });
    for (let i = 0; i < 4; i++) ch.sendToQueue(Q, Buffer.from(`m${i}`));
    await ch.prefetch(3);
    await ch.consume(Q, () => {}, { consumerTag: 'live-ctag' });
    await eventually(async () => (await apiOk(target, 'GET', `/api/queues/%2F/${seg(Q)}`)).body.messages_unacknowledged === 3);
  });

  after(async () => {
    await client.close().catch(() => {});
    await target.close();
  });

  test('connections: the client with its properties, user, vhost, channels and traffic', async () => {
    const list = (await apiOk(target, 'GET', '/api/connections')).body as Record<string, any>[];
    assert.equal(list.length, 1);
    const c = list[0]!;
    assert.equal(c['user'], 'guest');
    assert.equal(c['vhost'], '/');
    assert.equal(c['protocol'], 'AMQP 0-9-1');
    assert.equal(c['state'], 'running');
    assert.equal(c['channels'], 1);
    assert.equal(c['client_properties'].product, 'amqplib');
    assert.equal(c['peer_host'], '127.0.0.1');
    assert.equal(c['port'], target.broker!.port);
    assert.ok(c['recv_oct'] > 0 && c['send_oct'] > 0);
    assert.match(c['name'], /^127\.0\.0\.1:\d+ -> 127\.0\.0\.1:\d+$/);
    assert.deepEqual((await apiOk(target, 'GET', `/api/connections/${seg(c['name'])}`)).body.name, c['name']);
    assert.equal(((await apiOk(target, 'GET', '/api/vhosts/%2F/connections')).body as unknown[]).length, 1);
    assert.equal((await api(target, 'GET', '/api/connections/no-such-connection')).status, 404);
  });

  test('channels: prefetch, unacked count, consumers', async () => {
    const list = (await apiOk(target, 'GET', '/api/channels')).body as Record<string, any>[];
    assert.equal(list.length, 1);
    const c = list[0]!;
    assert.equal(c['number'], 1);
    assert.equal(c['prefetch_count'], 3);
    assert.equal(c['messages_unacknowledged'], 3);
    assert.equal(c['consumer_count'], 1);
    assert.equal(c['confirm'], false);
    assert.equal(c['transactional'], false);
    assert.equal(c['message_stats'].publish, 4);
    assert.match(c['name'], / \(1\)$/);
    assert.deepEqual((await apiOk(target, 'GET', `/api/channels/${seg(c['name'])}`)).body.number, 1);
    const ofConnection = (await apiOk(target, 'GET', `/api/connections/${seg(c['connection_details'].name)}/channels`)).body as unknown[];
    assert.equal(ofConnection.length, 1);
  });

  test('consumers: all, and by vhost', async () => {
    const list = (await apiOk(target, 'GET', '/api/consumers')).body as Record<string, any>[];
    assert.equal(list.length, 1);
    const c = list[0]!;
    assert.equal(c['consumer_tag'], 'live-ctag');
    assert.deepEqual(c['queue'], { name: Q, vhost: '/' });
    assert.equal(c['ack_required'], true);
    assert.equal(c['prefetch_count'], 3);
    assert.equal(c['exclusive'], false);
    assert.equal(c['active'], true);
    assert.equal(c['channel_details'].number, 1);
    assert.deepEqual((await apiOk(target, 'GET', '/api/consumers/%2F')).body, list);
  });

  test('overview: totals of objects and messages', async () => {
    const o = (await apiOk(target, 'GET', '/api/overview')).body;
    assert.equal(o.management_version, '3.10.8');
    assert.equal(o.rabbitmq_version, '3.10.8');
    assert.equal(o.product_name, 'Warren');
    assert.deepEqual(o.object_totals, { channels: 1, connections: 1, consumers: 1, exchanges: 7, queues: 1 });
    assert.equal(o.queue_totals.messages, 4);
    assert.equal(o.queue_totals.messages_ready, 1);
    assert.equal(o.queue_totals.messages_unacknowledged, 3);
    assert.ok(o.listeners.some((l: { protocol: string; port: number }) => l.protocol === 'amqp' && l.port === target.broker!.port));
    assert.ok(o.listeners.some((l: { protocol: string; port: number }) => l.protocol === 'http' && l.port === target.broker!.managementPort));
  });

  test('message rates come from sampled counters', async () => {
    const stats = target.broker!.management!.stats;
    const t0 = Date.now();
    stats.sample(t0);
    for (let i = 0; i < 10; i++) ch.sendToQueue(Q, Buffer.from('rate'));
    await ch.checkQueue(Q);
    stats.sample(t0 + 2000);
    const q = (await apiOk(target, 'GET', `/api/queues/%2F/${seg(Q)}`)).body;
    assert.equal(q.message_stats.publish_details.rate, 5, '10 messages in 2 s');
    const o = (await apiOk(target, 'GET', '/api/overview')).body;
    assert.equal(o.message_stats.publish_details.rate, 5);
    const v = (await apiOk(target, 'GET', '/api/vhosts')).body[0];
    assert.equal(v.message_stats.publish_details.rate, 5);
    const channel = (await apiOk(target, 'GET', '/api/channels')).body.find((c: { message_stats?: { publish?: number } }) => (c.message_stats?.publish ?? 0) >= 10);
    assert.equal(channel.message_stats.publish_details.rate, 5, 'the channel that published them');
    const connection = (await apiOk(target, 'GET', `/api/connections/${seg(channel.connection_details.name)}`)).body;
    assert.ok(connection.recv_oct_details.rate > 10 * 4 / 2, `recv_oct rate ${connection.recv_oct_details.rate}: at least the bodies`);
  });

  test('totals survive the channel that published them', async () => {
    const before = (await apiOk(target, 'GET', '/api/overview')).body.message_stats.publish;
    const other = await connect(target.amqpUrl('guest', 'guest'));
    const och = await other.createChannel();
    for (let i = 0; i < 3; i++) och.sendToQueue(Q, Buffer.from('short-lived'));
    await och.checkQueue(Q);
    target.broker!.management!.stats.sample();
    await other.close();
    await eventually(() => target.broker!.connections.size === 1);
    const afterwards = (await apiOk(target, 'GET', '/api/overview')).body.message_stats.publish;
    assert.equal(afterwards, before + 3);
  });

  test('nodes: memory, disk, alarms, listeners of this node', async () => {
    const nodes = (await apiOk(target, 'GET', '/api/nodes')).body as Record<string, any>[];
    assert.equal(nodes.length, 1);
    const n = nodes[0]!;
    for (const key of ['mem_used', 'mem_limit', 'disk_free', 'disk_free_limit', 'uptime', 'sockets_used', 'proc_used', 'proc_total']) {
      assert.equal(typeof n[key], 'number', key);
    }
    assert.equal(n['mem_alarm'], false);
    assert.equal(n['disk_free_alarm'], false);
    assert.equal(n['running'], true);
    assert.deepEqual((await apiOk(target, 'GET', `/api/nodes/${seg(n['name'])}`)).body.name, n['name']);
    assert.equal((await api(target, 'GET', '/api/nodes/nobody@nowhere')).status, 404);
  });

  test('health checks and the aliveness test', async () => {
    assert.deepEqual((await apiOk(target, 'GET', '/api/health/checks/alarms')).body, { status: 'ok' });
    assert.deepEqual((await apiOk(target, 'GET', '/api/health/checks/virtual-hosts')).body, { status: 'ok' });
    assert.deepEqual((await apiOk(target, 'GET', `/api/health/checks/port-listener/${target.broker!.port}`)).body, { status: 'ok', port: target.broker!.port });
    const missing = await api(target, 'GET', '/api/health/checks/port-listener/1');
    assert.equal(missing.status, 503);
    assert.equal(missing.body.status, 'failed');
    assert.deepEqual((await apiOk(target, 'GET', '/api/health/checks/protocol-listener/amqp')).body, { status: 'ok', protocol: 'amqp' });
    assert.deepEqual((await apiOk(target, 'GET', '/api/aliveness-test/%2F')).body, { status: 'ok' });
    assert.equal((await apiOk(target, 'GET', '/api/queues/%2F/aliveness-test')).body.messages, 0, 'the test message was taken back');
    assert.equal((await api(target, 'GET', '/api/aliveness-test/no-such-vhost')).status, 404);
  });

  test('a resource alarm fails the alarms health check', async () => {
    // A real alarm (a 1-byte watermark), so the periodic memory check keeps it raised.
    const alarms = target.broker!.alarms;
    const watermark = alarms.memoryHighWatermark;
    alarms.setMemoryHighWatermark(1);
    try {
      const a = await api(target, 'GET', '/api/health/checks/alarms');
      assert.equal(a.status, 503);
      assert.equal(a.body.status, 'failed');
      assert.equal(a.body.alarms[0].resource, 'memory');
    } finally {
      alarms.setMemoryHighWatermark(watermark);
    }
  });

  test('DELETE a connection closes it with CONNECTION_FORCED and the X-Reason text', async () => {
    const existing = new Set(((await apiOk(target, 'GET', '/api/connections')).body as { name: string }[]).map((c) => c.name));
    const closeOne = async (headers: Record<string, string>): Promise<string> => {
      const victim = await connect(target.amqpUrl('guest', 'guest'));
      const closed = new Promise<Error>((resolve) => victim.on('close', (e: Error) => resolve(e)));
      const list = (await apiOk(target, 'GET', '/api/connections')).body as { name: string }[];
      const name = list.map((c) => c.name).find((n) => !existing.has(n))!;
      const a = await api(target, 'DELETE', `/api/connections/${seg(name)}`, undefined, undefined, headers);
      assert.equal(a.status, 204);
      return String((await closed)?.message);
    };
    assert.match(await closeOne({}), /CONNECTION_FORCED - Closed via management plugin/);
    assert.match(await closeOne({ 'x-reason': 'maintenance window' }), /CONNECTION_FORCED - maintenance window/);
    assert.equal((await api(target, 'DELETE', '/api/connections/no-such-connection')).status, 404);
  });
});
