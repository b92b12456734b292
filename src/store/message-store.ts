/**
 * The message store of a data directory: one directory per durable queue, one Persister (group
 * commit) shared by all of them. See index.ts for the layout and how the broker uses it.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { takeCleanShutdown, writeCleanShutdown, type CleanSegment } from './clean-shutdown.js';
import type { DataDirChanges } from '../data-dir-changes.js';
import { DataDirLock } from './data-dir-lock.js';
import { DEFAULT_LIST_OPTIONS, DurableMessageList, type DurableListOptions, type RecoveredQueueState } from './durable-message-list.js';
import { ReplicatedMessageList } from './replicated-message-list.js';
import { silentLogger, type StoreLogger } from './logger.js';
import { Journal, replayJournal } from './journal.js';
import { DIRECT_SYNCS, Persister, type SyncSource } from './persister.js';
import { compactSegment } from './segment-compactor.js';
import { QUEUE_META_FILE, ScratchBuffer, newRecoveryTotals, recoverQueueDir, type QueueMeta } from './recovery.js';

export interface MessageStoreOptions extends Partial<DurableListOptions> {
  logger?: StoreLogger;
  /** How often recovery logs its progress. */
  progressIntervalMs?: number;
  /** Told about every write to the data dir, with its size (the broker's disk alarm). */
  onDiskWrite?: (bytes: number) => void;
  /** Segment files a group-commit round fdatasyncs itself before using the journal (persister.ts; Infinity: never). */
  directSyncs?: number;
  /** Replication's change feed and durability gate (cluster leader only; data-dir-changes.ts). */
  replication?: DataDirChanges | undefined;
}

/** Recovered queues: vhost name -> queue name -> list. */
export type RecoveredQueues = Map<string, Map<string, DurableMessageList>>;

/** Directory name for a vhost or queue name: any string is allowed there, so it is hashed. */
export function nameHash(name: string): string {
  return createHash('sha256').update(name, 'utf8').digest('hex').slice(0, 32);
}

export class MessageStore {
  readonly persister: Persister;
  private readonly log: StoreLogger;
  private readonly listOptions: DurableListOptions;
  private readonly progressIntervalMs: number;
  private readonly lists = new Map<string, DurableMessageList>();
  /** Lists of non-durable queues (paged beyond their window, never recovered): see createTransient. */
  private readonly transientLists = new Set<DurableMessageList>();
  private transientCount = 0;
  private sweepTimer: NodeJS.Timeout | undefined;
  /** Lists closed cleanly (by queue dir relative to the data dir): what close() writes to the clean-shutdown marker. */
  private readonly cleanQueues = new Map<string, CleanSegment[]>();
  private closed = false;
  private lock: DataDirLock | undefined;
  /** The compaction pass under way, if one is. */
  private compaction: Promise<number> | undefined;
  /** Segments compacted, and the bytes that gave back, since open (tests, benchmarks). */
  readonly compactionStats = { segments: 0, bytesBefore: 0, bytesAfter: 0 };
  readonly dataDir: string;

  constructor(dataDir: string, options: MessageStoreOptions = {}) {
    this.dataDir = path.resolve(dataDir);
    this.log = options.logger ?? silentLogger;
    this.progressIntervalMs = options.progressIntervalMs ?? 1000;
    this.listOptions = {
      windowMessages: options.windowMessages ?? DEFAULT_LIST_OPTIONS.windowMessages,
      windowBytes: options.windowBytes ?? DEFAULT_LIST_OPTIONS.windowBytes,
      segmentBytes: options.segmentBytes ?? DEFAULT_LIST_OPTIONS.segmentBytes,
      readChunkBytes: options.readChunkBytes ?? DEFAULT_LIST_OPTIONS.readChunkBytes,
      allWindowsBytes: options.allWindowsBytes ?? DEFAULT_LIST_OPTIONS.allWindowsBytes,
    };
    this.persister = new Persister(this.log, options.onDiskWrite, new Journal(this.dataDir, this.log), options.directSyncs ?? DIRECT_SYNCS, options.replication);
  }

  get vhostsDir(): string {
    return path.join(this.dataDir, 'vhosts');
  }

  /** Where non-durable queues page: emptied at every open(), nothing in it is ever recovered. */
  get transientDir(): string {
    return path.join(this.dataDir, 'transient');
  }

  queueDir(vhost: string, name: string): string {
    return path.join(this.vhostsDir, nameHash(vhost), 'queues', nameHash(name));
  }

  /**
   * Lock the data dir (throws if another live process holds it), then recover every queue
   * directory. Damaged data never makes this fail: it is dropped and logged. Call once, before create().
   */
  async open(): Promise<RecoveredQueues> {
    this.lock = DataDirLock.acquire(this.dataDir);
    const changes = this.persister.changes;
    // Writes a power loss may have kept from the segment files are in the journal: put them back first.
    replayJournal(this.dataDir, this.log, changes);
    const clean = takeCleanShutdown(this.dataDir, changes);
    fs.rmSync(this.transientDir, { recursive: true, force: true });
    fs.mkdirSync(this.vhostsDir, { recursive: true });
    changes?.mkdir(this.vhostsDir);
    const dirs: string[] = [];
    for (const vhost of fs.readdirSync(this.vhostsDir)) {
      const queuesDir = path.join(this.vhostsDir, vhost, 'queues');
      if (!fs.existsSync(queuesDir)) continue;
      for (const queue of fs.readdirSync(queuesDir)) dirs.push(path.join(queuesDir, queue));
    }
    const started = Date.now();
    const totals = newRecoveryTotals();
    let queuesDone = 0;
    let lastLog = started;
    const progress = (): void => {
      const now = Date.now();
      if (now - lastLog < this.progressIntervalMs) return;
      lastLog = now;
      this.log('info', 'recovering messages', { queuesDone, queues: dirs.length, ...totals, elapsedMs: now - started });
    };
    if (dirs.length > 0) this.log('info', 'recovering message store', { dataDir: this.dataDir, queues: dirs.length });

    const scratch = new ScratchBuffer();
    const recovered: RecoveredQueues = new Map();
    for (const dir of dirs) {
      let state;
      try {
        const cleanSegments = clean?.queues.get(this.relative(dir));
        const cleanState = cleanSegments && { segments: cleanSegments, writtenAtMs: clean!.writtenAtMs };
        state = await recoverQueueDir(dir, this.log, scratch, totals, progress, cleanState, changes);
      } catch (err) {
        this.log('error', 'could not recover a queue directory; skipped', { dir, error: (err as Error).message });
      }
      queuesDone++;
      if (!state) continue;
      const { vhost, name } = state.meta;
      const list = this.durableList(vhost, name, dir, state);
      this.lists.set(key(vhost, name), list);
      let byName = recovered.get(vhost);
      if (!byName) recovered.set(vhost, (byName = new Map()));
      byName.set(name, list);
      // Let timers and signals in between big queues.
      if (queuesDone % 64 === 0) await yieldToLoop();
    }
    if (dirs.length > 0) {
      this.log('info', 'message store recovered', {
        queues: this.lists.size,
        ...totals,
        elapsedMs: Date.now() - started,
      });
    }
    this.sweepTimer = setInterval(() => this.sweep(), SWEEP_INTERVAL_MS);
    this.sweepTimer.unref();
    return recovered;
  }

  /** Its rounds wait for `source` too: a message is never confirmed ahead of it (Persister.addSyncSource). */
  syncsWith(source: SyncSource): void {
    this.persister.addSyncSource(source);
  }

  /** Every list deletes an active segment it no longer needs (releaseDrainedSegment). */
  sweep(): void {
    for (const list of this.lists.values()) list.releaseDrainedSegment();
    for (const list of this.transientLists) list.releaseDrainedSegment();
    this.persister.checkpointIfIdle();
    void this.compact();
  }

  /**
   * Compact every segment worth it (segment-compactor.ts), one at a time, reading at most
   * COMPACT_READ_BYTES per pass (the next sweep goes on). Resolves with the number compacted; a
   * call while a pass is under way joins it.
   */
  compact(): Promise<number> {
    this.compaction ??= this.compactPass().finally(() => {
      this.compaction = undefined;
    });
    return this.compaction;
  }

  private async compactPass(): Promise<number> {
    let budget = COMPACT_READ_BYTES;
    let done = 0;
    for (const list of [...this.lists.values()]) {
      for (const segment of list.compactionCandidates(Date.now())) {
        if (this.closed || budget <= 0) return done;
        budget -= segment.written;
        const result = await compactSegment(list, segment, this.log);
        if (!result) continue;
        done++;
        const st = this.compactionStats;
        st.segments++;
        st.bytesBefore += result.before;
        st.bytesAfter += result.after;
        this.persister.wrote(result.after);
        this.log('debug', 'compacted a segment', { queue: list.name, vhost: list.vhost, file: segment.path, ...result });
      }
    }
    return done;
  }

  /**
   * The list of a non-durable queue: in memory up to its window, paged to segment files beyond it
   * (written, never fsynced, removed at close and at the next open). Each call makes a new list in
   * a directory of its own (a queue deleted and declared again never meets its predecessor's files).
   */
  createTransient(vhost: string, name: string): DurableMessageList {
    if (this.closed) throw new Error('message store is closed');
    const dir = path.join(this.transientDir, nameHash(vhost), `${nameHash(name)}.${++this.transientCount}`);
    const list = new DurableMessageList(vhost, name, dir, this.persister, this.log, { ...this.listOptions, transient: true }, undefined, (gone) => {
      this.transientLists.delete(gone);
    });
    this.transientLists.add(list);
    return list;
  }

  /** Whether a list (recovered at open, or created since) exists for this name. */
  has(vhost: string, name: string): boolean {
    return this.lists.has(key(vhost, name));
  }

  /**
   * The list of a durable queue being declared. Returns the open one if there is one (recovered or
   * created before); otherwise any stale directory for that name is wiped and a new one is made.
   */
  create(vhost: string, name: string): DurableMessageList {
    if (this.closed) throw new Error('message store is closed');
    const existing = this.lists.get(key(vhost, name));
    if (existing) return existing;
    const dir = this.queueDir(vhost, name);
    this.cleanQueues.delete(this.relative(dir));
    this.persister.forgetFile(dir);
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true });
    const changes = this.persister.changes;
    changes?.remove(dir);
    changes?.mkdir(dir);
    const metaFile = path.join(dir, QUEUE_META_FILE);
    const meta = Buffer.from(JSON.stringify({ vhost, name } satisfies QueueMeta));
    fs.writeFileSync(metaFile, meta);
    changes?.write(metaFile, 0, meta);
    // Nothing is fsynced here (the definitions log makes the declare durable): the queue's files
    // matter once a message in it is confirmed, and confirms wait for a group-commit round, so the
    // next round fsyncs queue.json and the new directories. A crash before that round leaves at
    // most a directory without a readable queue.json and no messages, which recovery removes.
    this.persister.needsPathSync(metaFile);
    for (let d = dir; d.length >= this.dataDir.length && d !== path.dirname(d); d = path.dirname(d)) {
      this.persister.needsPathSync(d);
    }
    const list = this.durableList(vhost, name, dir, undefined);
    this.lists.set(key(vhost, name), list);
    return list;
  }

  /** A durable queue's list; on a cluster leader one that delivers only what the followers have. */
  private durableList(vhost: string, name: string, dir: string, state: RecoveredQueueState | undefined): DurableMessageList {
    const List = this.persister.changes ? ReplicatedMessageList : DurableMessageList;
    return new List(vhost, name, dir, this.persister, this.log, this.listOptions, state, this.forget);
  }

  get(vhost: string, name: string): DurableMessageList | undefined {
    return this.lists.get(key(vhost, name));
  }

  /** The queue is deleted (or was recovered but has no definition any more): remove its data. */
  delete(vhost: string, name: string): void {
    const list = this.lists.get(key(vhost, name));
    if (list) list.destroy();
    else {
      this.persister.forgetFile(this.queueDir(vhost, name));
      fs.rmSync(this.queueDir(vhost, name), { recursive: true, force: true });
      this.persister.changes?.remove(this.queueDir(vhost, name));
    }
    this.cleanQueues.delete(this.relative(this.queueDir(vhost, name)));
  }

  /**
   * Broker shutdown: every list is flushed, synced and closed; data stays. Then the clean-shutdown
   * marker lets the next open() skip the per-record checks of the files that did not change.
   */
  close(): void {
    if (this.closed) return;
    clearInterval(this.sweepTimer);
    for (const list of [...this.lists.values()]) list.close();
    for (const list of [...this.transientLists]) list.close();
    fs.rmSync(this.transientDir, { recursive: true, force: true });
    this.closed = true;
    this.persister.close();
    if (this.cleanQueues.size > 0 && this.lock) {
      try {
        writeCleanShutdown(this.dataDir, this.cleanQueues, this.persister.changes);
      } catch (err) {
        // Only costs the next start its fast path.
        this.log('warn', 'could not write the clean-shutdown marker', { error: (err as Error).message });
      }
    }
    this.lock?.release();
  }

  private relative(dir: string): string {
    return path.relative(this.dataDir, dir);
  }

  private readonly forget = (list: DurableMessageList, clean?: CleanSegment[]): void => {
    if (this.lists.get(key(list.vhost, list.name)) === list) this.lists.delete(key(list.vhost, list.name));
    if (clean) this.cleanQueues.set(this.relative(list.dir), clean);
    else this.cleanQueues.delete(this.relative(list.dir));
  };
}

/** How often drained queues give their last segment file back (and compaction runs). */
const SWEEP_INTERVAL_MS = 2000;
/** Segment bytes one compaction pass reads at most (a 1 GiB backlog acked out of order is compacted in a few sweeps). */
const COMPACT_READ_BYTES = 256 * 1024 * 1024;

function key(vhost: string, name: string): string {
  return `${vhost}\u0000${name}`;
}
