// The stream protocol's delivery path with Warren's own raw client: backlogs read from segment files
// into reused buffers, several chunks per read, under small and large credit, while publishers
// append. Every record must arrive exactly once and in order, each Deliver frame must be one whole
// chunk (offsets consecutive across chunks), and two subscriptions reading the same backlog at once
// must not see each other's bytes. The bodies also run against RabbitMQ 3.10 with rabbitmq_stream
// (WARREN_TEST_STREAM_PORT=<its stream port>).
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { StreamClient } from '../src/stream/client.js';
import { firstDeliveryDelayMs } from '../src/stream/subscription.js';
import { Code, Key, OffsetType } from '../src/stream/constants.js';
import { startStreamBroker, type StreamTestBroker } from './support/stream-broker.js';
import { waitFor } from './support/eventually.js';
import { uniq } from './support/test-broker.js';

const externalPort = process.env['WARREN_TEST_STREAM_PORT'];

const body = (i: number, size: number): Buffer => Buffer.from(`m${i}:`.padEnd(size, '.'));

/** Simple (non-batched) entries of a chunk's data. */
function entries(chunk: Buffer): string[] {
  const out: string[] = [];
  const end = 48 + chunk.readUInt32BE(36);
  for (let p = 48; p < end;) {
    const size = chunk.readUInt32BE(p);
    out.push(chunk.toString('utf8', p + 4, p + 4 + size));
    p += 4 + size;
  }
  return out;
}

/** What one subscription received: record bodies and each chunk's first offset and record count. */
interface Received { bodies: string[]; chunks: { first: number; records: number }[] }

/**
 * Subscribes from `first` with `credit`, giving one credit back per chunk (after a setImmediate every
 * `slowEvery`-th chunk, so credit runs out now and then), and collects what arrives.
 */
async function subscribe(c: StreamClient, id: number, stream: string, credit: number, slowEvery = 0): Promise<Received> {
  const got: Received = { bodies: [], chunks: [] };
  const previous = c.onDeliver;
  c.onDeliver = (sub, chunk) => {
    if (sub !== id) return previous(sub, chunk);
    got.chunks.push({ first: Number(chunk.readBigUInt64BE(24)), records: chunk.readUInt32BE(4) });
    got.bodies.push(...entries(chunk));
    const give = () => c.send({ key: Key.Credit, subscriptionId: id, credit: 1 });
    if (slowEvery > 0 && got.chunks.length % slowEvery === 0) setImmediate(give);
    else give();
  };
  assert.equal((await c.subscribe(id, stream, { type: OffsetType.First }, credit)).code, Code.Ok);
  return got;
}

/** Each chunk starts where the previous one ended, from offset 0: no chunk twice, none skipped. */
function assertWholeChunksInOrder(r: Received): void {
  let next = 0;
  for (const ch of r.chunks) {
    assert.equal(ch.first, next, `chunk at ${ch.first} follows the one ending at ${next}`);
    next += ch.records;
  }
}

/** Publishes ids [from, to) in frames of `perFrame`, waiting for each frame's confirm when `oneChunkEach`. */
async function publish(c: StreamClient, publisherId: number, from: number, to: number, perFrame: number, size: number, confirmed: () => number, oneChunkEach = false): Promise<void> {
  for (let i = from; i < to; i += perFrame) {
    const messages = [];
    for (let j = i; j < Math.min(to, i + perFrame); j++) messages.push({ publishingId: BigInt(j + 1), body: body(j, size) });
    if (!c.send({ key: Key.Publish, publisherId, messages })) await new Promise((r) => c.socket.once('drain', r));
    if (oneChunkEach) await waitFor(`confirm of ${i + messages.length}`, () => confirmed() >= i + messages.length);
    else if (i % (perFrame * 20) === 0) await new Promise((r) => setImmediate(r));
  }
  await waitFor(`${to} confirms`, () => confirmed() >= to, 60_000);
}

describe('stream delivery from segment files', () => {
  let b: StreamTestBroker | undefined;
  let port = Number(externalPort);
  before(async () => {
    if (externalPort) return;
    b = await startStreamBroker();
    port = b.streamPort;
  });
  after(async () => b?.close());

  interface Publisher { c: StreamClient; confirmed: () => number }

  /**
   * Runs `fn` with a client, a new stream (`args` at its creation) and a publisher on it (publisher id
   * 1, `reference`); then closes the publisher, deletes the stream and closes the client.
   */
  async function withStream(name: string, args: Record<string, string>, reference: string,
    fn: (c: StreamClient, stream: string, p: Publisher) => Promise<void>): Promise<void> {
    const c = await StreamClient.connect({ host: '127.0.0.1', port });
    const stream = uniq(name);
    assert.equal((await c.request({ key: Key.Create, stream, arguments: args })).code, Code.Ok);
    const pc = await StreamClient.connect({ host: '127.0.0.1', port });
    try {
      assert.equal((await pc.request({ key: Key.DeclarePublisher, publisherId: 1, reference, stream })).code, Code.Ok);
      let n = 0;
      pc.onConfirm = (_id, count) => void (n += count);
      await fn(c, stream, { c: pc, confirmed: () => n });
    } finally {
      await pc.close();
      await c.request({ key: Key.Delete, stream });
      await c.close();
    }
  }

  test('credit 1, a backlog over several segments, a publisher appending meanwhile: every record once, in order', () =>
    // 200 KB segments: the 3 MB written make about fifteen of them. A publisher reference: every chunk
    // carries a dedup trailer, which is read but never delivered.
    withStream('consume-segments', { 'stream-max-segment-size-bytes': '200000' }, 'consume-ref', async (c, stream, p) => {
      const total = 3000;
      await publish(p.c, 1, 0, total / 2, 50, 1000, p.confirmed);
      const got = await subscribe(c, 4, stream, 1, 7);
      await publish(p.c, 1, total / 2, total, 50, 1000, p.confirmed);
      await waitFor(`${total} records delivered`, () => got.bodies.length >= total, 60_000);
      assert.equal(got.bodies.length, total, 'nothing delivered twice');
      assert.deepEqual(got.bodies.map((s) => s.slice(0, s.indexOf(':'))), Array.from({ length: total }, (_, i) => `m${i}`));
      assert.deepEqual(got.bodies, Array.from({ length: total }, (_, i) => body(i, 1000).toString()));
      assertWholeChunksInOrder(got);
      const segments = b?.broker?.streams.get('/', stream)?.log.segmentCount;
      if (segments !== undefined) assert.ok(segments > 2, `the backlog spans ${segments} segments`);
    }));

  test('many small chunks and large credit: several chunks per read, each delivered once and whole', () =>
    withStream('consume-small', {}, '', async (c, stream, p) => {
      // Each frame confirmed before the next is sent: one chunk each (at Warren), 3 records of 40 bytes.
      await publish(p.c, 1, 0, 600, 3, 40, p.confirmed, true);
      const got = await subscribe(c, 2, stream, 100);
      await waitFor('600 records delivered', () => got.bodies.length >= 600, 60_000);
      // Appends after the backlog was read reach the same subscription.
      await publish(p.c, 1, 600, 660, 3, 40, p.confirmed, true);
      await waitFor('660 records delivered', () => got.bodies.length >= 660, 60_000);
      assert.deepEqual(got.bodies, Array.from({ length: 660 }, (_, i) => body(i, 40).toString()));
      assertWholeChunksInOrder(got);
      if (!externalPort) assert.equal(got.chunks.length, 220, 'one Deliver frame per chunk');
    }));

  test('two subscriptions reading the same backlog at once each get all of it, unmixed', () =>
    withStream('consume-two', {}, '', async (c, stream, p) => {
      const total = 20_000;
      await publish(p.c, 1, 0, total, 100, 300, p.confirmed);
      const other = await StreamClient.connect({ host: '127.0.0.1', port });
      const [x, y, z] = await Promise.all([subscribe(c, 1, stream, 3), subscribe(c, 2, stream, 10, 3), subscribe(other, 1, stream, 1)]);
      await waitFor('every subscription has everything', () => x.bodies.length >= total && y.bodies.length >= total && z.bodies.length >= total, 60_000);
      const expected = Array.from({ length: total }, (_, i) => body(i, 300).toString());
      for (const r of [x, y, z]) {
        assert.deepEqual(r.bodies, expected);
        assertWholeChunksInOrder(r);
      }
      await other.close();
    }));

  test('a client skimming deliveries (the bench consumer) counts every record of a backlog', () =>
    withStream('consume-skim', {}, '', async (_c, stream, p) => {
      const total = 30_000;
      await publish(p.c, 1, 0, total, 100, 1000, p.confirmed);
      const skim = await StreamClient.connect({ host: '127.0.0.1', port, skimDeliveries: true });
      let records = 0;
      let next = 0;
      skim.onDeliver = (id, header) => {
        assert.equal(Number(header.readBigUInt64BE(24)), next, 'chunks in order, none twice');
        next += header.readUInt32BE(4);
        records += header.readUInt32BE(4);
        skim.send({ key: Key.Credit, subscriptionId: id, credit: 1 });
      };
      assert.equal((await skim.subscribe(1, stream, { type: OffsetType.First }, 2)).code, Code.Ok);
      await waitFor(`${total} records`, () => records >= total, 60_000);
      // Responses still arrive whole on a skimming connection.
      assert.equal((await skim.request({ key: Key.Unsubscribe, subscriptionId: 1 })).code, Code.Ok);
      assert.equal(records, total);
      await skim.close();
    }));

  test('only rabbitmq-stream-js-client waits 50 ms for its first chunk; other clients get it at once', { skip: externalPort !== undefined && 'Warren\'s own workaround' }, () =>
    withStream('consume-first', {}, '', async (_c, stream, p) => {
      const js = { product: 'RabbitMQ Stream', version: '0.3.0', platform: 'javascript' };
      assert.equal(firstDeliveryDelayMs(js), 50);
      assert.equal(firstDeliveryDelayMs({ product: 'RabbitMQ Stream', platform: 'java' }), 0);
      assert.equal(firstDeliveryDelayMs({ product: 'warren-stream-client' }), 0);
      await publish(p.c, 1, 0, 100, 100, 10, p.confirmed);
      // The timer starts when the broker reads the subscribe request, after the client sent it.
      const client = await StreamClient.connect({ host: '127.0.0.1', port, properties: js });
      let firstAt = 0;
      client.onDeliver = () => void (firstAt ||= performance.now());
      const sent = performance.now();
      assert.equal((await client.subscribe(1, stream, { type: OffsetType.First }, 1)).code, Code.Ok);
      await waitFor('the first chunk', () => firstAt > 0);
      assert.ok(firstAt - sent >= 45, `first chunk ${(firstAt - sent).toFixed(1)} ms after the subscribe request`);
      await client.close();
    }));
});
