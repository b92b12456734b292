// The stream log on real files: offsets, chunk reads, recovery (a torn tail is cut, dedup state and
// stored offsets come back), and retention dropping whole head segments by size and by age.
import { describe, test, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StreamLog } from '../src/stream/stream-log.js';
import { forEachEntry, readChunkHeader } from '../src/stream/chunk.js';
import { crc32 } from '../src/store/index.js';

const env = { crc32 };

const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'warren-stream-log-'));
  dirs.push(d);
  return d;
};

/** Appends bodies in one turn and resolves with their offsets once fsynced. */
function appendAll(log: StreamLog, bodies: string[], writer?: string, firstId = 1n): Promise<number[]> {
  return Promise.all(bodies.map((b, i) => new Promise<number>((resolve) => {
    const written = log.append(Buffer.from(b), resolve, writer, firstId + BigInt(i));
    if (!written) resolve(-1);
  })));
}

function readAll(log: StreamLog, from: number): { offset: number; body: string }[] {
  const out: { offset: number; body: string }[] = [];
  let next = from;
  for (;;) {
    const c = log.read(next, 0);
    if (!c) return out;
    forEachEntry(c.buf, (body, i) => out.push({ offset: c.firstOffset + i, body: body.toString() }));
    next = c.firstOffset + c.records;
  }
}

describe('stream log', () => {
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  test('appends in one turn form one chunk; offsets are consecutive; readers see them after fsync', async () => {
    const log = StreamLog.open(tempDir(), { maxSegmentBytes: 1 << 20 }, env);
    assert.equal(log.read(0, 0), undefined);
    const offsets = await appendAll(log, ['a', 'b', 'c']);
    assert.deepEqual(offsets, [0, 1, 2]);
    await appendAll(log, ['d', 'e']);
    assert.equal(log.firstOffset, 0);
    assert.equal(log.lastOffset, 4);
    assert.equal(log.lastChunkStart(), 3, 'last = the first offset of the last chunk');
    assert.equal(log.chunkStart(4), 3);
    assert.deepEqual(readAll(log, 0).map((m) => m.body), ['a', 'b', 'c', 'd', 'e']);
    assert.deepEqual(readAll(log, 4).map((m) => m.offset), [3, 4], 'a read starts at the chunk holding the offset');
    log.close();
  });

  test('recovery: a torn tail is cut off; dedup state and stored offsets survive reopening', async () => {
    const dir = tempDir();
    let log = StreamLog.open(dir, { maxSegmentBytes: 1 << 20 }, env);
    await appendAll(log, ['x1', 'x2', 'x3'], 'pub-1', 1n);
    log.storeOffset('consumer-a', 2n);
    log.close();
    const segment = join(dir, fs.readdirSync(dir).find((n) => n.endsWith('.segment'))!);
    const size = fs.statSync(segment).size;
    fs.appendFileSync(segment, Buffer.from([0x50, 0, 0, 1, 0, 0])); // half a chunk header: a torn write
    log = StreamLog.open(dir, { maxSegmentBytes: 1 << 20 }, env);
    assert.equal(fs.statSync(segment).size, size, 'the torn bytes were truncated');
    assert.equal(log.lastOffset, 2);
    assert.equal(log.publisherSequence('pub-1'), 3n);
    assert.equal(log.offsets.get('consumer-a'), 2n);
    assert.deepEqual(await appendAll(log, ['dup'], 'pub-1', 3n), [-1], 'publishing id 3 was already written');
    assert.deepEqual(await appendAll(log, ['x4'], 'pub-1', 4n), [3]);
    log.close();
  });

  test('a new publisher reference accepts publishing id 0; a repeated 0 is then a duplicate', async () => {
    const log = StreamLog.open(tempDir(), { maxSegmentBytes: 1 << 20 }, env);
    assert.deepEqual(await appendAll(log, ['a', 'b'], 'from-zero', 0n), [0, 1]);
    assert.deepEqual(await appendAll(log, ['again'], 'from-zero', 0n), [-1]);
    assert.equal(log.publisherSequence('from-zero'), 1n);
    log.close();
  });

  test('a corrupt last chunk (CRC mismatch) is dropped at recovery', async () => {
    const dir = tempDir();
    let log = StreamLog.open(dir, { maxSegmentBytes: 1 << 20 }, env);
    await appendAll(log, ['good']);
    await appendAll(log, ['will-be-damaged']);
    log.close();
    const segment = join(dir, fs.readdirSync(dir).find((n) => n.endsWith('.segment'))!);
    const bytes = fs.readFileSync(segment);
    bytes[bytes.length - 3] = bytes[bytes.length - 3]! ^ 0xff;
    fs.writeFileSync(segment, bytes);
    log = StreamLog.open(dir, { maxSegmentBytes: 1 << 20 }, env);
    assert.deepEqual(readAll(log, 0).map((m) => m.body), ['good']);
    log.close();
  });

  test('a turn that fills a chunk: each chunk\'s dedup trailer names only the ids whose records it holds', async () => {
    const dir = tempDir();
    let log = StreamLog.open(dir, { maxSegmentBytes: 1 << 24 }, env);
    // Two records of 700 KB exceed one chunk's 1 MiB: the turn writes two chunks.
    await appendAll(log, ['a'.repeat(700_000), 'b'.repeat(700_000)], 'w', 1n);
    log.close();
    // A crash after the first chunk's write: the second never reached the file.
    const segment = join(dir, fs.readdirSync(dir).find((n) => n.endsWith('.segment'))!);
    const bytes = fs.readFileSync(segment);
    const first = 48 + bytes.readUInt32BE(36) + bytes.readUInt32BE(40);
    assert.ok(first < bytes.length, 'two chunks were written');
    fs.truncateSync(segment, first);
    log = StreamLog.open(dir, { maxSegmentBytes: 1 << 24 }, env);
    assert.equal(log.lastOffset, 0);
    assert.equal(log.publisherSequence('w'), 1n, 'id 2 is not taken for written: its retry is stored');
    assert.equal(log.append(Buffer.from('b again'), undefined, 'w', 2n), true);
    log.close();
  });

  test('chunks are written off the event loop; close() right after a chunk was sealed loses none of it', async () => {
    const dir = tempDir();
    let log = StreamLog.open(dir, { maxSegmentBytes: 1 << 24 }, env);
    // Each 700 KB record fills a chunk: the first chunks are sealed and handed to an asynchronous write
    // in this turn; close() comes before any write's callback could run.
    for (const c of 'abcd') log.append(Buffer.from(c.repeat(700_000)));
    assert.equal(log.lastOffset, -1, 'nothing is visible before its fdatasync');
    log.close();
    log = StreamLog.open(dir, { maxSegmentBytes: 1 << 24 }, env);
    assert.deepEqual(readAll(log, 0).map((m) => [m.offset, m.body.length, m.body[0]]),
      [[0, 700_000, 'a'], [1, 700_000, 'b'], [2, 700_000, 'c'], [3, 700_000, 'd']]);
    // Appends confirmed after the reopen land behind them and are read back in order.
    assert.deepEqual(await appendAll(log, ['e', 'f']), [4, 5]);
    assert.deepEqual(readAll(log, 3).map((m) => m.body[0]), ['d', 'e', 'f']);
    log.close();
  });

  test('an append is confirmed only after an fdatasync that started once its chunk was in the file', async () => {
    const dir = tempDir();
    const log = StreamLog.open(dir, { maxSegmentBytes: 1 << 30 }, env);
    // Watch the real writes and fdatasync (the log calls them through the fs module): the end of the
    // writes finished when an fdatasync starts is what it covers (not the file's size: under load the
    // log extends the file ahead of its appends); when it returns, that much is on disk.
    const realFdatasync = fs.fdatasync;
    const realWritev = fs.writev;
    let writtenEnd = 0;
    let durableBytes = 0;
    let syncs = 0;
    fs.writev = ((fd: number, buffers: NodeJS.ArrayBufferView[], position: number, callback: (err: NodeJS.ErrnoException | null, written: number) => void) => {
      realWritev(fd, buffers, position, (err, written) => {
        if (!err) writtenEnd = Math.max(writtenEnd, position + written);
        callback(err, written);
      });
    }) as typeof fs.writev;
    fs.fdatasync = ((fd: number, callback: (err: NodeJS.ErrnoException | null) => void) => {
      const covers = writtenEnd;
      realFdatasync(fd, (err) => {
        if (!err) durableBytes = Math.max(durableBytes, covers);
        syncs++;
        callback(err);
      });
    }) as typeof fs.fdatasync;
    try {
      // Many turns of appends, some filling several chunks, so writes and syncs overlap.
      const confirmedAt = new Map<number, number>();
      const pending: Promise<void>[] = [];
      for (let turn = 0; turn < 30; turn++) {
        const n = turn % 3 === 0 ? 3 : 40;
        for (let i = 0; i < n; i++) {
          pending.push(new Promise<void>((resolve) => log.append(Buffer.alloc(turn % 3 === 0 ? 600_000 : 1000, 97 + (turn % 26)), (offset) => {
            assert.ok(!confirmedAt.has(offset), `offset ${offset} confirmed twice`);
            confirmedAt.set(offset, durableBytes);
            resolve();
          })));
        }
        await new Promise((r) => setImmediate(r));
      }
      await Promise.all(pending);
      assert.ok(syncs > 1, `${syncs} fdatasyncs`);
      log.close();
      // Where each record's chunk ends in the segment: it had to be covered when the record was confirmed.
      const seg = fs.readdirSync(dir).filter((n) => n.endsWith('.segment'));
      assert.equal(seg.length, 1);
      const bytes = fs.readFileSync(join(dir, seg[0]!));
      let pos = 0;
      let checked = 0;
      while (pos < bytes.length) {
        const h = readChunkHeader(bytes, pos)!;
        const end = pos + 48 + h.dataLength + h.trailerLength;
        for (let o = h.firstOffset; o < h.firstOffset + h.records; o++) {
          const covered = confirmedAt.get(o);
          assert.ok(covered !== undefined && covered >= end, `offset ${o} (chunk ending at ${end}) confirmed with ${covered} bytes fsynced`);
          checked++;
        }
        pos = end;
      }
      assert.equal(checked, pending.length);
    } finally {
      fs.fdatasync = realFdatasync;
      fs.writev = realWritev;
      log.close();
    }
  });

  test('a write backlog above its bound is reported and cleared once the writes are done', async () => {
    const log = StreamLog.open(tempDir(), { maxSegmentBytes: 1 << 30 }, env);
    // 40 chunks of ~1 MiB sealed in one turn: more than the 32 MiB a log lets wait for its write.
    const body = Buffer.alloc(1_000_000, 0x61);
    const confirmed = new Promise<number>((resolve) => {
      for (let i = 0; i < 40; i++) log.append(body, i === 39 ? resolve : undefined);
    });
    assert.equal(log.writeBacklogged, true);
    await new Promise<void>((resolve) => log.whenWritable(resolve));
    assert.equal(log.writeBacklogged, false);
    assert.equal(await confirmed, 39);
    assert.equal(log.lastOffset, 39);
    log.close();
  });

  test('a busy log extends its segment ahead of the appends; the files end at their last chunk after a roll and a close, and a crash copy recovers every synced chunk', async () => {
    const dir = tempDir();
    const limits = { maxSegmentBytes: 40_000_000 };
    const log = StreamLog.open(dir, limits, env);
    const segmentFiles = () => fs.readdirSync(dir).filter((n) => n.endsWith('.segment')).sort().map((n) => join(dir, n));
    /** Where a segment file's chunks end (the first offset holding no chunk header). */
    const chunksEnd = (path: string) => {
      const bytes = fs.readFileSync(path);
      let pos = 0;
      for (let h = readChunkHeader(bytes, pos); h; h = readChunkHeader(bytes, pos)) pos += 48 + h.dataLength + h.trailerLength;
      return pos;
    };
    // Turns of eight 700 KB records (a chunk each): more than 1 MiB waits for a write, so the log
    // prepares the file ahead. About 110 MB in all: two rolls at 40 MB.
    const body = (i: number) => Buffer.alloc(700_000, 97 + (i % 26));
    let sawExtended = false;
    let sawCopy = false;
    let rolls = 0;
    for (let turn = 0; turn < 20; turn++) {
      const done: Promise<number>[] = [];
      for (let i = 0; i < 8; i++) {
        const segments = log.segmentCount;
        done.push(new Promise((resolve) => log.append(body(turn * 8 + i), resolve)));
        if (log.segmentCount === segments || segments === 0) continue;
        // A roll, with chunks of the previous segment still waiting for their writes: that file was
        // made exact and durable before the new one started (recovery checks CRCs only in the last).
        rolls++;
        const previous = segmentFiles().at(-2)!;
        assert.equal(fs.statSync(previous).size, chunksEnd(previous), 'the previous segment ends at its last chunk at once');
      }
      await Promise.all(done);
      const files = segmentFiles();
      const last = files.at(-1)!;
      // Every segment but the last is exactly its chunks (settled at the roll).
      for (const f of files.slice(0, -1)) assert.equal(fs.statSync(f).size, chunksEnd(f), `${f} ends at its last chunk`);
      const lastChunks = chunksEnd(last);
      if (fs.statSync(last).size > lastChunks) {
        sawExtended = true;
        if (!sawCopy && files.length > 1) {
          // A crash now: the files as they are, the last one extended past its chunks.
          sawCopy = true;
          const copy = tempDir();
          for (const f of files) fs.copyFileSync(f, join(copy, f.slice(dir.length + 1)));
          const recovered = StreamLog.open(copy, limits, env);
          assert.equal(recovered.lastOffset, log.lastOffset, 'every synced record is recovered, nothing past it');
          assert.equal(recovered.bytes, log.bytes);
          const c = recovered.read(log.lastOffset, 0)!;
          assert.equal(c.firstOffset + c.records - 1, log.lastOffset);
          recovered.close();
          assert.equal(fs.statSync(join(copy, last.slice(dir.length + 1))).size, lastChunks, 'recovery cut the hole off');
        }
      }
    }
    assert.ok(sawExtended, 'the last segment was extended ahead of its chunks under load');
    assert.ok(sawCopy, 'a copy was taken after a roll while extended');
    assert.equal(rolls, 2);
    assert.equal(log.lastOffset, 159);
    log.close();
    let total = 0;
    for (const f of segmentFiles()) total += fs.statSync(f).size;
    assert.equal(total, log.bytes, 'after close each file ends at its last chunk');
    const again = StreamLog.open(dir, limits, env);
    assert.equal(again.lastOffset, 159);
    const c = again.read(159, 0)!;
    assert.equal(c.buf[c.buf.length - 1], 97 + (159 % 26));
    again.close();
  });

  test('retention by size drops whole head segments when a segment rolls; dedup state is kept', async () => {
    const dir = tempDir();
    const log = StreamLog.open(dir, { maxSegmentBytes: 300, maxBytes: 700 }, env);
    for (let i = 0; i < 20; i++) await appendAll(log, ['m'.repeat(100)], 'w', BigInt(i + 1));
    const segments = fs.readdirSync(dir).filter((n) => n.endsWith('.segment'));
    assert.ok(log.bytes <= 700 + 300, `bytes ${log.bytes}`);
    assert.ok(segments.length <= Math.ceil(700 / 163) + 1, `segments ${segments.length}`); // 163-byte chunks, one per segment
    assert.ok(log.firstOffset > 0, 'head segments were dropped');
    assert.equal(log.lastOffset, 19);
    assert.equal(readAll(log, 0)[0]!.offset, log.firstOffset, 'a reader below the range starts at the first retained offset');
    log.close();
    const again = StreamLog.open(dir, { maxSegmentBytes: 300, maxBytes: 700 }, env);
    assert.equal(again.publisherSequence('w'), 20n);
    assert.equal(again.firstOffset, log.firstOffset);
    again.close();
  });

  test('retention by age drops segments whose newest chunk is older than max-age', async () => {
    let now = 1_000_000;
    const log = StreamLog.open(tempDir(), { maxSegmentBytes: 200, maxAgeMs: 60_000 }, { crc32, now: () => now });
    for (let i = 0; i < 4; i++) await appendAll(log, ['o'.repeat(150)]);
    const before = log.segmentCount;
    now += 120_000;
    await appendAll(log, ['n'.repeat(150)]);
    assert.ok(before >= 4);
    assert.equal(log.segmentCount, 1, 'every old segment went, the new one stays');
    assert.equal(log.firstOffset, 4);
    assert.equal(log.offsetOfTimestamp(now - 1), 4);
    log.close();
  });
  test('readChunks: consecutive chunks of one segment in one read, each behind its gap, trailers outside the frames', async () => {
    const log = StreamLog.open(tempDir(), { maxSegmentBytes: 300 }, env);
    // Five chunks of two records each; a writer reference gives every chunk a trailer. The 300-byte
    // segments hold two or three of them.
    for (let c = 0; c < 5; c++) await appendAll(log, [`a${c}`, `b${c}`], 'w', BigInt(2 * c + 1));
    assert.ok(log.segmentCount > 1);
    const dest = Buffer.alloc(4096, 0xee);
    const frames: { start: number; end: number; first: number; records: number }[] = [];
    const collect = (start: number, end: number, first: number, records: number) => void frames.push({ start, end, first, records });
    const end = log.readChunks(0, dest, 100, 9, 10, collect);
    assert.ok(frames.length >= 2 && frames.length < 5, `the first segment's chunks only (${frames.length})`);
    assert.equal(frames[0]!.start, 100);
    assert.deepEqual(frames.map((f) => f.first), frames.map((_, i) => 2 * i));
    for (const f of frames) {
      const chunk = dest.subarray(f.start + 9, f.end);
      assert.equal(chunk.length, 48 + chunk.readUInt32BE(36), 'the frame ends where the data ends');
      assert.ok(chunk.readUInt32BE(40) > 0, 'the chunk has a trailer (not in the frame)');
      assert.equal(f.records, 2);
      const got: string[] = [];
      forEachEntry(chunk, (b) => got.push(b.toString()));
      assert.deepEqual(got, [`a${f.first / 2}`, `b${f.first / 2}`]);
    }
    assert.ok(dest.subarray(100, 109).every((x) => x === 0xee), 'the gap in front of a chunk is left for the frame header');
    assert.ok(dest.subarray(0, 100).every((x) => x === 0xee) && dest.subarray(end).every((x) => x === 0xee), 'nothing outside is written');
    // The rest, from the next offset, at most 1 chunk; then nothing fits in 50 bytes.
    const next = frames.at(-1)!.first + 2;
    const one: typeof frames = [];
    const end2 = log.readChunks(next, dest, end, 9, 1, (start, e, first, records) => void one.push({ start, end: e, first, records }));
    assert.deepEqual(one.map((f) => [f.start, f.first]), [[end, next]]);
    assert.equal(log.readChunks(next, dest, dest.length - 50, 9, 10, collect), dest.length - 50, 'a chunk that does not fit is not read');
    assert.ok(log.chunkBytesAt(next) > 41);
    assert.equal(log.readChunks(10, dest, 0, 9, 10, collect), 0, 'nothing visible at the end');
    assert.equal(log.chunkBytesAt(10), 0);
    assert.ok(end2 > end);
    log.close();
  });
});
