// The stream protocol codec under fuzzing: every request survives encode → split into random
// pieces → decode unchanged, and random or mutated bytes only ever raise StreamDecodeError (or a
// frame-size error), never another exception, a hang, or a read outside the frame.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Key, OffsetType } from '../src/stream/constants.js';
import { FrameTooLargeError, frameMaxCheck, StreamDecodeError, StreamReader } from '../src/stream/codec.js';
import { FrameSplitter } from '../src/net/frame-splitter.js';
import { decodeRequest, encodeRequest, type Request } from '../src/stream/requests.js';

/** A small deterministic PRNG so a failure can be replayed from its seed. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomRequest(rnd: () => number): Request {
  const int = (n: number) => Math.floor(rnd() * n);
  const str = () => Buffer.from(Array.from({ length: int(12) }, () => 97 + int(26))).toString() + (rnd() < 0.2 ? 'é✓' : '');
  const map = () => Object.fromEntries(Array.from({ length: int(4) }, () => [str(), str()]));
  const corr = int(2 ** 32);
  const u64 = () => BigInt(int(2 ** 32)) * 65536n + BigInt(int(65536));
  const requests: Request[] = [
    { key: Key.PeerProperties, correlationId: corr, properties: map() },
    { key: Key.SaslHandshake, correlationId: corr },
    { key: Key.SaslAuthenticate, correlationId: corr, mechanism: 'PLAIN', response: Buffer.from(`\0${str()}\0${str()}`) },
    { key: Key.Tune, frameMax: int(2 ** 31), heartbeat: int(600) },
    { key: Key.Open, correlationId: corr, vhost: str() },
    { key: Key.Close, correlationId: corr, code: int(20), reason: str() },
    { key: Key.Heartbeat },
    { key: Key.DeclarePublisher, correlationId: corr, publisherId: int(256), reference: str(), stream: str() },
    { key: Key.Publish, publisherId: int(256), messages: Array.from({ length: int(5) }, () => ({ publishingId: u64(), body: randomBytes(int(40)) })) },
    { key: Key.QueryPublisherSequence, correlationId: corr, reference: str(), stream: str() },
    { key: Key.DeletePublisher, correlationId: corr, publisherId: int(256) },
    { key: Key.Subscribe, correlationId: corr, subscriptionId: int(256), stream: str(), offset: rnd() < 0.5 ? { type: OffsetType.Offset, offset: u64() } : { type: OffsetType.Next }, credit: int(65536), properties: map() },
    { key: Key.Subscribe, correlationId: corr, subscriptionId: int(256), stream: str(), offset: { type: OffsetType.Timestamp, timestamp: BigInt(Date.now()) }, credit: 1, properties: {} },
    { key: Key.Credit, subscriptionId: int(256), credit: int(65536) },
    { key: Key.ConsumerUpdate, correlationId: corr, code: 1, offset: rnd() < 0.5 ? { type: OffsetType.Offset, offset: u64() } : { type: OffsetType.First } },
    { key: Key.StoreOffset, reference: str(), stream: str(), offset: u64() },
    { key: Key.QueryOffset, correlationId: corr, reference: str(), stream: str() },
    { key: Key.Unsubscribe, correlationId: corr, subscriptionId: int(256) },
    { key: Key.Create, correlationId: corr, stream: str(), arguments: map() },
    { key: Key.Delete, correlationId: corr, stream: str() },
    { key: Key.Metadata, correlationId: corr, streams: Array.from({ length: int(4) }, str) },
    { key: Key.Route, correlationId: corr, routingKey: str(), superStream: str() },
    { key: Key.Partitions, correlationId: corr, superStream: str() },
    { key: Key.ExchangeCommandVersions, correlationId: corr, versions: [{ key: 1, min: 1, max: 2 }, { key: int(30), min: 1, max: 1 }] },
    { key: Key.StreamStats, correlationId: corr, stream: str() },
  ];
  return requests[int(requests.length)]!;
}

/** A splitter as the stream protocol uses it: frames above maxFrame refused, with `reuse` as the server's. */
function streamSplitter(maxFrame: number, reuse = false): FrameSplitter {
  return new FrameSplitter(frameMaxCheck(() => maxFrame), reuse ? { upTo: (1 << 20) + 4, releaseIdle: true } : undefined);
}

/** Feeds bytes to a splitter in random pieces, decoding each frame. */
function decodeAll(bytes: Buffer, rnd: () => number, maxFrame = 1 << 20, reuse = false, maxPiece = 64): Request[] {
  const splitter = streamSplitter(maxFrame, reuse);
  const out: Request[] = [];
  let p = 0;
  while (p < bytes.length) {
    const n = 1 + Math.floor(rnd() * maxPiece);
    // Copy each piece: decoded views must not depend on the caller keeping its buffer.
    splitter.push(Buffer.from(bytes.subarray(p, p + n)), (buf, start, end) => {
      const q = decodeRequest(new StreamReader(buf, start, end));
      out.push(JSON.parse(JSON.stringify(q, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v))) as Request);
    });
    p += n;
  }
  return out;
}

const plain = (q: Request) => JSON.parse(JSON.stringify(q, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v)));

describe('stream codec fuzz', () => {
  test('2000 random requests round-trip through encode, arbitrary splitting and decode', () => {
    const rnd = prng(19);
    const requests = Array.from({ length: 2000 }, () => randomRequest(rnd));
    const decoded = decodeAll(Buffer.concat(requests.map(encodeRequest)), rnd);
    assert.equal(decoded.length, requests.length);
    for (let i = 0; i < requests.length; i++) assert.deepEqual(decoded[i], plain(requests[i]!), `request ${i}`);
  });

  test('with a reused reassembly buffer (the server), frames of every size split anywhere decode the same', () => {
    const rnd = prng(23);
    const int = (n: number) => Math.floor(rnd() * n);
    // Small frames and publish frames up to 300 KiB, so the kept buffer grows and is reused by
    // smaller frames; pieces up to 64 KiB, as socket reads are.
    const requests: Request[] = Array.from({ length: 300 }, (_, i) => i % 3 === 0
      ? { key: Key.Publish, publisherId: 1, messages: Array.from({ length: 1 + int(30) }, (_x, j) => ({ publishingId: BigInt(j), body: randomBytes(int(10_000)) })) }
      : randomRequest(rnd));
    for (const maxPiece of [64, 65536]) {
      const decoded = decodeAll(Buffer.concat(requests.map(encodeRequest)), rnd, 1 << 20, true, maxPiece);
      assert.equal(decoded.length, requests.length);
      for (let i = 0; i < requests.length; i++) assert.deepEqual(decoded[i], plain(requests[i]!), `request ${i}, pieces up to ${maxPiece}`);
    }
  });

  test('the kept reassembly buffer is reused across split frames and let go once a read ends on a frame boundary', () => {
    const splitter = streamSplitter(1 << 20, true);
    const frame = encodeRequest({ key: Key.Publish, publisherId: 1, messages: [{ publishingId: 1n, body: Buffer.alloc(100_000, 1) }] });
    const seen: Buffer[] = [];
    const onFrame = (buf: Buffer) => void seen.push(buf);
    // Two frames, each split in two reads: both assembled in the same buffer.
    splitter.push(frame.subarray(0, 60_000), onFrame);
    splitter.push(Buffer.concat([frame.subarray(60_000), frame.subarray(0, 30_000)]), onFrame);
    assert.ok(splitter.reassemblyBytes >= frame.length, 'a partial frame is held');
    splitter.push(frame.subarray(30_000), onFrame);
    assert.equal(seen.length, 2);
    assert.ok(seen[0] === seen[1], 'both split frames were assembled in the kept buffer');
    // That last read ended on a frame boundary: a connection that stops there holds nothing.
    assert.equal(splitter.reassemblyBytes, 0);
  });

  test('random and mutated frames raise only StreamDecodeError or FrameTooLargeError', () => {
    const rnd = prng(7);
    let decodeErrors = 0;
    let decoded = 0;
    for (let i = 0; i < 5000; i++) {
      let bytes: Buffer;
      if (i % 2 === 0) {
        bytes = Buffer.from(encodeRequest(randomRequest(rnd)));
        for (let k = 0; k < 1 + Math.floor(rnd() * 4); k++) bytes[4 + Math.floor(rnd() * (bytes.length - 4))] = Math.floor(rnd() * 256);
      } else {
        const body = randomBytes(Math.floor(rnd() * 64));
        bytes = Buffer.concat([Buffer.from([0, 0, 0, body.length]), body]);
        if (body.length >= 2) body.writeUInt16BE(1 + Math.floor(rnd() * 28), 0);
      }
      try {
        decoded += decodeAll(bytes, rnd, 4096).length;
      } catch (e) {
        assert.ok(e instanceof StreamDecodeError || e instanceof FrameTooLargeError, `unexpected ${String(e)}`);
        decodeErrors++;
      }
    }
    assert.ok(decodeErrors > 100 && decoded > 100, `errors ${decodeErrors}, decoded ${decoded}`);
  });

  test('a declared size above frame_max is refused before the frame arrives', () => {
    const splitter = streamSplitter(1000);
    const head = Buffer.alloc(4);
    head.writeUInt32BE(1_000_000);
    assert.throws(() => splitter.push(head, () => assert.fail('no frame expected')), FrameTooLargeError);
  });
});
