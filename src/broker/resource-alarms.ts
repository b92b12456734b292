/**
 * RabbitMQ's memory and disk-free alarms: when the broker holds more memory than the high
 * watermark, or the data dir's disk has less free space than the limit, publishing connections are
 * blocked (connection.blocked + no more reads from their sockets) until the condition clears.
 */
import { statfsSync } from 'node:fs';
import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { Logger } from '../logger.js';

export interface AlarmSettings {
  /** Bytes of RSS above which publishers are blocked. */
  memoryHighWatermark: number;
  /** Free bytes on the data dir's file system below which publishers are blocked. */
  diskFreeLimit: number;
  dataDir: string;
}

const CHECK_INTERVAL_MS = 1000;
/** V8 heap use (of its hard limit) that counts as memory pressure even when RSS is fine. */
const HEAP_LIMIT_FRACTION = 0.7;

/**
 * A full GC on demand. An idle broker never collects on its own, and dead message bodies would keep
 * the alarm on forever after the queues were drained.
 */
const collectGarbage: () => void = (() => {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as (() => void) | undefined;
  return typeof gc === 'function' ? gc : () => {};
})();

/**
 * Memory the broker holds: the JS heap plus Buffers (message bodies). Not RSS: glibc keeps freed
 * Buffer memory in its arenas, so RSS does not come down after a drain and would never clear the alarm.
 */
function liveMemory(): number {
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

export class ResourceAlarms {
  memoryAlarm = false;
  diskAlarm = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly settings: AlarmSettings,
    private readonly log: Logger,
    private readonly onChange: (active: boolean, reason: string) => void,
  ) {}

  get active(): boolean {
    return this.memoryAlarm || this.diskAlarm;
  }

  start(): void {
    this.check();
    this.timer = setInterval(() => this.check(), CHECK_INTERVAL_MS);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  check(): void {
    const wasActive = this.active;
    const over = (): boolean => {
      const heap = getHeapStatistics();
      return liveMemory() > this.settings.memoryHighWatermark || heap.used_heap_size > heap.heap_size_limit * HEAP_LIMIT_FRACTION;
    };
    let memory = over();
    // Before raising (or while keeping) the alarm, make sure it is not just uncollected garbage.
    if (memory) {
      collectGarbage();
      memory = over();
    }
    if (memory !== this.memoryAlarm) {
      this.memoryAlarm = memory;
      this.log('warn', memory ? 'memory alarm set' : 'memory alarm cleared', {
        used: liveMemory(), rss: process.memoryUsage.rss(), limit: this.settings.memoryHighWatermark,
      });
    }
    let disk = false;
    try {
      const s = statfsSync(this.settings.dataDir);
      disk = s.bavail * s.bsize < this.settings.diskFreeLimit;
    } catch {
      // No data dir yet (memory-only embedding): no disk alarm.
    }
    if (disk !== this.diskAlarm) {
      this.diskAlarm = disk;
      this.log('warn', disk ? 'disk alarm set' : 'disk alarm cleared', { limit: this.settings.diskFreeLimit });
    }
    if (this.active !== wasActive) this.onChange(this.active, this.memoryAlarm ? 'low on memory' : 'low on disk');
  }
}
