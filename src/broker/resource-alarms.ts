/**
 * RabbitMQ's memory and disk-free alarms: when the process uses more memory than the high
 * watermark, or the data dir's disk has less free space than the limit, publishing connections are
 * blocked (connection.blocked + no more reads from their sockets) until the condition clears.
 */
import { statfsSync } from 'node:fs';
import { getHeapStatistics } from 'node:v8';
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
    const rss = process.memoryUsage.rss();
    const heap = getHeapStatistics();
    const memory = rss > this.settings.memoryHighWatermark || heap.used_heap_size > heap.heap_size_limit * HEAP_LIMIT_FRACTION;
    if (memory !== this.memoryAlarm) {
      this.memoryAlarm = memory;
      this.log('warn', memory ? 'memory alarm set' : 'memory alarm cleared', { rss, limit: this.settings.memoryHighWatermark, heap: heap.used_heap_size });
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
