/**
 * The broker's definitions (vhosts, users, permissions, durable exchanges, queues, bindings,
 * policies...) in the data dir: a snapshot and a log of the changes made since it.
 *
 * `definitions.json` is the whole document in RabbitMQ's format, replaced atomically (temporary
 * file, fsync, rename, directory fsync): after a crash it is the old version or the new one.
 *
 * `definitions.log` holds the queue, exchange and binding changes made since that snapshot, one
 * JSON line each (DefinitionRecord), appended and fdatasynced before the change is answered.
 * Rewriting the whole document for every durable declare made declaring N queues cost N² (and two
 * fsyncs and a rename each); a line costs its own bytes and one fdatasync. Every other change
 * (users, vhosts, policies, parameters: rare) saves a new snapshot, and so does a log that has
 * outgrown the snapshot (and 256 KiB): that rewrite is paid once per as many changes as the
 * snapshot holds items. A snapshot removes the log.
 *
 * The log's first line names the snapshot it follows (size and crc32), so a log left behind by a
 * crash between a new snapshot's rename and the old log's removal is known as stale and ignored.
 * A torn last line (a crash during an append nobody was answered for) is dropped at load; a damaged
 * line followed by good ones is an error naming the line, like a damaged snapshot.
 *
 * A declare-ok must never be ahead of the disk. An append is written at once and fdatasynced
 * either there (sync) or, in the running broker, by a group commit of its own (whenSynced): one
 * fdatasync in libuv's thread pool answers every change made meanwhile, from any connection,
 * without stopping the event loop; the message store's rounds wait for it too (a message confirmed
 * in a queue must not be on disk before the queue's definition). A snapshot is always synced before
 * save() returns, and answers every change waiting for a sync.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Definitions, DefinitionRecord } from './definitions.js';
import type { DataDirChanges } from '../data-dir-changes.js';
import { replaceFile } from '../data-dir-changes.js';
import { syncDirSync, syncPath } from './durable-file.js';
import { crc32 } from './crc32.js';

export const DEFINITIONS_FILE = 'definitions.json';
/** The log is folded into a new snapshot once it is larger than the snapshot and than this. */
const LOG_BYTES_BEFORE_SNAPSHOT = 256 * 1024;
const RECORD_KINDS = ['queues', 'exchanges', 'bindings'] as const;
type RecordKind = (typeof RECORD_KINDS)[number];

/** Who waits for the log's lines to be on disk (whenSynced). */
interface SyncWaiter {
  readonly callback: () => void;
  readonly failed: ((err: Error) => void) | undefined;
}

interface SnapshotId {
  readonly bytes: number;
  readonly crc32: number;
}

export class DefinitionsStore {
  readonly file: string;
  readonly logFile: string;
  /** The document the files hold, as a snapshot's text, when known: saving exactly this writes nothing. */
  private current: string | undefined;
  /** definitions.json as last loaded or saved (undefined before either: the log needs one). */
  private snapshot: SnapshotId | undefined;
  /** Bytes of the log up to its last good line, header included (0: no log yet for this snapshot). */
  private logBytes = 0;
  private logFd = -1;
  /**
   * Set by load() when a log was found that follows another definitions.json: left by a crash
   * between a snapshot and the removal of the old log, or by an edit of definitions.json while the
   * broker was down after a crash (its changes are then lost: the caller says so).
   */
  ignoredLog = false;
  /** An append failed: the next change saves a snapshot instead. */
  private logSpoilt = false;
  /**
   * Told when the log's fdatasync failed. Its waiters are then answered by the next snapshot
   * (save()); with no further change there would be none, so the owner saves one (and retries).
   */
  onSyncFailed: ((err: Error) => void) | undefined;

  constructor(
    readonly dataDir: string,
    fileName = DEFINITIONS_FILE,
    /** Replication's change feed (cluster leader only). */
    private readonly changes?: DataDirChanges,
  ) {
    this.file = path.join(dataDir, fileName);
    this.logFile = this.file.replace(/(\.json)?$/, '.log');
  }

  /** The saved definitions, or undefined if none were ever saved. Throws if a file is damaged. */
  load(): Definitions | undefined {
    // A temporary file is a save that never reached its rename: the old file is the truth.
    fs.rmSync(`${this.file}.tmp`, { force: true });
    let bytes: Buffer;
    try {
      bytes = fs.readFileSync(this.file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    const text = bytes.toString('utf8');
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      throw new Error(`definitions file ${this.file} is not valid JSON: ${(err as Error).message}`);
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new Error(`definitions file ${this.file} does not hold a JSON object`);
    }
    this.snapshot = { bytes: bytes.length, crc32: crc32(bytes) };
    this.current = text;
    const records = this.readLog();
    if (records.length === 0) return parsed as Definitions;
    const merged = applyRecords(parsed as Record<string, unknown>, records) as Definitions;
    this.current = JSON.stringify(merged, null, 2) + '\n';
    return merged;
  }

  /** Whether changes can go to the log (a snapshot exists to follow). */
  get canAppend(): boolean {
    return this.snapshot !== undefined && !this.logSpoilt;
  }

  /** Lines written since the last fdatasync began; the log's name too when it is new. */
  private unsynced = false;
  private dirUnsynced = false;
  /** The fdatasync under way (its descriptor is closed only after it), and who waits for it. */
  private syncing: { fd: number; closeAfter: boolean; waiters: SyncWaiter[] } | undefined;
  /** Waiting for the next fdatasync (lines written after the one under way began). */
  private waiters: SyncWaiter[] = [];

  /** Lines are written that are not known to be on disk yet. */
  get pendingSync(): boolean {
    return this.unsynced || this.syncing !== undefined;
  }

  /**
   * Append queue, exchange and binding changes and fdatasync them. Returns true once the log has
   * outgrown the snapshot: the caller then saves a new one. With `sync` false the lines are only
   * written: whenSynced() tells when they are durable.
   */
  append(records: readonly DefinitionRecord[], sync = true): boolean {
    const snapshot = this.snapshot;
    if (!snapshot || this.logSpoilt) throw new Error('definitions log without a snapshot');
    const fresh = this.logBytes === 0;
    let text = fresh ? `${JSON.stringify({ snapshot })}\n` : '';
    for (const r of records) text += `${JSON.stringify(r)}\n`;
    const bytes = Buffer.from(text);
    const fd = this.openLog(fresh);
    try {
      let written = 0;
      while (written < bytes.length) written += fs.writeSync(fd, bytes, written, bytes.length - written, this.logBytes + written);
      if (sync) {
        fs.fdatasyncSync(fd);
        // A new file's name must be durable too.
        if (fresh) syncDirSync(this.dataDir);
      } else {
        this.unsynced = true;
        if (fresh) this.dirUnsynced = true;
      }
    } catch (err) {
      // Part of the lines may be in the file: the next line must not follow them. And the change
      // is live in memory without its line: the next change saves a whole snapshot, which has it.
      try {
        fs.ftruncateSync(fd, this.logBytes);
      } catch {
        // Whatever is left is a torn tail until that snapshot removes the log.
      }
      this.logSpoilt = true;
      throw err;
    }
    if (fresh) this.changes?.truncate(this.logFile, 0);
    this.changes?.write(this.logFile, this.logBytes, bytes);
    this.logBytes += bytes.length;
    this.current = undefined;
    return this.logBytes > Math.max(LOG_BYTES_BEFORE_SNAPSHOT, snapshot.bytes);
  }

  /**
   * Calls back once every line written so far is on disk: at once if none waits, else after the
   * fdatasync that covers it (started now if none is under way). Withheld while syncs fail; the
   * next snapshot (onSyncFailed's owner saves one) answers them, unless `failed` is given: it is
   * then told of the failure instead (the message store's round, which must not stop the store).
   */
  whenSynced(callback: () => void, failed?: (err: Error) => void): void {
    const waiter: SyncWaiter = { callback, failed };
    if (this.unsynced) {
      this.waiters.push(waiter);
      if (!this.syncing) this.startSync();
    } else if (this.syncing) {
      this.syncing.waiters.push(waiter);
    } else {
      callback();
    }
  }

  private startSync(): void {
    const syncing = { fd: this.logFd, closeAfter: false, waiters: this.waiters };
    const dir = this.dirUnsynced;
    this.syncing = syncing;
    this.waiters = [];
    this.unsynced = false;
    this.dirUnsynced = false;
    const finished = (err: NodeJS.ErrnoException | null): void => {
      if (syncing.closeAfter) fs.close(syncing.fd, () => {});
      if (this.syncing !== syncing) return; // a snapshot answered them meanwhile
      this.syncing = undefined;
      if (err) {
        // Not known to be on disk: the next change saves a snapshot, which answers them (save()).
        this.logSpoilt = true;
        for (const w of syncing.waiters) w.failed?.(err);
        this.waiters.unshift(...syncing.waiters.filter((w) => !w.failed));
        this.onSyncFailed?.(err);
        return;
      }
      for (const w of syncing.waiters) w.callback();
      if (this.unsynced && this.waiters.length > 0) this.startSync();
    };
    fs.fdatasync(syncing.fd, (err) => {
      if (err || !dir) return finished(err);
      // A new file's name must be durable too.
      syncPath(this.dataDir, finished);
    });
  }

  /** Everything written is on disk another way (a snapshot): answer whoever waits for a sync. */
  private answerWaiters(): void {
    const waiting = [...(this.syncing?.waiters ?? []), ...this.waiters];
    this.syncing = undefined;
    this.waiters = [];
    this.unsynced = false;
    this.dirUnsynced = false;
    for (const w of waiting) w.callback();
  }

  /**
   * Replace the snapshot and remove the log, unless the files already hold exactly this document
   * (a restart re-saves what it loaded: skipping that is what lets a broker start on a full disk).
   */
  save(definitions: Definitions): void {
    const text = JSON.stringify(definitions, null, 2) + '\n';
    if (text === this.current) return;
    fs.mkdirSync(this.dataDir, { recursive: true });
    const bytes = Buffer.from(text);
    replaceFile(this.file, `${this.file}.tmp`, bytes, this.changes);
    this.snapshot = { bytes: bytes.length, crc32: crc32(bytes) };
    this.logBytes = 0;
    this.logSpoilt = false;
    // The log now follows an older snapshot: removed, or ignored as stale if a crash keeps it.
    this.removeLog();
    syncDirSync(this.dataDir);
    this.current = text;
    this.answerWaiters();
  }

  /**
   * At a clean stop: fold a log into a new snapshot of `definitions`, so that the stopped broker's
   * definitions.json holds everything (an operator may edit it), then close the log.
   */
  close(definitions?: Definitions): void {
    try {
      if (definitions && this.logBytes > 0) {
        this.current = undefined;
        this.save(definitions);
      }
    } finally {
      this.closeLog();
    }
  }

  private closeLog(): void {
    // An fdatasync in the thread pool may still use it: closed after it (a reused number would be synced instead).
    if (this.syncing && this.syncing.fd === this.logFd) this.syncing.closeAfter = true;
    else if (this.logFd >= 0) fs.closeSync(this.logFd);
    this.logFd = -1;
  }

  private openLog(fresh: boolean): number {
    if (this.logFd >= 0) return this.logFd;
    if (fresh) {
      this.logFd = fs.openSync(this.logFile, 'w');
    } else {
      this.logFd = fs.openSync(this.logFile, 'r+');
      // Drop a torn tail found at load before appending after the last good line.
      if (fs.fstatSync(this.logFd).size !== this.logBytes) {
        fs.ftruncateSync(this.logFd, this.logBytes);
        this.changes?.truncate(this.logFile, this.logBytes);
      }
    }
    return this.logFd;
  }

  private removeLog(): void {
    this.closeLog();
    try {
      fs.unlinkSync(this.logFile);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    this.changes?.remove(this.logFile);
  }

  /** The log's records if it follows the loaded snapshot (sets logBytes to its good part). */
  private readLog(): DefinitionRecord[] {
    this.logBytes = 0;
    let data: Buffer;
    try {
      data = fs.readFileSync(this.logFile);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    const records: DefinitionRecord[] = [];
    let start = 0;
    let line = 0;
    let good = 0;
    let damagedLine: number | undefined;
    for (let end = data.indexOf(10); end >= 0; start = end + 1, end = data.indexOf(10, start)) {
      line++;
      const value = parseLine(data.toString('utf8', start, end));
      if (line === 1) {
        // Stale (another snapshot's) or torn at its first line: nothing in it applies.
        if (!followsSnapshot(value, this.snapshot!)) {
          this.ignoredLog = value !== undefined;
          return [];
        }
        good = end + 1;
        continue;
      }
      if (!isRecord(value)) {
        damagedLine ??= line;
        continue;
      }
      if (damagedLine !== undefined) throw new Error(`definitions log ${this.logFile} is damaged at line ${damagedLine}`);
      records.push(value);
      good = end + 1;
    }
    this.logBytes = good;
    return records;
  }
}

function parseLine(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function followsSnapshot(header: unknown, snapshot: SnapshotId): boolean {
  const s = (header as { snapshot?: Partial<SnapshotId> } | undefined)?.snapshot;
  return s?.bytes === snapshot.bytes && s.crc32 === snapshot.crc32;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isRecord(value: unknown): value is DefinitionRecord {
  const r = value as Partial<Record<'op' | 'kind' | 'item', unknown>> | undefined;
  return (r?.op === 'put' || r?.op === 'delete') && RECORD_KINDS.includes(r.kind as RecordKind) && isObject(r.item);
}

/** What identifies an item of a kind: vhost and name; for a binding, all of it. */
function itemKey(kind: RecordKind, item: Record<string, unknown>): string {
  return kind === 'bindings'
    ? JSON.stringify([item['vhost'], item['source'], item['destination_type'], item['destination'], item['routing_key'], item['arguments']])
    : JSON.stringify([item['vhost'], item['name']]);
}

/** The snapshot with the log's records applied in order (items keep their first place). */
function applyRecords(doc: Record<string, unknown>, records: readonly DefinitionRecord[]): Record<string, unknown> {
  const items = new Map<RecordKind, Map<string, Record<string, unknown>>>();
  for (const kind of RECORD_KINDS) {
    const list = doc[kind];
    const byKey = new Map<string, Record<string, unknown>>();
    // A malformed item keeps a place of its own, for the import to report.
    if (Array.isArray(list)) {
      list.forEach((item: unknown, i) => byKey.set(isObject(item) ? itemKey(kind, item) : `#${i}`, item as Record<string, unknown>));
    }
    items.set(kind, byKey);
  }
  for (const r of records) {
    const byKey = items.get(r.kind)!;
    const item = r.item as unknown as Record<string, unknown>;
    if (r.op === 'put') byKey.set(itemKey(r.kind, item), item);
    else byKey.delete(itemKey(r.kind, item));
  }
  const merged = { ...doc };
  for (const kind of RECORD_KINDS) merged[kind] = [...items.get(kind)!.values()];
  return merged;
}
