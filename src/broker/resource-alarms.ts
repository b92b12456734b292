/**
 * RabbitMQ's memory and disk-free alarms: when the broker holds more memory than the high
 * watermark, or the data dir's disk has less free space than the limit, publishing connections are
 * blocked (connection.blocked + no more reads from their sockets) until the condition clears.
 *
 * Disk: a check once a second is not enough on its own: at 50 MB/s the whole default limit is
 * written between two checks. The message store reports every byte it writes (noteDiskWrite), and
 * once the bytes written since the last check reach half of the margin that check saw (free space
 * minus the limit, at least DISK_RECHECK_MIN_BYTES), the disk is checked again at once. So free
 * space can fall below the limit by at most one such step (plus what publishers already had in
 * flight when they were blocked), whatever the write rate. statfs is a cheap system call, and
 * ext4 counts delayed-allocation blocks as used, so the figure includes what is not yet flushed.
 */
import { statfsSync } from 'node:fs';
import { getHeapStatistics } from 'node:v8';
import type { Logger } from '../logger.js';
import { MemoryReclaimer, liveMemory } from './memory-reclaimer.js';

export interface AlarmSettings {
  /** Bytes of RSS above which publishers are blocked. */
  memoryHighWatermark: number;
  /** Free bytes on the data dir's file system below which publishers are blocked. */
  diskFreeLimit: number;
  dataDir: string;
}

const CHECK_INTERVAL_MS = 1000;
/** Smallest step between two disk checks driven by writes (keeps statfs off the per-turn path when far from the limit). */
export const DISK_RECHECK_MIN_BYTES = 1024 * 1024;
/** V8 heap use (of its hard limit) that counts as memory pressure even when RSS is fine. */
const HEAP_LIMIT_FRACTION = 0.7;

export class ResourceAlarms {
  memoryAlarm = false;
  diskAlarm = false;
  /** Free bytes at the last disk check (Infinity when the data dir's disk cannot be read). */
  diskFree = Infinity;
  /** Disk checks made, and those made early because of bytes written (for tests and benchmarks). */
  readonly diskChecks = { total: 0, early: 0 };
  private writtenSinceCheck = 0;
  private recheckAfter = Infinity;
  private timer: NodeJS.Timeout | undefined;
  /** Gives memory back once a drained backlog leaves the broker quiet (memory-reclaimer.ts). */
  readonly reclaimer: MemoryReclaimer;

  constructor(
    private readonly settings: AlarmSettings,
    private readonly log: Logger,
    private readonly onChange: (active: boolean, reason: string) => void,
    /** Grows with every message moved (the reclaimer holds back its pauses while it does). */
    traffic?: () => number,
  ) {
    this.reclaimer = new MemoryReclaimer(traffic);
  }

  get active(): boolean {
    return this.memoryAlarm || this.diskAlarm;
  }

  /** The memory threshold in force, bytes. */
  get memoryHighWatermark(): number {
    return this.settings.memoryHighWatermark;
  }

  start(): void {
    this.check();
    this.timer = setInterval(() => this.check(), CHECK_INTERVAL_MS);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** The message store wrote `bytes` to the data dir's disk: check the disk early if they eat into the margin. */
  noteDiskWrite(bytes: number): void {
    this.writtenSinceCheck += bytes;
    if (this.writtenSinceCheck >= this.recheckAfter) {
      this.diskChecks.early++;
      this.check(false);
    }
  }

  /** A new memory threshold in bytes (rabbitmqctl set_vm_memory_high_watermark): takes effect at once. */
  setMemoryHighWatermark(bytes: number): void {
    this.settings.memoryHighWatermark = bytes;
    this.log('info', 'memory high watermark set', { limit: bytes });
    this.check();
  }

  /** A new disk free limit in bytes (rabbitmqctl set_disk_free_limit): takes effect at once. */
  setDiskFreeLimit(bytes: number): void {
    this.settings.diskFreeLimit = bytes;
    this.log('info', 'disk free limit set', { limit: bytes });
    this.check();
  }

  get reason(): string {
    return this.memoryAlarm ? 'low on memory' : 'low on disk';
  }

  /** Check both resources (memory too unless `memory` is false: the early disk checks skip it). */
  check(memory = true): void {
    const wasActive = this.active;
    if (memory) this.checkMemory();
    this.checkDisk();
    if (this.active !== wasActive) this.onChange(this.active, this.reason);
  }

  private checkMemory(): void {
    const over = (): boolean => {
      const heap = getHeapStatistics();
      return liveMemory() > this.settings.memoryHighWatermark || heap.used_heap_size > heap.heap_size_limit * HEAP_LIMIT_FRACTION;
    };
    let memory = over();
    // Before raising (or while keeping) the alarm, make sure it is not just uncollected garbage.
    if (memory) {
      this.reclaimer.collect();
      memory = over();
    } else {
      this.reclaimer.tick();
    }
    if (memory !== this.memoryAlarm) {
      this.memoryAlarm = memory;
      this.log('warn', memory ? 'memory alarm set' : 'memory alarm cleared', {
        used: liveMemory(), rss: process.memoryUsage.rss(), limit: this.settings.memoryHighWatermark,
      });
    }
  }

  private checkDisk(): void {
    const limit = this.settings.diskFreeLimit;
    this.diskChecks.total++;
    this.writtenSinceCheck = 0;
    let free = Infinity;
    try {
      const s = statfsSync(this.settings.dataDir);
      free = s.bavail * s.bsize;
    } catch {
      // No data dir yet (memory-only embedding): no disk alarm.
    }
    this.diskFree = free;
    this.recheckAfter = Math.max(DISK_RECHECK_MIN_BYTES, (free - limit) / 2);
    const disk = free < limit;
    if (disk !== this.diskAlarm) {
      this.diskAlarm = disk;
      this.log('warn', disk ? 'disk alarm set' : 'disk alarm cleared', { free, limit });
    }
  }
}
