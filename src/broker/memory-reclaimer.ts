/**
 * Memory comes back after a backlog is drained. V8 collects only when JS allocates, so a broker that
 * goes quiet after a flood keeps its grown heap (old-space pages full of dead envelopes) and every
 * dead message body's Buffer until the next load. Once a second (with the resource alarms' check)
 * this looks at the heap plus Buffers: if they grew by GROWTH_BYTES since the last full collection
 * and the event loop has been nearly idle over the last interval, it runs one full GC, which
 * releases the dead Buffers and compacts and shrinks the old space. At most one per
 * MIN_INTERVAL_MS, never under load (no pause where latency matters), never when idle and unchanged.
 *
 * A purge or a queue deletion that drops RELEASED_BYTES or more of in-memory messages, or the message
 * store letting its write buffers go once idle (memoryReleased(), memory/released.ts), is a reason
 * too, without the growth (the heap did not grow since the collection right after the flood, yet
 * the windows it kept are now dead) and after only RELEASE_INTERVAL_MS: then RSS is back within
 * seconds of the purge, not at the next 10 s tick.
 *
 * So is the end of the last backlog (body-slabs.ts backlogsDrained()): a consumed backlog drops
 * nothing at once, yet its read-back chunks, output slabs and bodies are dead once it is gone.
 *
 * The young generation: V8 shrinks its semi-spaces only in a full GC that finds the allocation rate
 * of the last 5 s low, which the collection right after a flood never does; the CLI caps them
 * (--max-semi-space-size in its shebang and `npm start`) and FOLLOW_UP_MS after a collection, if the
 * new space is still above NEW_SPACE_SHRUNK and the broker still quiet, one more full GC shrinks it
 * (8 MiB -> 1 MiB; without it V8's memory reducer did the same 8-10 s later, or never if it was idle).
 *
 * A forced GC is atomic: it stops the broker for as long as marking its live heap takes (~1 ms per
 * MiB here; 65-75 ms each with 10,000 connections open), where V8's own collections mark
 * incrementally in steps of a few ms. So growth alone (nothing dropped) is not worth a collection
 * while messages still flow and the expected pause is over PAUSE_BUDGET_MS: a light load beside a
 * large live heap (10,000 connections plus a 1,000 msg/s pair: p99 44 ms, max 144 ms) would take it
 * in its latency, and the traffic makes V8 collect by itself anyway. And the second pass runs only
 * if the first freed much: growth that was live data leaves nothing to compact.
 */
import { performance, type EventLoopUtilization } from 'node:perf_hooks';
import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { backlogsDrained } from '../memory/body-slabs.js';
import { forgetReleased, releasedBytes } from '../memory/released.js';

export { memoryReleased } from '../memory/released.js';

/**
 * A full GC on demand. An idle broker never collects on its own, and dead message bodies would keep
 * the memory alarm on, and the memory held, forever after the queues were drained.
 */
const collectGarbage: () => void = (() => {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as (() => void) | undefined;
  return typeof gc === 'function' ? gc : () => {};
})();

/** Growth of heap + Buffers since the last full GC that is worth a collection once idle. */
const GROWTH_BYTES = 16 * 1024 * 1024;
const MIN_INTERVAL_MS = 10_000;
/** Event-loop utilization below which the broker counts as idle. */
const IDLE_UTILIZATION = 0.1;
/** In-memory message bytes dropped by purges and deletions that are worth a collection on their own. */
const RELEASED_BYTES = 4 * 1024 * 1024;
const RELEASE_INTERVAL_MS = 1000;
/** V8 measures the allocation rate over the last 5 s of collections: a little more than that. */
const FOLLOW_UP_MS = 5500;
/** New space this large after a collection is worth the follow-up (its floor is 1 MiB; cap 2 x 4 MiB). */
const NEW_SPACE_SHRUNK = 2 * 1024 * 1024;
/** Longest stop the reclaimer may cause for growth alone while messages flow. */
export const PAUSE_BUDGET_MS = 10;
/** Marking cost assumed until the reclaimer timed a collection of its own: 1 ms per MiB of live heap (this machine). */
const DEFAULT_MS_PER_BYTE = 1 / (1024 * 1024);
/** What the first pass must free, of the live heap and at least, for the second pass to be worth its pause. */
const SECOND_PASS_FRACTION = 0.25;
const SECOND_PASS_MIN_BYTES = 4 * 1024 * 1024;

export class MemoryReclaimer {
  private baseline = held();
  /** traffic() at the last tick: messages moved since then mean someone may be waiting on the broker. */
  private lastTraffic: number;
  /** The last forced collection's duration per byte of live heap, to foresee the next one's pause. */
  private msPerByte = DEFAULT_MS_PER_BYTE;
  private lastCollection = 0;
  private loop: EventLoopUtilization = performance.eventLoopUtilization();
  private drained = backlogsDrained();
  /** When to run the follow-up collection that shrinks the new space (0: none due). */
  private followUpAt = 0;
  /** Full collections it ran, and the GC passes they made (tests and logs). */
  collections = 0;
  passes = 0;

  /** `traffic`: a count that grows with every message published, delivered or acked (NodeCounters.messagesMoved). */
  constructor(private readonly traffic: () => number = () => 0) {
    this.lastTraffic = traffic();
  }

  /** Call periodically; returns true if it collected. */
  tick(now = Date.now()): boolean {
    const loop = performance.eventLoopUtilization();
    const busy = performance.eventLoopUtilization(loop, this.loop).utilization;
    this.loop = loop;
    const usage = process.memoryUsage();
    const bytes = held(usage);
    // V8 gives pages back after the collection returns (concurrent sweeping): follow it down.
    if (bytes < this.baseline) this.baseline = bytes;
    const traffic = this.traffic();
    const quiet = traffic === this.lastTraffic || this.expectedPauseMs(usage.heapUsed) <= PAUSE_BUDGET_MS;
    this.lastTraffic = traffic;
    if (busy >= IDLE_UTILIZATION) return false;
    const sinceLast = now - this.lastCollection;
    const grew = bytes - this.baseline >= GROWTH_BYTES && sinceLast >= MIN_INTERVAL_MS && quiet;
    const dropped = (releasedBytes() >= RELEASED_BYTES || backlogsDrained() !== this.drained) && sinceLast >= RELEASE_INTERVAL_MS;
    if (grew || dropped) {
      // Two: the first frees the dead objects; only the second finds the pages they leave sparse and
      // compacts and releases them (after a flood: RSS 105 -> 96 MiB with one, -> 88-91 with two).
      this.collect(2, now);
      this.followUpAt = now + FOLLOW_UP_MS;
      return true;
    }
    if (this.followUpAt === 0 || now < this.followUpAt) return false;
    this.followUpAt = 0;
    if (newSpaceSize() <= NEW_SPACE_SHRUNK || !quiet) return false;
    this.collect(1, now);
    return true;
  }

  /** How long a forced collection would stop the broker now, by the last one's cost per byte of heap. */
  expectedPauseMs(heapUsed = process.memoryUsage().heapUsed): number {
    return heapUsed * this.msPerByte;
  }

  /**
   * Run a full GC now (the memory alarm runs one), and a second one if `passes` is 2 and the first
   * freed much; take the result as the new baseline.
   */
  collect(passes = 1, now = Date.now()): void {
    const before = liveMemory();
    const t0 = performance.now();
    collectGarbage();
    const pauseMs = performance.now() - t0;
    const usage = process.memoryUsage();
    const after = liveMemory(usage);
    this.msPerByte = pauseMs / Math.max(usage.heapUsed, 1);
    this.passes++;
    const freed = before - after;
    if (passes > 1 && freed >= SECOND_PASS_MIN_BYTES && freed >= before * SECOND_PASS_FRACTION) {
      collectGarbage();
      this.passes++;
    }
    this.collections++;
    forgetReleased();
    this.drained = backlogsDrained();
    this.lastCollection = now;
    this.baseline = held();
  }
}

/**
 * Memory the broker holds: the JS heap plus Buffers (message bodies), live and not yet collected.
 * What the memory alarm weighs; not RSS: glibc keeps freed Buffer memory in its arenas, so RSS does
 * not come down after a drain and would never clear the alarm.
 */
export function liveMemory(m: NodeJS.MemoryUsage = process.memoryUsage()): number {
  return m.heapUsed + m.arrayBuffers;
}

/** What V8 holds for the broker: the heap it has committed and the Buffers' memory. */
function held(m: NodeJS.MemoryUsage = process.memoryUsage()): number {
  return m.heapTotal + m.arrayBuffers;
}

function newSpaceSize(): number {
  return getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')?.space_size ?? 0;
}
