import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { crc32, crc32Js, crc32Range } from '../src/store/crc32.js';

test('crc32 matches the standard check value', () => {
  assert.equal(crc32Js(Buffer.from('123456789')), 0xcbf43926);
  assert.equal(crc32(Buffer.from('123456789')), 0xcbf43926);
  assert.equal(crc32Js(Buffer.alloc(0)), 0);
});

test('JS and native crc32 agree on random data, including continued checksums', () => {
  for (let i = 0; i < 300; i++) {
    const data = randomBytes(i * 7);
    assert.equal(crc32Js(data), crc32(data), `length ${data.length}`);
    const cut = Math.floor(data.length / 3);
    assert.equal(crc32Js(data.subarray(cut), crc32Js(data.subarray(0, cut))), crc32(data));
  }
});

test('crc32Range (JS for short ranges, native for long ones) equals crc32 of the same bytes', () => {
  const data = randomBytes(2000);
  for (let i = 0; i < 400; i++) {
    const start = Math.floor(Math.random() * 1000);
    const end = start + (i < 300 ? i : Math.floor(Math.random() * 1000));
    const previous = i % 2 ? crc32(data.subarray(0, start)) : 0;
    assert.equal(crc32Range(data, start, end, previous), crc32(data.subarray(start, end), previous), `[${start}, ${end})`);
  }
});
