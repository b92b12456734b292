// Loaded into a Warren process with `node --import` by bench/stream-consume-cpu.ts (--elu): appends
// the event loop's utilisation (perf_hooks) of each 100 ms to the file named by WARREN_ELU_LOG, as
// "epoch-ms utilisation" lines, so the bench can tell a busy event loop from one waiting for I/O.
import { appendFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

const file = process.env['WARREN_ELU_LOG'];
if (file) {
  let last = performance.eventLoopUtilization();
  setInterval(() => {
    const now = performance.eventLoopUtilization();
    appendFileSync(file, `${Date.now()} ${performance.eventLoopUtilization(now, last).utilization.toFixed(3)}\n`);
    last = now;
  }, 100).unref();
}
