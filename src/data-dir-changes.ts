/**
 * The change feed of a data dir, for replication (src/cluster/replication/): every mutation of a
 * durable file is reported here, in the order it was made, by the module that makes it (the message
 * store, the definitions store, the stream logs), plus the durability gate confirms wait on.
 *
 * Single-node brokers have no feed: every call site is `changes?.x(...)` on an undefined field, so
 * the hot path pays a null check and nothing else.
 *
 * Paths are absolute; the feed ignores what is not replicated (anything outside its data dir, the
 * lock file, the transient paging dir, the node's own cluster state and the journal: LOCAL_ONLY). Reports are
 * made right after the operation succeeded locally, before the event loop turns, so their order is
 * the order of the operations on disk. An operation reported twice, or replayed onto a copy that
 * already has its effect, changes nothing: `write` puts bytes at an offset (creating the file),
 * `truncate` sets a size (creating the file), `remove` deletes a file or a whole tree if there is
 * one, `mkdir` makes a directory and its parents, `rename` moves a file if it is there.
 *
 * The gate: `position` grows with every report. A confirm that depends on what was reported so far
 * takes the position after its local fdatasync and waits on whenReplicated(position), which calls
 * back once enough followers (for a majority of members, the leader included) have fdatasynced
 * everything up to it. Callbacks run in position order.
 *
 * (A file of its own at the top of src/, importing nothing of Warren's: the store, the stream logs,
 * config.ts and src/cluster/replication/ all use it without tying their folders into a cycle.)
 */
import fs from 'node:fs';

export interface DataDirChanges {
  write(file: string, offset: number, data: Buffer | readonly Buffer[]): void;
  truncate(file: string, size: number): void;
  rename(from: string, to: string): void;
  remove(fileOrDir: string): void;
  mkdir(dir: string): void;
  /** Position after the last report. */
  readonly position: number;
  /** Call back (at once if already so) when `position` is replicated to a majority. */
  whenReplicated(position: number, callback: () => void): void;
}

/**
 * Top-level names of the data dir that stay with the node and are never replicated: the lock, the
 * paging of non-durable queues, the node's own cluster state, and the store's write-ahead journal
 * (a follower fdatasyncs every segment write it applies itself, so it needs no journal).
 */
export const LOCAL_ONLY: readonly string[] = ['warren.lock', 'transient', 'cluster', 'journal'];

/**
 * What a follower deletes from its data dir when it starts mirroring: left from its own time as a
 * broker, they describe data the leader's copy replaces (a journal replayed at a later promotion
 * would write an old leader's bytes over the leader's).
 */
export const FOLLOWER_DISCARDS: readonly string[] = ['transient', 'journal'];

/**
 * Write `data` to `tmp`, fsync, rename over `file` (the caller syncs the directory), reporting each
 * step: a whole small file replaced atomically.
 */
export function replaceFile(file: string, tmp: string, data: string | Buffer, changes: DataDirChanges | undefined, sync = true): void {
  const bytes = typeof data === 'string' ? Buffer.from(data) : data;
  const fd = fs.openSync(tmp, 'w');
  try {
    fs.writeFileSync(fd, bytes);
    if (sync) fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
  if (changes) {
    changes.truncate(tmp, 0);
    changes.write(tmp, 0, bytes);
    changes.rename(tmp, file);
  }
}
