// The Prometheus endpoint: rabbitmq_prometheus's families (names, types, help texts) on /metrics,
// /metrics/per-object and /metrics/detailed, with counts that follow what clients do.
// Against RabbitMQ: WARREN_TEST_AMQP_URL=amqp://guest:guest@127.0.0.1:5687/ \
//   WARREN_TEST_PROMETHEUS_URL=http://127.0.0.1:15692 node --test dist/test/prometheus-endpoint.test.js
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import amqp from 'amqplib';
import { externalUrl, startTestBroker, uniq, type TestBroker } from './support/test-broker.js';
import { freePort } from './support/free-port.js';
import { find, scrape, value, type Scrape } from './support/prometheus-text.js';
import { eventually } from './support/eventually.js';

/** Families the RabbitMQ-Overview dashboard and common alerts read, as RabbitMQ 3.10.8 announces them. */
const FAMILIES: [string, string, string][] = [
  ['rabbitmq_connections', 'gauge', 'Connections currently open'],
  ['rabbitmq_channels', 'gauge', 'Channels currently open'],
  ['rabbitmq_consumers', 'gauge', 'Consumers currently connected'],
  ['rabbitmq_queues', 'gauge', 'Queues available'],
  ['rabbitmq_queue_messages_ready', 'gauge', 'Messages ready to be delivered to consumers'],
  ['rabbitmq_queue_messages_unacked', 'gauge', 'Messages delivered to consumers but not yet acknowledged'],
  ['rabbitmq_queue_messages_bytes', 'gauge', 'Size in bytes of ready and unacknowledged messages'],
  ['rabbitmq_channel_consumers', 'gauge', 'Consumers on a channel'],
  ['rabbitmq_channel_messages_published_total', 'counter', 'Total number of messages published into an exchange on a channel'],
  ['rabbitmq_connections_opened_total', 'counter', 'Total number of connections opened'],
  ['rabbitmq_queues_declared_total', 'counter', 'Total number of queues declared'],
  ['rabbitmq_process_open_fds', 'gauge', 'Open file descriptors'],
  ['rabbitmq_process_max_fds', 'gauge', 'Open file descriptors limit'],
  ['rabbitmq_process_resident_memory_bytes', 'gauge', 'Memory used in bytes'],
  ['rabbitmq_resident_memory_limit_bytes', 'gauge', 'Memory high watermark in bytes'],
  ['rabbitmq_disk_space_available_bytes', 'gauge', 'Disk space available in bytes'],
  ['rabbitmq_alarms_memory_used_watermark', 'untyped', 'is 1 if VM memory watermark alarm is in effect'],
  ['rabbitmq_alarms_free_disk_space_watermark', 'untyped', 'is 1 if free disk space watermark alarm is in effect'],
  ['rabbitmq_identity_info', 'untyped', 'RabbitMQ node & cluster identity info'],
  ['rabbitmq_build_info', 'untyped', 'RabbitMQ & Erlang/OTP version info'],
  ['rabbitmq_global_messages_received_total', 'counter', 'Total number of messages received from publishers'],
  ['rabbitmq_global_messages_confirmed_total', 'counter', 'Total number of messages confirmed to publishers'],
  ['rabbitmq_global_messages_routed_total', 'counter', 'Total number of messages routed to queues or streams'],
  ['rabbitmq_global_messages_delivered_consume_manual_ack_total', 'counter', 'Total number of messages delivered to consumers using basic.consume with manual acknowledgment'],
  ['rabbitmq_global_messages_get_empty_total', 'counter', 'Total number of times basic.get operations fetched no message'],
];

const externalMetrics = process.env['WARREN_TEST_PROMETHEUS_URL'];

describe('Prometheus endpoint', () => {
  let tb: TestBroker;
  let base: string;
  before(async () => {
    tb = await startTestBroker({ prometheusPort: await freePort() });
    if (tb.external && !externalMetrics) throw new Error('set WARREN_TEST_PROMETHEUS_URL with WARREN_TEST_AMQP_URL');
    base = externalMetrics ?? `http://127.0.0.1:${tb.broker!.prometheusPort}`;
  });
  after(() => tb.close());

  test('/metrics announces RabbitMQ\'s families with their types and help texts, and identity labels', async () => {
    const s = await scrape(`${base}/metrics`);
    for (const [name, type, help] of FAMILIES) {
      assert.equal(s.types.get(name), type, `TYPE of ${name}`);
      assert.equal(s.help.get(name), help, `HELP of ${name}`);
    }
    const identity = find(s, 'rabbitmq_identity_info');
    assert.equal(identity.length, 1);
    assert.ok(identity[0]!.labels['rabbitmq_node'] && identity[0]!.labels['rabbitmq_cluster']);
    // Aggregated: no per-queue labels.
    assert.deepEqual(find(s, 'rabbitmq_queue_messages_ready').map((x) => x.labels), [{}]);
  });

  test('counters and gauges follow publishes, returns, deliveries, gets and acks', async () => {
    const before = await scrape(`${base}/metrics`);
    const conn = await amqp.connect(tb.url);
    const pub = await conn.createConfirmChannel();
    const q1 = uniq('prom-q1');
    const q2 = uniq('prom-q2');
    await pub.assertQueue(q1, { exclusive: true });
    await pub.assertQueue(q2, { exclusive: true });
    for (let i = 0; i < 10; i++) pub.sendToQueue(q1, Buffer.from('hello'));
    const unroutable = uniq('nowhere');
    pub.publish('amq.direct', unroutable, Buffer.from('x'));
    pub.publish('amq.direct', unroutable, Buffer.from('x'), { mandatory: true });
    await pub.waitForConfirms();
    const sub = await conn.createChannel();
    await sub.prefetch(3);
    const got: amqp.ConsumeMessage[] = [];
    const three = new Promise<void>((resolve) => {
      void sub.consume(q1, (m) => {
        if (m) got.push(m);
        if (got.length === 3) resolve();
      });
    });
    await three;
    assert.equal(await pub.get(q2), false);
    // Gauges are read at scrape time; a round trip on each channel makes sure the broker saw everything.
    await sub.checkQueue(q1);

    // RabbitMQ publishes its figures every few seconds (Warren at once): poll until they add up.
    let mid!: Scrape;
    await eventually(async () => {
    mid = await scrape(`${base}/metrics`);
    const delta = (name: string) => value(mid, name) - value(before, name);
    assert.equal(delta('rabbitmq_global_messages_received_total'), 12);
    assert.equal(delta('rabbitmq_global_messages_received_confirm_total'), 12);
    assert.equal(delta('rabbitmq_global_messages_confirmed_total'), 12);
    assert.equal(delta('rabbitmq_global_messages_routed_total'), 10);
    assert.equal(delta('rabbitmq_global_messages_unroutable_dropped_total'), 1);
    assert.equal(delta('rabbitmq_global_messages_unroutable_returned_total'), 1);
    assert.equal(delta('rabbitmq_global_messages_delivered_consume_manual_ack_total'), 3);
    assert.equal(delta('rabbitmq_global_messages_get_empty_total'), 1);
    assert.equal(delta('rabbitmq_connections_opened_total'), 1);
    assert.equal(delta('rabbitmq_channels_opened_total'), 2);
    assert.equal(delta('rabbitmq_queues_declared_total'), 2);
    assert.equal(delta('rabbitmq_queues_created_total'), 2);
    assert.equal(delta('rabbitmq_queues'), 2);
    assert.equal(delta('rabbitmq_connections'), 1);
    assert.equal(delta('rabbitmq_channels'), 2);
    assert.equal(delta('rabbitmq_consumers'), 1);
    assert.equal(delta('rabbitmq_queue_messages_ready'), 7);
    assert.equal(delta('rabbitmq_queue_messages_unacked'), 3);
    assert.equal(delta('rabbitmq_channel_consumers'), 1);
    });

    await eventually(async () => {
    const o = await scrape(`${base}/metrics/per-object`);
    assert.equal(value(o, 'rabbitmq_queue_messages_ready', { queue: q1, vhost: '/' }), 7);
    assert.equal(value(o, 'rabbitmq_queue_messages_unacked', { queue: q1 }), 3);
    assert.equal(value(o, 'rabbitmq_queue_messages', { queue: q1 }), 10);
    assert.equal(value(o, 'rabbitmq_queue_consumers', { queue: q1 }), 1);
    assert.equal(value(o, 'rabbitmq_queue_messages_ready_bytes', { queue: q1 }), 35);
    assert.equal(value(o, 'rabbitmq_queue_messages_unacked_bytes', { queue: q1 }), 15);
    assert.equal(value(o, 'rabbitmq_channel_messages_delivered_ack_total', { queue: q1, vhost: '/' }), 3);
    assert.equal(value(o, 'rabbitmq_channel_get_empty_total', { queue: q2 }), 1);
    const published = find(o, 'rabbitmq_channel_messages_unroutable_returned_total', { exchange: 'amq.direct' }).filter((x) => x.value === 1);
    assert.ok(published.length >= 1, 'a channel with one returned message on amq.direct');
    const prefetch = find(o, 'rabbitmq_consumer_prefetch').map((x) => x.value);
    assert.ok(prefetch.includes(3));
    });

    for (const m of got) sub.ack(m);
    await sub.close();
    await eventually(async () => {
      const after = await scrape(`${base}/metrics`);
      assert.equal(value(after, 'rabbitmq_global_messages_acknowledged_total') - value(mid, 'rabbitmq_global_messages_acknowledged_total'), 3);
      assert.equal(value(after, 'rabbitmq_channels_closed_total') - value(mid, 'rabbitmq_channels_closed_total'), 1);
    });
    await conn.close();
  });

  test('dead-lettering is counted by reason, queue type and whether a dead-letter exchange is set, with RabbitMQ\'s label sets', async () => {
    const before = await scrape(`${base}/metrics`);
    const conn = await amqp.connect(tb.url);
    const ch = await conn.createChannel();
    const target = uniq('dl-target');
    const none = uniq('dl-none');
    const withDlx = uniq('dl-with');
    const ttl = uniq('dl-ttl');
    const max = uniq('dl-max');
    const quorum = uniq('dl-quorum');
    const toTarget = { 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': target };
    await ch.assertQueue(target, { exclusive: true });
    await ch.assertQueue(none, { exclusive: true });
    await ch.assertQueue(withDlx, { exclusive: true, arguments: toTarget });
    await ch.assertQueue(ttl, { exclusive: true, arguments: { 'x-message-ttl': 1 } });
    await ch.assertQueue(max, { exclusive: true, arguments: { 'x-max-length': 1, ...toTarget } });
    await ch.assertQueue(quorum, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
    for (const q of [none, none, withDlx, quorum]) ch.sendToQueue(q, Buffer.from('x'));
    for (const q of [none, none, withDlx, quorum]) {
      const m = await ch.get(q, { noAck: false });
      assert.ok(m, `a message in ${q}`);
      ch.nack(m, false, false);
    }
    ch.sendToQueue(ttl, Buffer.from('x'));
    for (let i = 0; i < 3; i++) ch.sendToQueue(max, Buffer.from('x'));
    // Expired at the head and dropped by the queue's own timer (no get racing it).
    await eventually(async () => assert.equal((await ch.checkQueue(ttl)).messageCount, 0), 15_000, 50);
    await ch.deleteQueue(quorum);

    const dl = (s: Scrape, reason: string, type: string, strategy: string) =>
      value(s, `rabbitmq_global_messages_dead_lettered_${reason}_total`, { queue_type: `rabbit_${type}_queue`, dead_letter_strategy: strategy });
    await eventually(async () => {
      const after = await scrape(`${base}/metrics`);
      const delta = (reason: string, type: string, strategy: string) => dl(after, reason, type, strategy) - dl(before, reason, type, strategy);
      assert.equal(delta('rejected', 'classic', 'disabled'), 2);
      assert.equal(delta('rejected', 'classic', 'at_most_once'), 1);
      assert.equal(delta('rejected', 'quorum', 'disabled'), 1);
      assert.equal(delta('expired', 'classic', 'disabled'), 1);
      assert.equal(delta('maxlen', 'classic', 'at_most_once'), 2);
      assert.equal(delta('expired', 'classic', 'at_most_once'), 0);
      const labels = (reason: string) => find(after, `rabbitmq_global_messages_dead_lettered_${reason}_total`)
        .map((x) => `${x.labels['queue_type']}/${x.labels['dead_letter_strategy']}`);
      const qq = (...s: string[]) => s.map((x) => `rabbit_quorum_queue/${x}`);
      const cq = (...s: string[]) => s.map((x) => `rabbit_classic_queue/${x}`);
      assert.deepEqual(labels('confirmed'), qq('at_least_once'));
      assert.deepEqual(labels('delivery_limit'), qq('at_least_once', 'at_most_once', 'disabled'));
      assert.deepEqual(labels('expired'), [...cq('at_most_once', 'disabled'), ...qq('at_least_once', 'at_most_once', 'disabled')]);
      assert.deepEqual(labels('maxlen'), [...cq('at_most_once', 'disabled'), ...qq('at_most_once', 'disabled')]);
      assert.deepEqual(labels('rejected'), [...cq('at_most_once', 'disabled'), ...qq('at_least_once', 'at_most_once', 'disabled')]);
      assert.equal(after.help.get('rabbitmq_global_messages_dead_lettered_maxlen_total'), 'Total number of messages dead-lettered due to overflow drop-head or reject-publish-dlx');
    });
    await conn.close();
  });

  test('rabbitmq_io_* follow the message store: writes and fdatasyncs of persistent messages, read-backs of a paged queue', { skip: externalUrl ? 'counts Warren\'s store' : false }, async () => {
    const io = (s: Scrape) => Object.fromEntries(['read_ops', 'read_bytes', 'write_ops', 'write_bytes', 'sync_ops', 'seek_ops', 'reopen_ops',
      'read_time_seconds', 'write_time_seconds', 'sync_time_seconds', 'seek_time_seconds'].map((k) => [k, value(s, `rabbitmq_io_${k}_total`)]));
    const before = io(await scrape(`${base}/metrics`));
    const conn = await amqp.connect(tb.url);
    const ch = await conn.createConfirmChannel();
    const q = uniq('prom-io');
    await ch.assertQueue(q, { durable: true });
    // More than the 2,048-message memory window: the middle is read back from the segment files.
    const body = Buffer.alloc(1000, 'x');
    for (let i = 0; i < 5000; i++) ch.sendToQueue(q, body, { persistent: true });
    await ch.waitForConfirms();
    const written = io(await scrape(`${base}/metrics`));
    assert.ok(written['write_bytes']! - before['write_bytes']! >= 5000 * 1000, 'every persistent body written');
    assert.ok(written['write_ops']! > before['write_ops']!);
    assert.ok(written['sync_ops']! > before['sync_ops']!, 'confirms waited for fdatasync');
    assert.ok(written['sync_time_seconds']! > before['sync_time_seconds']!);
    for (let i = 0; i < 5000; i++) assert.ok(await ch.get(q, { noAck: true }));
    const read = io(await scrape(`${base}/metrics`));
    assert.ok(read['read_ops']! > written['read_ops']!, 'the paged middle was read back');
    assert.ok(read['read_bytes']! - written['read_bytes']! >= 1000 * 1000, `read back ${read['read_bytes']! - written['read_bytes']!} bytes`);
    assert.deepEqual([read['seek_ops'], read['reopen_ops'], read['seek_time_seconds']], [0, 0, 0], 'positional I/O: no seeks, no reopening');
    const order = [...(await scrape(`${base}/metrics/per-object`)).types.keys()];
    assert.equal(order.indexOf('rabbitmq_io_read_ops_total'), order.indexOf('rabbitmq_erlang_uptime_seconds') + 1, 'right after node_metrics, as RabbitMQ');
    await ch.deleteQueue(q);
    await conn.close();
  });

  test('/metrics/detailed returns only the requested families, per object, for the requested vhosts', async () => {
    const conn = await amqp.connect(tb.url);
    const ch = await conn.createChannel();
    const q = uniq('prom-detailed');
    await ch.assertQueue(q, { exclusive: true });
    ch.sendToQueue(q, Buffer.from('abc'));
    await ch.checkQueue(q);
    let s!: Scrape;
    await eventually(async () => {
      s = await scrape(`${base}/metrics/detailed?family=queue_coarse_metrics&family=vhost_status&vhost=%2F`);
      assert.equal(s.types.get('rabbitmq_detailed_queue_messages_ready'), 'gauge');
      assert.equal(value(s, 'rabbitmq_detailed_queue_messages_ready', { vhost: '/', queue: q }), 1);
    });
    assert.equal(value(s, 'rabbitmq_cluster_vhost_status', { vhost: '/' }), 1);
    assert.equal(s.samples.filter((x) => x.name.startsWith('rabbitmq_detailed_channel')).length, 0);
    assert.equal(find(s, 'rabbitmq_detailed_connections_opened_total').length, 0);
    assert.equal(find(s, 'rabbitmq_identity_info').length, 1);
    const other = await scrape(`${base}/metrics/detailed?family=queue_coarse_metrics&vhost=${uniq('no-such-vhost')}`);
    assert.equal(find(other, 'rabbitmq_detailed_queue_messages_ready').length, 0);
    const none = await scrape(`${base}/metrics/detailed`);
    assert.equal(none.samples.filter((x) => x.name.startsWith('rabbitmq_detailed_')).length, 0);
    await conn.close();
  });

  test('unknown paths are 404 as in RabbitMQ: "Unknown Registry" under /metrics/, the API\'s JSON elsewhere', async () => {
    const registry = await fetch(`${base}/metrics/nope`);
    assert.equal(registry.status, 404);
    assert.equal(await registry.text(), 'Unknown Registry');
    const other = await fetch(`${base}/nope`);
    assert.equal(other.status, 404);
    assert.deepEqual(await other.json(), { error: 'Object Not Found', reason: 'Not Found' });
  });

  test('a gzip scrape decodes to the same families', async () => {
    const res = await fetch(`${base}/metrics`, { headers: { 'accept-encoding': 'gzip' } });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    assert.match(await res.text(), /^# TYPE rabbitmq_identity_info untyped$/m);
  });
});

describe('Prometheus endpoint options', { skip: process.env['WARREN_TEST_AMQP_URL'] ? 'Warren options' : false }, () => {
  test('prometheusPort 0 disables it', async () => {
    const tb = await startTestBroker({ prometheusPort: 0 });
    try {
      assert.equal(tb.broker!.prometheus, undefined);
      assert.equal(tb.broker!.prometheusPort, 0);
    } finally {
      await tb.close();
    }
  });
});

