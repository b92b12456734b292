// The chunk builder's buffers (chunk-builder.ts): a sealed chunk's buffer, given back once its write is
// done, serves a later chunk (no new, page-faulting allocation per chunk under load); a new chunk
// starts at the size the last one reached; trim() gives spares no chunk needed back; reused buffers
// never mix one chunk's bytes into another's.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ChunkBuilder } from '../src/stream/chunk-builder.js';
import { CHUNK_HEADER, forEachEntry, readChunkHeader } from '../src/stream/chunk.js';
import { crc32 } from '../src/store/index.js';

const NO_WRITERS: ReadonlyMap<string, bigint> = new Map();

function chunkOf(b: ChunkBuilder, bodies: Buffer[], firstOffset: number): Buffer {
  for (const body of bodies) b.addMessage(body);
  const sealed = b.seal(firstOffset, 1_000, NO_WRITERS, crc32);
  b.reset(true);
  return sealed;
}

function bodiesOf(chunk: Buffer): string[] {
  const out: string[] = [];
  forEachEntry(chunk, (body) => out.push(body.toString()));
  return out;
}

describe('stream chunk builder', () => {
  test('a recycled buffer serves the next chunk; chunks stay intact; a new chunk starts at the last one\'s size', () => {
    const b = new ChunkBuilder();
    const big = Array.from({ length: 300 }, (_, i) => Buffer.alloc(1000, 97 + (i % 26)));
    const first = chunkOf(b, big, 0);
    const firstBytes = Buffer.from(first);
    assert.ok(first.buffer.byteLength >= 300 * 1004 + CHUNK_HEADER);
    // The first chunk's write is done: its buffer comes back. The second chunk is built in the buffer
    // taken when the first was handed over — allocated at the size the first one reached — and the
    // third in the recycled one.
    b.recycle(first);
    const second = chunkOf(b, [Buffer.from('x')], 300);
    assert.ok(second.buffer !== first.buffer);
    assert.ok(second.buffer.byteLength >= first.length, `second buffer ${second.buffer.byteLength} < ${first.length}`);
    const third = chunkOf(b, [Buffer.from('third'), Buffer.from('chunk')], 301);
    assert.ok(third.buffer === first.buffer, 'the recycled buffer is reused');
    assert.deepEqual(bodiesOf(third), ['third', 'chunk']);
    const h = readChunkHeader(third)!;
    assert.equal(h.firstOffset, 301);
    assert.equal(h.records, 2);
    assert.equal(crc32(third.subarray(CHUNK_HEADER, CHUNK_HEADER + h.dataLength)) >>> 0, h.crc);
    // The second chunk (another buffer, still "being written") was not touched by the third.
    assert.deepEqual(bodiesOf(second), ['x']);
    assert.equal(bodiesOf(firstBytes).length, 300);
  });

  test('trim() frees the spares no chunk took since the previous trim; a quiet builder keeps none', () => {
    const b = new ChunkBuilder();
    const handedOver = Array.from({ length: 5 }, (_, i) => chunkOf(b, [Buffer.from(`m${i}`)], i));
    for (const c of handedOver) b.recycle(c);
    // Load: two chunks take spares, then their writes finish and give them back; three spares were
    // never needed since the previous trim.
    assert.equal(b.trim(), true, 'the first trim only starts counting');
    const reused = [chunkOf(b, [Buffer.from('a')], 5), chunkOf(b, [Buffer.from('b')], 6)];
    assert.ok(handedOver.some((c) => c.buffer === reused[1]!.buffer), 'a spare served the chunk');
    for (const c of reused) b.recycle(c);
    assert.equal(b.trim(), true, 'as many spares as were taken since the last trim are kept');
    const kept = [chunkOf(b, [Buffer.from('c')], 7), chunkOf(b, [Buffer.from('d')], 8), chunkOf(b, [Buffer.from('e')], 9)];
    for (const c of kept) b.recycle(c);
    assert.equal(b.trim(), true);
    // Quiet: nothing taken since the last trim; every spare goes.
    assert.equal(b.trim(), false, 'a builder nothing used since the last trim keeps no spare');
    // It still builds chunks afterwards, in a new buffer.
    const after = chunkOf(b, [Buffer.from('later')], 7);
    assert.ok(!handedOver.some((c) => c.buffer === after.buffer));
    assert.deepEqual(bodiesOf(after), ['later']);
  });
});
