// The stream protocol's publish path at the frame level, with Warren's own raw client (it needs no
// command-version exchange, so these bodies also run against RabbitMQ 3.10 with rabbitmq_stream:
// WARREN_TEST_STREAM_PORT=<its stream port>): many publish frames in one socket write, every
// publishing id confirmed exactly once and the records stored in order; a frame of duplicates only;
// a sub-entry batch (compression none) stored as one entry of several records; two connections
// publishing large frames at once in pieces that end anywhere (Warren reads every stream connection
// into one shared buffer); 30 MiB in one write; a malformed frame (Warren only: RabbitMQ keeps what fits).
import { describe, test, before, after } from 'node:test';
import { waitFor } from './support/eventually.js';
import assert from 'node:assert/strict';
import { StreamClient } from '../src/stream/client.js';
import { Code, Key, OffsetType } from '../src/stream/constants.js';
import { encodeRequest } from '../src/stream/requests.js';
import { startStreamBroker, type StreamTestBroker } from './support/stream-broker.js';
import { uniq } from './support/test-broker.js';

const externalPort = process.env['WARREN_TEST_STREAM_PORT'];

/** Publishing ids from publish_confirm frames, in arrival order, and how many frames carried them. */
function collectConfirms(c: StreamClient): { ids: bigint[]; frames: number } {
  const out = { ids: [] as bigint[], frames: 0 };
  c.onConfirm = (_publisher, count, reader) => {
    out.frames++;
    for (let i = 0; i < count; i++) out.ids.push(reader.u64());
  };
  return out;
}

/** Entries of a chunk's data: simple messages, and sub-entry batches with compression none opened. */
function records(chunk: Buffer): string[] {
  const out: string[] = [];
  const end = 48 + chunk.readUInt32BE(36);
  let p = 48;
  while (p < end) {
    if (chunk[p]! & 0x80) {
      assert.equal(chunk[p]! & 0x70, 0, 'compression none');
      const n = chunk.readUInt16BE(p + 1);
      const len = chunk.readUInt32BE(p + 7);
      let q = p + 11;
      for (let i = 0; i < n; i++) {
        const size = chunk.readUInt32BE(q);
        out.push(chunk.toString('utf8', q + 4, q + 4 + size));
        q += 4 + size;
      }
      p += 11 + len;
    } else {
      const size = chunk.readUInt32BE(p);
      out.push(chunk.toString('utf8', p + 4, p + 4 + size));
      p += 4 + size;
    }
  }
  return out;
}

/** Reads every record from `first` until n have arrived. */
async function readAll(c: StreamClient, stream: string, n: number): Promise<{ bodies: string[]; chunkRecords: number[] }> {
  const bodies: string[] = [];
  const chunkRecords: number[] = [];
  c.onDeliver = (id, chunk) => {
    chunkRecords.push(chunk.readUInt32BE(4));
    bodies.push(...records(chunk));
    c.send({ key: Key.Credit, subscriptionId: id, credit: 1 });
  };
  const sub = await c.subscribe(7, stream, { type: OffsetType.First }, 5);
  assert.equal(sub.code, Code.Ok);
  await waitFor(`${n} records`, () => bodies.length >= n);
  return { bodies, chunkRecords };
}

describe('stream publish frames', () => {
  let b: StreamTestBroker | undefined;
  let port: number;
  before(async () => {
    if (externalPort) port = Number(externalPort);
    else {
      b = await startStreamBroker();
      port = b.streamPort;
    }
  });
  after(async () => {
    await b?.close();
  });

  async function newStream(c: StreamClient, name: string): Promise<string> {
    const stream = uniq(name);
    assert.equal((await c.request({ key: Key.Create, stream, arguments: {} })).code, Code.Ok);
    return stream;
  }

  test('many publish frames in one write: every id confirmed once, records stored in order', async () => {
    const c = await StreamClient.connect({ host: '127.0.0.1', port });
    const stream = await newStream(c, 'pub-batch');
    assert.equal((await c.request({ key: Key.DeclarePublisher, publisherId: 3, reference: '', stream })).code, Code.Ok);
    const confirms = collectConfirms(c);
    const frames: Buffer[] = [];
    let id = 1n;
    for (let f = 0; f < 40; f++) {
      const messages = Array.from({ length: 25 }, () => ({ publishingId: id, body: Buffer.from(`m${id++}`) }));
      frames.push(encodeRequest({ key: Key.Publish, publisherId: 3, messages }));
    }
    c.socket.write(Buffer.concat(frames));
    await waitFor('1000 confirms', () => confirms.ids.length >= 1000);
    assert.deepEqual([...confirms.ids].sort((x, y) => (x < y ? -1 : 1)), Array.from({ length: 1000 }, (_, i) => BigInt(i + 1)));
    if (!externalPort) assert.ok(confirms.frames < frames.length, `confirms are batched per fsync round (${confirms.frames} frames for ${frames.length} publish frames)`);
    const { bodies } = await readAll(c, stream, 1000);
    assert.deepEqual(bodies, Array.from({ length: 1000 }, (_, i) => `m${i + 1}`));
    await c.request({ key: Key.Delete, stream });
    await c.close();
  });

  test('two connections publishing 100 KiB frames at once, in pieces that end anywhere: each stream holds its own bodies, in order', async () => {
    // Warren reads every stream connection into one shared buffer (net/reused-reads.ts); frames
    // split across reads are reassembled per connection.
    const perStream = 3000;
    const run = async (tag: string): Promise<void> => {
      const c = await StreamClient.connect({ host: '127.0.0.1', port });
      const stream = await newStream(c, `pub-concurrent-${tag}`);
      assert.equal((await c.request({ key: Key.DeclarePublisher, publisherId: 1, reference: '', stream })).code, Code.Ok);
      const confirms = collectConfirms(c);
      const body = (i: number): string => `${tag}${i}:`.padEnd(1000, tag);
      const frames: Buffer[] = [];
      for (let id = 1; id <= perStream; id += 100) {
        frames.push(encodeRequest({ key: Key.Publish, publisherId: 1, messages: Array.from({ length: 100 }, (_, i) => ({ publishingId: BigInt(id + i), body: Buffer.from(body(id + i)) })) }));
      }
      const all = Buffer.concat(frames);
      for (let at = 0, piece = 1; at < all.length; piece = (piece * 7919) % 150_000 + 1) {
        c.socket.write(all.subarray(at, Math.min(all.length, at + piece)));
        at += piece;
        if (piece % 3 === 0) await new Promise((r) => setImmediate(r));
      }
      await waitFor(`${perStream} confirms`, () => confirms.ids.length >= perStream, 30_000);
      const { bodies } = await readAll(c, stream, perStream);
      assert.deepEqual(bodies, Array.from({ length: perStream }, (_, i) => body(i + 1)), `stream ${tag}`);
      await c.request({ key: Key.Delete, stream });
      await c.close();
    };
    await Promise.all([run('a'), run('b')]);
  });

  test('30 MiB of publish frames in one socket write: every id confirmed, every record stored', async () => {
    // Warren reads it in 1 MiB reads, and pauses the socket while the log's writes are behind; reading
    // must always resume.
    const c = await StreamClient.connect({ host: '127.0.0.1', port });
    const stream = await newStream(c, 'pub-30mib');
    assert.equal((await c.request({ key: Key.DeclarePublisher, publisherId: 2, reference: '', stream })).code, Code.Ok);
    const confirms = collectConfirms(c);
    const frames: Buffer[] = [];
    for (let id = 1; id <= 30_000; id += 100) {
      frames.push(encodeRequest({ key: Key.Publish, publisherId: 2, messages: Array.from({ length: 100 }, (_, i) => ({ publishingId: BigInt(id + i), body: Buffer.from(`${id + i}:`.padEnd(1000, 'x')) })) }));
    }
    c.socket.write(Buffer.concat(frames));
    await waitFor('30000 confirms', () => confirms.ids.length >= 30_000, 60_000);
    assert.equal(new Set(confirms.ids).size, 30_000, 'each id confirmed once');
    const { bodies } = await readAll(c, stream, 30_000);
    assert.equal(bodies.length, 30_000);
    assert.ok(bodies.every((b, i) => b.startsWith(`${i + 1}:`)), 'records in publishing order');
    await c.request({ key: Key.Delete, stream });
    await c.close();
  });

  test('a frame of duplicates only is confirmed; nothing of it is stored', async () => {
    const c = await StreamClient.connect({ host: '127.0.0.1', port });
    const stream = await newStream(c, 'pub-dups');
    assert.equal((await c.request({ key: Key.DeclarePublisher, publisherId: 1, reference: 'ref-a', stream })).code, Code.Ok);
    const confirms = collectConfirms(c);
    const send = (ids: number[]) => c.send({ key: Key.Publish, publisherId: 1, messages: ids.map((i) => ({ publishingId: BigInt(i), body: Buffer.from(`d${i}`) })) });
    send([1, 2, 3]);
    await waitFor('3 confirms', () => confirms.ids.length === 3);
    send([2, 3]);
    await waitFor('the duplicates confirmed', () => confirms.ids.length === 5);
    send([3, 4]);
    await waitFor('4 confirmed', () => confirms.ids.length === 7);
    assert.deepEqual(confirms.ids, [1n, 2n, 3n, 2n, 3n, 3n, 4n]);
    const seq = await c.request({ key: Key.QueryPublisherSequence, reference: 'ref-a', stream });
    assert.equal(seq.reader.u64(), 4n);
    const { bodies } = await readAll(c, stream, 4);
    assert.deepEqual(bodies, ['d1', 'd2', 'd3', 'd4']);
    await c.request({ key: Key.Delete, stream });
    await c.close();
  });

  test('a sub-entry batch (compression none) is one entry of several records, confirmed by its one id', async () => {
    const c = await StreamClient.connect({ host: '127.0.0.1', port });
    const stream = await newStream(c, 'pub-subentry');
    assert.equal((await c.request({ key: Key.DeclarePublisher, publisherId: 2, reference: '', stream })).code, Code.Ok);
    const confirms = collectConfirms(c);
    const inner = ['s1', 's2', 's3'].map((m) => {
      const e = Buffer.alloc(4 + m.length);
      e.writeUInt32BE(m.length, 0);
      e.write(m, 4);
      return e;
    });
    const data = Buffer.concat(inner);
    const header = Buffer.alloc(11);
    header[0] = 0x80; // sub-entry, compression none
    header.writeUInt16BE(inner.length, 1);
    header.writeUInt32BE(data.length, 3);
    header.writeUInt32BE(data.length, 7);
    c.send({ key: Key.Publish, publisherId: 2, messages: [{ publishingId: 10n, body: Buffer.concat([header, data]), subBatchRecords: 3 }] });
    await waitFor('the batch confirmed', () => confirms.ids.length === 1);
    c.send({ key: Key.Publish, publisherId: 2, messages: [{ publishingId: 11n, body: Buffer.from('after') }] });
    await waitFor('the next message confirmed', () => confirms.ids.length === 2);
    assert.deepEqual(confirms.ids, [10n, 11n]);
    const { bodies, chunkRecords } = await readAll(c, stream, 4);
    assert.deepEqual(bodies, ['s1', 's2', 's3', 'after']);
    assert.equal(chunkRecords.reduce((x, y) => x + y, 0), 4, 'the batch counts as three records');
    await c.request({ key: Key.Delete, stream });
    await c.close();
  });

  // RabbitMQ 3.10 stores and confirms the messages that fit and ignores the count; Warren refuses the
  // frame as a whole (a malformed frame closes the connection, as for every other command).
  test('a publish frame whose messages run past its end closes the connection and stores none of them', { skip: externalPort !== undefined }, async () => {
    const c = await StreamClient.connect({ host: '127.0.0.1', port });
    const stream = await newStream(c, 'pub-bad');
    assert.equal((await c.request({ key: Key.DeclarePublisher, publisherId: 1, reference: '', stream })).code, Code.Ok);
    const good = encodeRequest({ key: Key.Publish, publisherId: 1, messages: [1, 2].map((i) => ({ publishingId: BigInt(i), body: Buffer.from(`ok${i}`) })) });
    const bad = Buffer.from(good);
    bad.writeInt32BE(3, 4 + 2 + 2 + 1); // says three messages, carries two
    c.socket.write(bad);
    await waitFor('the connection closed', () => c.socket.destroyed || c.socket.readableEnded);
    // A good message published afterwards is the stream's first record.
    const check = await StreamClient.connect({ host: '127.0.0.1', port });
    assert.equal((await check.request({ key: Key.DeclarePublisher, publisherId: 1, reference: '', stream })).code, Code.Ok);
    const confirms = collectConfirms(check);
    check.send({ key: Key.Publish, publisherId: 1, messages: [{ publishingId: 1n, body: Buffer.from('after') }] });
    await waitFor('the good message confirmed', () => confirms.ids.length === 1);
    const { bodies } = await readAll(check, stream, 1);
    assert.deepEqual(bodies, ['after']);
    await check.request({ key: Key.Delete, stream });
    await check.close();
  });
});
