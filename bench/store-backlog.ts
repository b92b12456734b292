/**
 * A backlog far bigger than memory: push N persistent messages into one durable queue with no
 * consumer, then drain it, sampling the heap. Run with a small heap to prove the bound:
 *   node --max-old-space-size=256 dist/bench/store-backlog.js --messages 10000000 --size 1024
 */
import fs from 'node:fs';
import { MessageStore } from '../src/store/index.js';
import { benchDir, mib, numArgs, persistentMessage, report } from './store-util.js';

const args = numArgs({ messages: 10_000_000, size: 1024, sample: 500_000 });
const dir = benchDir('store-backlog');
const store = new MessageStore(dir);
await store.open();
const list = store.create('/', 'backlog');

let maxHeap = 0;
let maxRss = 0;
const sample = (phase: string, done: number): void => {
  const m = process.memoryUsage();
  maxHeap = Math.max(maxHeap, m.heapUsed);
  maxRss = Math.max(maxRss, m.rss);
  process.stderr.write(
    `${phase} ${done} heapUsed=${mib(m.heapUsed)}MiB rss=${mib(m.rss)}MiB disk=${mib(list.diskBytes)}MiB segments=${list.segmentCount}\n`,
  );
};

let t = performance.now();
for (let i = 0; i < args.messages; i++) {
  list.push(persistentMessage(args.size));
  if (i % args.sample === args.sample - 1) {
    await new Promise<void>((r) => list.whenDurable(r));
    sample('filled', i + 1);
  }
}
await new Promise<void>((r) => list.whenDurable(r));
const fillSecs = (performance.now() - t) / 1000;
const heapFull = process.memoryUsage().heapUsed;
const diskFull = list.diskBytes;

t = performance.now();
let drained = 0;
for (let e = list.shift(); e; e = list.shift()) {
  list.settle(e);
  if (++drained % args.sample === 0) {
    sample('drained', drained);
    await new Promise((r) => setImmediate(r)); // let acks be written and segments deleted
  }
}
const drainSecs = (performance.now() - t) / 1000;
await new Promise((r) => setTimeout(r, 200));
const diskEmpty = list.diskBytes;
store.close();
fs.rmSync(dir, { recursive: true, force: true });

report({
  bench: 'store-backlog',
  ...args,
  fillPerSec: Math.round(args.messages / fillSecs),
  drainPerSec: Math.round(drained / drainSecs),
  drained,
  heapWhenFullMiB: mib(heapFull),
  maxHeapUsedMiB: mib(maxHeap),
  maxRssMiB: mib(maxRss),
  diskWhenFullMiB: mib(diskFull),
  diskWhenDrainedMiB: mib(diskEmpty),
});
