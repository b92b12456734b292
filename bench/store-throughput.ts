/**
 * Persistent 1 KiB publish throughput with "confirms" (whenDurable per message) into durable
 * queues, with a consumer settling everything, on the store alone (no AMQP). Many publishers keep
 * `window` unconfirmed messages each, so group commit has something to group.
 *   node dist/bench/store-throughput.js --seconds 5 --queues 1 --publishers 8 --window 256 --size 1024
 * --direct-syncs N: segment files a round fdatasyncs itself before using the journal (default: the
 * store's; a huge N turns the journal off).
 */
import { MessageStore } from '../src/store/index.js';
import { benchDir, numArgs, persistentMessage, report } from './store-util.js';
import fs from 'node:fs';

const args = numArgs({ seconds: 5, queues: 1, publishers: 8, window: 256, size: 1024, consume: 1, 'direct-syncs': -1 });
const dir = benchDir('store-throughput');
const store = new MessageStore(dir, args['direct-syncs'] >= 0 ? { directSyncs: args['direct-syncs'] } : {});
await store.open();
const lists = Array.from({ length: args.queues }, (_, i) => store.create('/', `q${i}`));

let confirmed = 0;
const outstanding = new Array<number>(args.publishers).fill(0);
let running = true;

function turn(): void {
  if (!running) return;
  for (let p = 0; p < args.publishers; p++) {
    const list = lists[p % lists.length]!;
    while (outstanding[p]! < args.window) {
      list.push(persistentMessage(args.size));
      outstanding[p]!++;
      list.whenDurable(() => {
        outstanding[p]!--;
        confirmed++;
      });
    }
  }
  if (args.consume) {
    for (const list of lists) for (let e = list.shift(); e; e = list.shift()) list.settle(e);
  }
  setImmediate(turn);
}

turn();
await new Promise((r) => setTimeout(r, 1000)); // warm-up
const start = { t: performance.now(), confirmed, cpu: process.cpuUsage(), ...store.persister.stats };
await new Promise((r) => setTimeout(r, args.seconds * 1000));
const end = { t: performance.now(), confirmed, cpu: process.cpuUsage(start.cpu), ...store.persister.stats };
running = false;
await new Promise((r) => setTimeout(r, 100));
store.close();
fs.rmSync(dir, { recursive: true, force: true });

const secs = (end.t - start.t) / 1000;
const msgs = end.confirmed - start.confirmed;
report({
  bench: 'store-throughput',
  ...args,
  confirmedPerSec: Math.round(msgs / secs),
  mibPerSec: Math.round(((msgs / secs) * args.size) / 1048576),
  roundsPerSec: Math.round((end.rounds - start.rounds) / secs),
  fdatasyncsPerSec: Math.round((end.fdatasyncs - start.fdatasyncs) / secs),
  journalShare: Math.round(((end.journalBytes - start.journalBytes) / Math.max(1, end.bytesWritten - start.bytesWritten)) * 100) / 100,
  journalBehind: end.journalBehind - start.journalBehind,
  msgsPerRound: Math.round(msgs / Math.max(1, end.rounds - start.rounds)),
  // CPU of the whole process (publishers and consumer included) per confirmed message, µs.
  cpuUsPerMsg: Math.round(((end.cpu.user + end.cpu.system) / Math.max(1, msgs)) * 100) / 100,
  writeOpsPerSec: Math.round((end.writeOps - start.writeOps) / secs),
  // Time spent in write calls (segment, journal and ack files) per confirmed message, µs.
  writeUsPerMsg: Math.round(((end.writeMs - start.writeMs) * 1000 / Math.max(1, msgs)) * 100) / 100,
});
