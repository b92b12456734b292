// RabbitMQ 3.10's rabbitmq_stream_management endpoints: stream connections (list, by vhost, one by
// name, its publishers and consumers), publishers and consumers across connections, a stream
// subscription among the stream queue's consumer_details and /api/consumers, stream connections in
// /api/connections, and DELETE /api/connections/{name} closing one. Checked against the reference with
// WARREN_TEST_STREAM_PORT=<stream port> WARREN_TEST_MANAGEMENT_URL=http://127.0.0.1:<management port>
// (rabbitmq_stream_management enabled, guest/guest).
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { StreamClient } from '../src/stream/client.js';
import { Code, Key, OffsetType } from '../src/stream/constants.js';
import { startStreamBroker, type StreamTestBroker } from './support/stream-broker.js';
import { uniq } from './support/test-broker.js';
import { freePort } from './support/free-port.js';
import { eventually, waitFor } from './support/eventually.js';

const externalPort = process.env['WARREN_TEST_STREAM_PORT'];
const externalManagement = process.env['WARREN_TEST_MANAGEMENT_URL'];

type Json = Record<string, unknown>;

describe('stream management API', () => {
  let b: StreamTestBroker | undefined;
  let port: number;
  let management: string;
  before(async () => {
    if (externalPort && externalManagement) {
      port = Number(externalPort);
      management = externalManagement;
    } else {
      b = await startStreamBroker({ managementPort: await freePort() });
      port = b.streamPort;
      management = `http://127.0.0.1:${b.broker!.managementPort}`;
    }
  });
  after(async () => {
    await b?.close();
  });

  async function get(path: string, status = 200): Promise<unknown> {
    const res = await fetch(management + path, { headers: { authorization: `Basic ${Buffer.from('guest:guest').toString('base64')}` } });
    assert.equal(res.status, status, `${path}: HTTP ${res.status}`);
    return status === 200 ? res.json() : undefined;
  }

  test('a stream connection with a publisher and a consumer, seen from every endpoint', async () => {
    const c = await StreamClient.connect({ host: '127.0.0.1', port });
    const stream = uniq('mgmt');
    assert.equal((await c.request({ key: Key.Create, stream, arguments: {} })).code, Code.Ok);
    assert.equal((await c.request({ key: Key.DeclarePublisher, publisherId: 3, reference: 'mgmt-ref', stream })).code, Code.Ok);
    let confirmed = 0;
    c.onConfirm = (_p, n) => void (confirmed += n);
    c.send({ key: Key.Publish, publisherId: 3, messages: [1, 2, 3].map((i) => ({ publishingId: BigInt(i), body: Buffer.from(`m${i}`) })) });
    await waitFor('3 confirms', () => confirmed === 3);
    let delivered = 0;
    c.onDeliver = (_id, chunk) => void (delivered += chunk.readUInt32BE(4));
    assert.equal((await c.request({ key: Key.Subscribe, subscriptionId: 4, stream, offset: { type: OffsetType.First }, credit: 10, properties: { name: 'mgmt-reader' } })).code, Code.Ok);
    await waitFor('3 deliveries', () => delivered === 3);
    const local = `127.0.0.1:${c.socket.localPort} -> 127.0.0.1:${port}`;

    try {
      // Management's view of consumers and publishers is refreshed asynchronously on RabbitMQ.
      await eventually(async () => {
        const all = (await get('/api/stream/connections')) as Json[];
        const mine = all.find((x) => x['name'] === local);
        assert.ok(mine, `connection ${local} listed`);
        assert.equal(mine['protocol'], 'stream');
        assert.equal(mine['user'], 'guest');
        assert.equal(mine['vhost'], '/');
        assert.equal(mine['auth_mechanism'], 'PLAIN');
        assert.equal(mine['peer_port'], c.socket.localPort);
        assert.equal(mine['port'], port);
        assert.deepEqual(mine['client_properties'], { product: 'warren-stream-client' });
        assert.ok(((await get('/api/stream/connections/%2F')) as Json[]).some((x) => x['name'] === local));

        const one = (await get(`/api/stream/connections/%2F/${encodeURIComponent(local)}`)) as Json;
        assert.equal(one['name'], local);
        assert.equal(typeof one['recv_oct'], 'number');
        assert.ok((one['recv_oct'] as number) > 0);

        const publishers = (await get(`/api/stream/connections/%2F/${encodeURIComponent(local)}/publishers`)) as Json[];
        assert.equal(publishers.length, 1);
        const p = publishers[0]!;
        assert.equal(p['publisher_id'], 3);
        assert.equal(p['reference'], 'mgmt-ref');
        assert.deepEqual(p['queue'], { name: stream, vhost: '/' });
        assert.equal(p['published'], 3);
        assert.equal(p['confirmed'], 3);
        assert.equal(p['errored'], 0);
        assert.equal((p['connection_details'] as Json)['name'], local);
        assert.ok(((await get('/api/stream/publishers')) as Json[]).some((x) => (x['queue'] as Json)['name'] === stream));
        assert.equal(((await get(`/api/stream/publishers/%2F/${encodeURIComponent(stream)}`)) as Json[]).length, 1);

        const consumers = (await get(`/api/stream/connections/%2F/${encodeURIComponent(local)}/consumers`)) as Json[];
        assert.equal(consumers.length, 1);
        const s = consumers[0]!;
        assert.equal(s['subscription_id'], 4);
        assert.deepEqual(s['queue'], { name: stream, vhost: '/' });
        assert.equal(s['consumed'], 3);
        assert.equal(s['credits'], 9, 'one credit per chunk delivered');
        assert.equal(s['offset'], 0);
        assert.equal(s['offset_lag'], 0);
        assert.deepEqual(s['properties'], { name: 'mgmt-reader' });
        assert.ok(((await get('/api/stream/consumers/%2F')) as Json[]).some((x) => (x['queue'] as Json)['name'] === stream));

        const q = (await get(`/api/queues/%2F/${encodeURIComponent(stream)}`)) as Json;
        assert.equal(q['type'], 'stream');
        assert.equal(q['consumers'], 1);
        const details = q['consumer_details'] as Json[];
        assert.equal(details.length, 1);
        assert.equal(details[0]!['consumer_tag'], 'stream.subid-4');
        assert.equal((details[0]!['channel_details'] as Json)['connection_name'], local);

        // The general endpoints list stream connections and subscriptions too, as RabbitMQ does.
        const general = ((await get('/api/connections')) as Json[]).find((x) => x['name'] === local);
        assert.equal(general?.['protocol'], 'stream');
        assert.equal(((await get(`/api/connections/${encodeURIComponent(local)}`)) as Json)['protocol'], 'stream');
        const tags = ((await get('/api/consumers')) as Json[]).filter((x) => (x['queue'] as Json)['name'] === stream).map((x) => x['consumer_tag']);
        assert.deepEqual(tags, ['stream.subid-4']);
      }, 20_000, 500);
      // DELETE /api/connections/{name} closes a stream connection.
      const res = await fetch(`${management}/api/connections/${encodeURIComponent(local)}`, { method: 'DELETE', headers: { authorization: `Basic ${Buffer.from('guest:guest').toString('base64')}` } });
      assert.equal(res.status, 204);
      await waitFor('the connection closed', () => c.socket.destroyed || c.socket.readableEnded, 15_000);
      await get(`/api/stream/connections/%2F/${encodeURIComponent('127.0.0.1:1 -> 127.0.0.1:2')}`, 404);
    } finally {
      const cleanup = await StreamClient.connect({ host: '127.0.0.1', port });
      await cleanup.request({ key: Key.Delete, stream });
      await cleanup.close();
      c.socket.destroy();
    }
  });

  test('a publishing stream connection shows its byte rates from and to the client', async () => {
    const c = await StreamClient.connect({ host: '127.0.0.1', port });
    const stream = uniq('mgmt-rates');
    assert.equal((await c.request({ key: Key.Create, stream, arguments: {} })).code, Code.Ok);
    assert.equal((await c.request({ key: Key.DeclarePublisher, publisherId: 1, reference: '', stream })).code, Code.Ok);
    const local = `127.0.0.1:${c.socket.localPort} -> 127.0.0.1:${port}`;
    let id = 0n;
    // Publish steadily across several of the management's sample intervals (5 s on both brokers).
    const publishing = setInterval(() => {
      c.send({ key: Key.Publish, publisherId: 1, messages: [{ publishingId: ++id, body: Buffer.alloc(1000, 1) }] });
    }, 20);
    try {
      await eventually(async () => {
        const one = (await get(`/api/stream/connections/%2F/${encodeURIComponent(local)}`)) as Json;
        const from = (one['recv_oct_details'] as { rate: number } | undefined)?.rate ?? 0;
        const to = (one['send_oct_details'] as { rate: number } | undefined)?.rate ?? 0;
        assert.ok(from > 1000, `bytes from the client per second: ${from}`);
        assert.ok(to > 0, `bytes to the client (confirms) per second: ${to}`);
        const listed = ((await get('/api/stream/connections')) as Json[]).find((x) => x['name'] === local);
        assert.equal(typeof (listed?.['recv_oct_details'] as { rate: number } | undefined)?.rate, 'number');
      }, 30_000, 500);
    } finally {
      clearInterval(publishing);
      await c.request({ key: Key.Delete, stream });
      await c.close();
      c.socket.destroy();
    }
  });
});
