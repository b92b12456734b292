// The bench consumer's frame walker (src/stream/delivery-skimmer.ts): Deliver frames give their
// subscription id and chunk header without being assembled, other frames come whole in buffers of
// their own, however the byte stream is cut into reads, and the input buffer may be overwritten
// after each push (a reused socket read buffer).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DeliverySkimmer } from '../src/stream/delivery-skimmer.js';
import { Key } from '../src/stream/constants.js';

function deliver(sub: number, records: number, dataBytes: number): Buffer {
  const f = Buffer.alloc(4 + 2 + 2 + 1 + 48 + dataBytes, 0x5a);
  f.writeUInt32BE(f.length - 4, 0);
  f.writeUInt16BE(Key.Deliver, 4);
  f.writeUInt16BE(1, 6);
  f[8] = sub;
  f[9] = 0x50;
  f.writeUInt32BE(records, 9 + 4);
  return f;
}

function other(key: number, payload: string): Buffer {
  const f = Buffer.alloc(4 + 4 + payload.length);
  f.writeUInt32BE(f.length - 4, 0);
  f.writeUInt16BE(key, 4);
  f.writeUInt16BE(1, 6);
  f.write(payload, 8);
  return f;
}

const frames = [
  deliver(1, 10, 5000), other(Key.Heartbeat, ''), other(Key.PublishConfirm, 'confirm-1'), deliver(2, 3, 0),
  deliver(1, 7, 70_000), other(0x8000 | Key.Credit, 'credit-response'), deliver(3, 1, 1), other(Key.MetadataUpdate, 'x'.repeat(300)),
];
const stream = Buffer.concat(frames);
const expected = frames.map((f) => (f.readUInt16BE(4) === Key.Deliver ? `deliver ${f[8]} records ${f.readUInt32BE(13)}` : f.toString('latin1', 4)));

function run(cuts: number[]): string[] {
  const seen: string[] = [];
  const skimmer = new DeliverySkimmer(
    (sub, header) => {
      assert.equal(header.length, 48);
      assert.equal(header[0], 0x50, 'the view starts at the chunk header');
      seen.push(`deliver ${sub} records ${header.readUInt32BE(4)}`);
    },
    (buf, start, end) => {
      const copy = buf.toString('latin1', start, end);
      // Read again after the input was overwritten: the frame must be in a buffer of its own.
      setImmediate(() => assert.equal(buf.toString('latin1', start, end), copy));
      seen.push(copy);
    },
  );
  const reused = Buffer.alloc(stream.length);
  let from = 0;
  for (const to of [...cuts, stream.length]) {
    stream.copy(reused, 0, from, to);
    skimmer.push(reused.subarray(0, to - from));
    reused.fill(0xff);
    from = to;
  }
  return seen;
}

test('whole stream in one read, and cut at every byte', () => {
  assert.deepEqual(run([]), expected);
  assert.deepEqual(run(Array.from({ length: stream.length - 1 }, (_, i) => i + 1)), expected);
});

test('cut at pseudo-random places, including inside frame sizes and chunk headers', () => {
  let seed = 7;
  const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2147483648) % n);
  for (let round = 0; round < 200; round++) {
    const cuts = new Set<number>();
    const n = 1 + rand(20);
    for (let i = 0; i < n; i++) cuts.add(1 + rand(stream.length - 1));
    // Near frame boundaries too: the first bytes of each frame are where the walker decides.
    let at = 0;
    for (const f of frames) {
      if (rand(2) && at + 1 + rand(60) < stream.length) cuts.add(at + 1 + rand(60));
      at += f.length;
    }
    assert.deepEqual(run([...cuts].sort((a, b) => a - b)), expected, `cuts ${[...cuts].join(',')}`);
  }
});
