import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { crc32, crc32Js } from '../src/store/crc32.js';

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
