/**
 * kill -9 of the broker while a stream is written and read over the stream protocol, then recovery
 * on the same data dir (the habit of broker-crash.test.ts, for streams).
 *
 * Each iteration: a publisher with a reference (deduplication) sends checksummed bodies of mixed
 * sizes in publish frames, a window of unconfirmed ids at most, and resumes after a crash from the
 * broker's query_publisher_sequence; a consumer reads from `first`, stores its offset by reference
 * every few chunks and queries it back (after a crash it resumes after its stored offset). At a random moment 200-1200 ms into the load the broker
 * gets SIGKILL and is started again on the same data dir. Checked after each crash:
 * - every confirmed publishing id is in the stream, intact (sha256 in the body);
 * - offsets are consecutive from 0 and ids increase with them: nothing lost in between, nothing
 *   written twice (the publisher's resumption relies on the recovered sequence);
 * - query_publisher_sequence is at least the highest confirmed id;
 * - the stored offset is at least the last one a query_offset answered before the crash.
 *
 * STREAM_CRASH_ITERATIONS (default 3) bounds the iterations; STREAM_CRASH_SECONDS (default 40)
 * stops early once spent (always at least one iteration).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { waitFor } from './support/eventually.js';
import { StreamClient } from '../src/stream/client.js';
import { Code, Key, OffsetType } from '../src/stream/constants.js';
import { forEachEntry } from '../src/stream/chunk.js';
import { checkedBody, checkedId } from './support/checked-body.js';
import { spawnWarren, type WarrenChild } from './support/warren-child.js';
import { freePort } from './support/free-port.js';

const STREAM = 'crash-stream';
const PUBLISHER_REF = 'crash-publisher';
const READER_REF = 'crash-reader';
const FRAME_MESSAGES = 50;
const WINDOW = 2_000;
/** Mostly small bodies, some of several KiB. */
const payloadBytes = (id: number): number => (id % 97 === 0 ? 20_000 : 16 + ((id * 7919) % 900));

const iterations = Math.max(1, Number(process.env['STREAM_CRASH_ITERATIONS'] ?? 3));
const budgetSeconds = Number(process.env['STREAM_CRASH_SECONDS'] ?? 40);

const dataDir = mkdtempSync(join(tmpdir(), 'warren-stream-crash-'));
let broker: WarrenChild | undefined;
const clients: StreamClient[] = [];
after(async () => {
  for (const c of clients) c.socket.destroy();
  await broker?.kill('SIGTERM');
  rmSync(dataDir, { recursive: true, force: true });
});

async function start(): Promise<{ broker: WarrenChild; port: number }> {
  const port = await freePort();
  const b = await spawnWarren({ dataDir, args: ['--stream-port', String(port), '--stream-bind', '127.0.0.1'], startTimeoutMs: 60_000 });
  return { broker: b, port };
}

async function connect(port: number): Promise<StreamClient> {
  const c = await StreamClient.connect({ host: '127.0.0.1', port });
  clients.push(c);
  return c;
}

async function u64Query(c: StreamClient, key: typeof Key.QueryPublisherSequence | typeof Key.QueryOffset, reference: string): Promise<{ code: number; value: bigint }> {
  const r = await c.request({ key, reference, stream: STREAM });
  return { code: r.code, value: r.code === Code.Ok ? r.reader.u64() : 0n };
}

/** Every record of the stream from offset 0: its offset and the id its intact body carries. */
async function readStream(c: StreamClient, expected: number): Promise<{ offset: number; id: number | undefined }[]> {
  const got: { offset: number; id: number | undefined }[] = [];
  c.onDeliver = (sub, chunk) => {
    const first = Number(chunk.readBigUInt64BE(24));
    forEachEntry(chunk, (body, i) => got.push({ offset: first + i, id: checkedId(Buffer.from(body)) }));
    c.send({ key: Key.Credit, subscriptionId: sub, credit: 1 });
  };
  assert.equal((await c.subscribe(9, STREAM, { type: OffsetType.First }, 10)).code, Code.Ok);
  await waitFor(`${expected} records read back`, () => got.length >= expected, 60_000);
  await c.request({ key: Key.Unsubscribe, subscriptionId: 9 });
  return got;
}

test('kill -9 of the broker under stream load loses no confirmed message, offset or sequence', { timeout: (budgetSeconds + 240) * 1000 }, async (t) => {
  let { broker: b, port } = await start();
  broker = b;
  const setup = await connect(port);
  assert.equal((await setup.request({ key: Key.Create, stream: STREAM, arguments: {} })).code, Code.Ok);
  setup.socket.destroy();

  let maxConfirmed = 0;
  let storedSeen = -1n;
  const t0 = Date.now();
  for (let round = 0; round < iterations; round++) {
    if (round > 0 && Date.now() - t0 > budgetSeconds * 1000) break;

    // --- load: publish with confirms, read and store offsets ---
    const pub = await connect(port);
    assert.equal((await pub.request({ key: Key.DeclarePublisher, publisherId: 1, reference: PUBLISHER_REF, stream: STREAM })).code, Code.Ok);
    let nextId = Number((await u64Query(pub, Key.QueryPublisherSequence, PUBLISHER_REF)).value) + 1;
    let confirmedThisLoad = 0;
    pub.onConfirm = (_p, count, reader) => {
      for (let i = 0; i < count; i++) maxConfirmed = Math.max(maxConfirmed, Number(reader.u64()));
      confirmedThisLoad += count;
    };
    const reader = await connect(port);
    let chunks = 0;
    let lastOffset = -1n;
    reader.onDeliver = (sub, chunk) => {
      lastOffset = chunk.readBigUInt64BE(24) + BigInt(chunk.readUInt32BE(4)) - 1n;
      reader.send({ key: Key.Credit, subscriptionId: sub, credit: 1 });
      if (++chunks % 5 === 0) {
        const offset = lastOffset;
        reader.send({ key: Key.StoreOffset, reference: READER_REF, stream: STREAM, offset });
        void u64Query(reader, Key.QueryOffset, READER_REF).then((r) => {
          if (r.code === Code.Ok && r.value > storedSeen) storedSeen = r.value;
        }, () => {});
      }
    };
    // The reader resumes after its stored offset, as a tracking consumer does, so stored offsets only grow.
    const resume = await u64Query(reader, Key.QueryOffset, READER_REF);
    const from = resume.code === Code.Ok ? { type: OffsetType.Offset, offset: resume.value + 1n } as const : { type: OffsetType.First } as const;
    await reader.subscribe(1, STREAM, from, 10);

    const killAt = Date.now() + 200 + Math.floor(Math.random() * 1000);
    let sent = 0;
    while (Date.now() < killAt) {
      if (sent - confirmedThisLoad >= WINDOW) {
        await new Promise((r) => setTimeout(r, 1));
        continue;
      }
      const messages = Array.from({ length: FRAME_MESSAGES }, () => {
        const id = nextId++;
        return { publishingId: BigInt(id), body: checkedBody(id, payloadBytes(id)) };
      });
      pub.send({ key: Key.Publish, publisherId: 1, messages });
      sent += FRAME_MESSAGES;
      await new Promise((r) => setImmediate(r));
    }
    assert.ok(confirmedThisLoad > 0 || round > 0, `something was confirmed before the kill (sent ${sent})`);
    await b.kill('SIGKILL');
    pub.socket.destroy();
    reader.socket.destroy();

    // --- restart and check ---
    ({ broker: b, port } = await start());
    broker = b;
    const check = await connect(port);
    const sequence = await u64Query(check, Key.QueryPublisherSequence, PUBLISHER_REF);
    assert.ok(Number(sequence.value) >= maxConfirmed, `publisher sequence ${sequence.value} below the highest confirmed id ${maxConfirmed}`);
    const records = await readStream(check, Number(sequence.value));
    let expectedOffset = 0;
    let previousId = 0;
    for (const r of records) {
      assert.equal(r.offset, expectedOffset++, 'offsets are consecutive from 0');
      assert.ok(r.id !== undefined, `record ${r.offset} is intact`);
      assert.ok(r.id > previousId, `record ${r.offset}: id ${r.id} after ${previousId} (no duplicate, in order)`);
      previousId = r.id;
    }
    const ids = new Set(records.map((r) => r.id));
    for (let id = 1; id <= maxConfirmed; id++) assert.ok(ids.has(id), `confirmed id ${id} is in the stream`);
    assert.equal(previousId, Number(sequence.value), 'the sequence is the last id stored');
    const stored = await u64Query(check, Key.QueryOffset, READER_REF);
    if (storedSeen >= 0n) {
      assert.equal(stored.code, Code.Ok);
      assert.ok(stored.value >= storedSeen, `stored offset ${stored.value} below ${storedSeen} answered before the crash`);
    }
    t.diagnostic(`round ${round}: ${sent} sent, ${confirmedThisLoad} confirmed, ${records.length} records after restart, stored offset ${stored.value} (seen ${storedSeen})`);
    check.socket.destroy();
  }
  assert.ok(maxConfirmed > 0, 'messages were confirmed');
});
