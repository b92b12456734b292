/**
 * Sample history for charts, as RabbitMQ's `samples` in `*_details` (asked for with `lengths_age` /
 * `lengths_incr` and `msg_rates_age` / `msg_rates_incr`). Each series keeps fixed-size rings at a
 * few resolutions, like RabbitMQ's sample_retention_policies: the broker-wide series keep a day
 * (5 s for 10 min, 1 min for an hour, 10 min for 8 h, 30 min for a day); a queue keeps an hour.
 *
 * Memory is bounded: a ring never grows, and a queue's history exists only while somebody looks at
 * it (it starts on the first request for its samples and is dropped after ten minutes without one),
 * so 10,000 idle queues cost nothing here.
 */

export interface Resolution {
  incrMs: number;
  count: number;
}

export const GLOBAL_RESOLUTIONS: readonly Resolution[] = [
  { incrMs: 5_000, count: 122 },
  { incrMs: 60_000, count: 61 },
  { incrMs: 600_000, count: 49 },
  { incrMs: 1_800_000, count: 49 },
];
export const QUEUE_RESOLUTIONS: readonly Resolution[] = [
  { incrMs: 5_000, count: 122 },
  { incrMs: 60_000, count: 61 },
];

export interface Sample {
  sample: number;
  timestamp: number;
}

/** One resolution: timestamps and, per field, values, in a ring of `count` slots. */
class Ring {
  readonly times: Float64Array;
  readonly values = new Map<string, Float64Array>();
  /** Slots written so far (capped at count) and the next slot to write. */
  size = 0;
  next = 0;

  constructor(readonly res: Resolution) {
    this.times = new Float64Array(res.count);
  }

  get newestTime(): number {
    return this.size === 0 ? -1 : this.times[(this.next - 1 + this.res.count) % this.res.count]!;
  }

  push(time: number, fields: Record<string, number>): void {
    const slot = this.next;
    this.times[slot] = time;
    for (const [field, value] of Object.entries(fields)) {
      let ring = this.values.get(field);
      if (!ring) this.values.set(field, (ring = new Float64Array(this.res.count)));
      ring[slot] = value;
    }
    this.next = (slot + 1) % this.res.count;
    this.size = Math.min(this.size + 1, this.res.count);
  }

  /** Newest first, at most `ageMs` old, one every `incrMs` (a multiple of this ring's step). */
  read(field: string, now: number, ageMs: number, incrMs: number): Sample[] {
    const values = this.values.get(field);
    const out: Sample[] = [];
    if (!values) return out;
    const step = Math.max(1, Math.round(incrMs / this.res.incrMs));
    for (let i = 0; i < this.size; i += step) {
      const slot = (this.next - 1 - i + 2 * this.res.count) % this.res.count;
      const time = this.times[slot]!;
      if (time < now - ageMs) break;
      out.push({ sample: values[slot]!, timestamp: time });
    }
    return out;
  }
}

export class SeriesHistory {
  private rings: Ring[];
  lastRead = 0;

  constructor(private readonly resolutions: readonly Resolution[]) {
    this.rings = resolutions.map((r) => new Ring(r));
  }

  /** Drops every sample (DELETE /api/reset). */
  clear(): void {
    this.rings = this.resolutions.map((r) => new Ring(r));
  }

  /** Called every collection interval; each ring takes one sample per step, aligned like RabbitMQ's. */
  record(now: number, fields: Record<string, number>): void {
    for (const ring of this.rings) {
      const aligned = Math.floor(now / ring.res.incrMs) * ring.res.incrMs;
      if (aligned > ring.newestTime) ring.push(aligned, fields);
    }
  }

  /** The finest ring that reaches back `ageMs`, read at (at least) its own step. */
  samples(field: string, now: number, ageMs: number, incrMs: number): Sample[] {
    const ring =
      this.rings.find((r) => r.res.incrMs * (r.res.count - 1) >= ageMs && r.res.incrMs >= incrMs / 60) ??
      this.rings[this.rings.length - 1]!;
    return ring.read(field, now, ageMs, Math.max(incrMs, ring.res.incrMs));
  }
}

/** `{samples, avg, avg_rate}` added beside `rate`, as RabbitMQ computes them from the samples. */
export function sampleDetails(samples: Sample[]): { samples: Sample[]; avg: number; avg_rate: number } {
  if (samples.length === 0) return { samples, avg: 0, avg_rate: 0 };
  const newest = samples[0]!;
  const oldest = samples[samples.length - 1]!;
  const seconds = (newest.timestamp - oldest.timestamp) / 1000;
  const avg = samples.reduce((s, x) => s + x.sample, 0) / samples.length;
  return { samples, avg, avg_rate: seconds > 0 ? (newest.sample - oldest.sample) / seconds : 0 };
}
