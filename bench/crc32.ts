/**
 * crc32 for the record sizes the store checksums: native zlib.crc32 (Node >= 20.15) against the JS
 * slicing-by-8 version in src/store/crc32.ts, per call, on ranges of one shared buffer (as records
 * sit in the write slab or a read chunk). Run: `npm run build && node dist/bench/crc32.js`.
 * The native call needs a view (subarray) per range, the JS one reads the range in place; both
 * costs are counted as the store pays them.
 */
import zlib from 'node:zlib';
import { crc32JsRange } from '../src/store/crc32.js';

const native = (zlib as { crc32?: (data: Uint8Array, value?: number) => number }).crc32;
if (typeof native !== 'function') {
  console.log(`zlib.crc32 is not available in Node ${process.version}`);
  process.exit(0);
}
const SIZES = [16, 49, 100, 192, 256, 512, 1024, 4096, 16384, 1 << 20];
const slab = Buffer.alloc(4 << 20);
for (let i = 0; i < slab.length; i++) slab[i] = (i * 31 + 7) & 0xff;

function nsPerCall(size: number, f: (start: number, end: number) => number): number {
  const budgetBytes = 256 << 20;
  const calls = Math.max(2000, Math.floor(budgetBytes / size));
  let sink = 0;
  const positions = Math.max(1, Math.floor((slab.length - size) / 4096));
  for (let warm = 0; warm < 2; warm++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < calls; i++) {
      const start = (i % positions) * 4096;
      sink ^= f(start, start + size);
    }
    const ns = Number(process.hrtime.bigint() - t0) / calls;
    if (warm === 1) {
      if (sink === 0.5) console.log(sink);
      return ns;
    }
  }
  return 0;
}

console.log(`Node ${process.version}; ns per call (lower is better); GB/s in brackets`);
console.log('bytes\tJS\tnative\tnative/JS');
for (const size of SIZES) {
  const js = nsPerCall(size, (s, e) => crc32JsRange(slab, s, e));
  const nat = nsPerCall(size, (s, e) => native(slab.subarray(s, e)));
  const gbs = (ns: number) => (size / ns).toFixed(2);
  console.log(`${size}\t${js.toFixed(0)} [${gbs(js)}]\t${nat.toFixed(0)} [${gbs(nat)}]\t${(nat / js).toFixed(2)}`);
}
