// Counters and histograms shared between the worker threads and the main thread. Each worker owns
// one slot and is its only writer; the main thread snapshots all slots once a second and works with
// differences, so no message passing or locking sits on the hot path.
import { HIST_BUCKETS } from './histogram.js';

export const C_PUBLISHED = 0;
export const C_CONFIRMED = 1;
export const C_NACKED = 2;
export const C_RETURNED = 3;
export const C_CONSUMED = 4;
export const C_ERRORS = 5;
export const C_BLOCKED_MS = 6;
const COUNTERS = 8;

/** Per slot: counters, delivery latency histogram, confirm latency histogram. */
const SLOT = COUNTERS + 2 * HIST_BUCKETS;

/** Int32 words in front of the Float64 area: [0] wake-up generation for publishers waiting on backlog. */
const CONTROL_BYTES = 64;
export const WAKE = 0;
export const WAITERS = 1;

export interface SharedStats {
  sab: SharedArrayBuffer;
  slots: number;
}

export function createSharedStats(slots: number): SharedStats {
  return { sab: new SharedArrayBuffer(CONTROL_BYTES + slots * SLOT * 8), slots };
}

export function control(s: SharedStats): Int32Array {
  return new Int32Array(s.sab, 0, CONTROL_BYTES / 4);
}

/** The whole Float64 area: slot i's counters start at i * SLOT. */
export function table(s: SharedStats): Float64Array {
  return new Float64Array(s.sab, CONTROL_BYTES, s.slots * SLOT);
}

export const slotBase = (slot: number): number => slot * SLOT;
export const latencyBase = (slot: number): number => slot * SLOT + COUNTERS;
export const confirmLatencyBase = (slot: number): number => slot * SLOT + COUNTERS + HIST_BUCKETS;

/** Sum of one counter over all slots. */
export function total(t: Float64Array, slots: number, counter: number): number {
  let n = 0;
  for (let i = 0; i < slots; i++) n += t[i * SLOT + counter]!;
  return n;
}

/** A point-in-time copy of everything, for differences between two moments. */
export interface Snapshot {
  at: number; // ms, monotonic
  cpuUs: number; // this process's CPU time (all threads), µs
  counters: Float64Array; // summed over slots
  latency: Float64Array; // summed histogram
  confirmLatency: Float64Array;
}

export function snapshot(s: SharedStats, t: Float64Array): Snapshot {
  const counters = new Float64Array(COUNTERS);
  const latency = new Float64Array(HIST_BUCKETS);
  const confirmLatency = new Float64Array(HIST_BUCKETS);
  for (let i = 0; i < s.slots; i++) {
    const b = i * SLOT;
    for (let c = 0; c < COUNTERS; c++) counters[c]! += t[b + c]!;
    for (let h = 0; h < HIST_BUCKETS; h++) {
      latency[h]! += t[b + COUNTERS + h]!;
      confirmLatency[h]! += t[b + COUNTERS + HIST_BUCKETS + h]!;
    }
  }
  const cpu = process.cpuUsage();
  return { at: performance.now(), cpuUs: cpu.user + cpu.system, counters, latency, confirmLatency };
}

export function diff(a: Float64Array, b: Float64Array): Float64Array {
  const out = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = b[i]! - a[i]!;
  return out;
}
