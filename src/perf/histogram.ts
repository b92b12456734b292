// Log-linear latency histogram over a Float64Array (so it can live in shared memory and be read by
// the main thread while a worker writes it): exact microseconds below 128 µs, then 64 sub-buckets
// per power of two (≤ 1.6 % error) up to 2^31 µs. Recording is one index computation and one add.

const LINEAR = 128;
const SUB_BITS = 6;
const SUB = 1 << SUB_BITS;
export const HIST_BUCKETS = LINEAR + (31 - 7) * SUB;

export function bucketOf(us: number): number {
  if (us < LINEAR) return us < 0 ? 0 : us | 0;
  const v = us >= 0x7fffffff ? 0x7fffffff : us | 0;
  const e = 31 - Math.clz32(v); // 7..30
  return LINEAR + (e - 7) * SUB + ((v >>> (e - SUB_BITS)) & (SUB - 1));
}

/** A representative value (bucket midpoint, µs) for a bucket index. */
export function valueOf(bucket: number): number {
  if (bucket < LINEAR) return bucket;
  const e = ((bucket - LINEAR) >> SUB_BITS) + 7;
  const sub = (bucket - LINEAR) & (SUB - 1);
  const width = 1 << (e - SUB_BITS);
  return (SUB + sub) * width + width / 2;
}

export function record(hist: Float64Array, offset: number, us: number): void {
  hist[offset + bucketOf(us)]!++;
}

export interface LatencySummary {
  count: number;
  mean_us: number;
  p50_us: number;
  p75_us: number;
  p95_us: number;
  p99_us: number;
  p999_us: number;
  max_us: number;
}

/** Percentiles of a histogram given as bucket counts (e.g. the difference of two snapshots). */
export function summarize(counts: Float64Array): LatencySummary | null {
  let total = 0;
  let sum = 0;
  let maxBucket = -1;
  for (let i = 0; i < counts.length; i++) {
    const c = counts[i]!;
    if (c > 0) {
      total += c;
      sum += c * valueOf(i);
      maxBucket = i;
    }
  }
  if (total === 0) return null;
  const wanted = [0.5, 0.75, 0.95, 0.99, 0.999];
  const found: number[] = [];
  let seen = 0;
  let w = 0;
  for (let i = 0; i < counts.length && w < wanted.length; i++) {
    seen += counts[i]!;
    while (w < wanted.length && seen >= wanted[w]! * total) {
      found.push(valueOf(i));
      w++;
    }
  }
  const r = (x: number): number => Math.round(x * 10) / 10;
  return {
    count: total,
    mean_us: r(sum / total),
    p50_us: r(found[0]!),
    p75_us: r(found[1]!),
    p95_us: r(found[2]!),
    p99_us: r(found[3]!),
    p999_us: r(found[4]!),
    max_us: r(valueOf(maxBucket)),
  };
}
