/**
 * Recovery time and disk cost: fill durable queues with persistent messages, close, then time
 * MessageStore.open() after that clean close (recoveryMs: one checksum per segment file, thanks to
 * the clean-shutdown marker), again as after a crash (recoveryAfterCrashMs: marker removed, every
 * record checked), and the read-back of the whole backlog.
 *   node dist/bench/store-recovery.js --messages 1000000 --size 1024 --queues 1
 */
import fs from 'node:fs';
import path from 'node:path';
import { MessageStore } from '../src/store/index.js';
import { benchDir, dirBytes, mib, numArgs, persistentMessage, report } from './store-util.js';

const args = numArgs({ messages: 1_000_000, size: 1024, queues: 1, cold: 0 });
const dir = benchDir('store-recovery');
const log = (level: string, msg: string, fields?: Record<string, unknown>): void => {
  process.stderr.write(`${level} ${msg} ${JSON.stringify(fields ?? {})}\n`);
};

let t = performance.now();
{
  const store = new MessageStore(dir);
  await store.open();
  const lists = Array.from({ length: args.queues }, (_, i) => store.create('/', `q${i}`));
  for (let i = 0; i < args.messages; i++) {
    lists[i % lists.length]!.push(persistentMessage(args.size));
    if (i % 20_000 === 19_999) await new Promise<void>((r) => lists[0]!.whenDurable(r));
  }
  store.close();
}
const fillMs = performance.now() - t;
const bytes = dirBytes(dir);

// With --cold 1 (needs root; affects the whole machine) the page cache is dropped first, so the
// figure includes reading the disk; otherwise recovery reads what the fill left in the cache.
let coldCache = false;
if (args.cold) {
  try {
    fs.writeFileSync('/proc/sys/vm/drop_caches', '1');
    coldCache = true;
  } catch {
    process.stderr.write('cannot drop the page cache (not root?): measuring warm\n');
  }
}

t = performance.now();
const clean = new MessageStore(dir, { logger: log });
await clean.open();
const recoveryMs = performance.now() - t;
clean.close();

// As after a crash: no marker, so every record's crc is checked.
fs.rmSync(path.join(dir, 'clean-shutdown.json'), { force: true });
t = performance.now();
const store = new MessageStore(dir, { logger: log });
const recovered = await store.open();
const recoveryAfterCrashMs = performance.now() - t;
const heapAfterRecovery = process.memoryUsage().heapUsed;

t = performance.now();
let drained = 0;
for (const lists of recovered.values()) {
  for (const list of lists.values()) {
    for (let e = list.shift(); e; e = list.shift()) {
      list.settle(e);
      drained++;
    }
  }
}
const drainMs = performance.now() - t;
store.close();
fs.rmSync(dir, { recursive: true, force: true });

report({
  bench: 'store-recovery',
  ...args,
  fillMs: Math.round(fillMs),
  diskMiB: mib(bytes),
  diskBytesPerMessage: Math.round((bytes / args.messages) * 10) / 10,
  coldCache,
  recoveryMs: Math.round(recoveryMs),
  recoveredPerSec: Math.round(args.messages / (recoveryMs / 1000)),
  recoveryAfterCrashMs: Math.round(recoveryAfterCrashMs),
  heapAfterRecoveryMiB: mib(heapAfterRecovery),
  drained,
  drainMs: Math.round(drainMs),
  drainPerSec: Math.round(drained / (drainMs / 1000)),
});
