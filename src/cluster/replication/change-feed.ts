/**
 * The leader's side of data-dir-changes.ts: every reported mutation becomes one encoded frame
 * (frames.ts; file data copied once, into the frame), kept in a log that the follower sessions send
 * from, each at its own cursor. The position is the byte count of all frames ever made.
 *
 * The log holds only what some follower still has to send (trim()); while no follower records,
 * nothing is encoded at all, the position just advances. It is bounded by the leader: a follower
 * whose unsent frames pass MAX_LAG_BYTES is dropped (it catches up again from the files).
 *
 * The gate: whenReplicated callbacks wait until `replicated()` (the leader computes it from the
 * followers' acks and the majority) reaches their position; release() fires those that are due,
 * preserving the order in which they were asked.
 */
import path from 'node:path';
import { LOCAL_ONLY, type DataDirChanges } from '../../data-dir-changes.js';
import { DATA_CHUNK, FrameType, encodeOp, encodeWrite, pathBytes, writeFrameSize } from './frames.js';

interface Waiter {
  position: number;
  callback: () => void;
}

export class ChangeFeed implements DataDirChanges {
  position = 0;
  /** Frames not yet sent to every follower: frames[i] has absolute index base + i. */
  private frames: Buffer[] = [];
  private head = 0;
  private base = 0;
  private bytesHeld = 0;
  /** Some follower needs frames (otherwise reports only move the position). */
  recording = false;
  private waiters: Waiter[] = [];
  private readonly root: string;

  constructor(
    dataDir: string,
    /** Position replicated to a majority right now (Infinity when the leader alone is one). */
    private readonly replicated: () => number,
    /** Frames were added (the leader pumps them to its followers). */
    private readonly onFrames: () => void,
  ) {
    this.root = path.resolve(dataDir) + path.sep;
  }

  /** Absolute index of the next frame to be made. */
  get nextIndex(): number {
    return this.base + this.frames.length - this.head;
  }

  /** Bytes of frames held for followers. */
  get heldBytes(): number {
    return this.bytesHeld;
  }

  frame(index: number): Buffer {
    return this.frames[this.head + index - this.base]!;
  }

  /** Followers have all sent frames below `index`: let them go. */
  trim(index: number): void {
    while (this.base < index && this.head < this.frames.length) {
      this.bytesHeld -= this.frames[this.head]!.length;
      this.head++;
      this.base++;
    }
    if (this.head === this.frames.length) {
      this.frames = [];
      this.head = 0;
    } else if (this.head > 4096 && this.head * 2 > this.frames.length) {
      this.frames = this.frames.slice(this.head);
      this.head = 0;
    }
  }

  /** No follower left: drop everything held. */
  clear(): void {
    this.base = this.nextIndex;
    this.frames = [];
    this.head = 0;
    this.bytesHeld = 0;
  }

  // ---- DataDirChanges ----

  write(file: string, offset: number, data: Buffer | readonly Buffer[]): void {
    const rel = this.relative(file);
    if (rel === undefined) return;
    const buffers = Buffer.isBuffer(data) ? [data] : data;
    let total = 0;
    for (const b of buffers) total += b.length;
    const pathLength = pathBytes(rel);
    // Large writes go in several frames (a frame is bounded), a zero-length one still creates the file.
    for (let done = 0; done < total || (done === 0 && total === 0); ) {
      const n = Math.min(DATA_CHUNK, total - done);
      const end = this.position + writeFrameSize(pathLength, n);
      if (this.recording) this.add(encodeWrite(end, rel, pathLength, offset + done, buffers, done, n));
      else this.position = end;
      done += n;
      if (n === 0) break;
    }
  }

  truncate(file: string, size: number): void {
    const rel = this.relative(file);
    if (rel !== undefined) this.op({ type: FrameType.Truncate, pos: 0, path: rel, size });
  }

  rename(from: string, to: string): void {
    const a = this.relative(from);
    const b = this.relative(to);
    if (a !== undefined && b !== undefined) this.op({ type: FrameType.Rename, pos: 0, path: a, to: b });
  }

  remove(fileOrDir: string): void {
    const rel = this.relative(fileOrDir);
    if (rel !== undefined) this.op({ type: FrameType.Remove, pos: 0, path: rel });
  }

  mkdir(dir: string): void {
    const rel = this.relative(dir);
    if (rel !== undefined) this.op({ type: FrameType.Mkdir, pos: 0, path: rel });
  }

  whenReplicated(position: number, callback: () => void): void {
    if (this.waiters.length === 0 && position <= this.replicated()) callback();
    else this.waiters.push({ position, callback });
  }

  /** Acks or the majority changed: call back every waiter now covered. */
  release(): void {
    if (this.waiters.length === 0) return;
    const upTo = this.replicated();
    const due = this.waiters.filter((w) => w.position <= upTo);
    if (due.length === 0) return;
    this.waiters = this.waiters.filter((w) => w.position > upTo);
    for (const w of due) {
      try {
        w.callback();
      } catch (err) {
        process.nextTick(() => {
          throw err;
        });
      }
    }
  }

  get waiting(): number {
    return this.waiters.length;
  }

  // ---- internals ----

  private op(op: Parameters<typeof encodeOp>[0]): void {
    // Encoded even when not recording: these are rare, and the size is then known exactly.
    const buf = encodeOp(op);
    const end = this.position + buf.length;
    buf.writeDoubleBE(end, 5);
    if (this.recording) this.add(buf);
    else this.position = end;
  }

  private add(frame: Buffer): void {
    this.position += frame.length;
    this.frames.push(frame);
    this.bytesHeld += frame.length;
    this.onFrames();
  }

  /** The path relative to the data dir, or undefined when it is not replicated. */
  private relative(file: string): string | undefined {
    if (!file.startsWith(this.root)) return undefined;
    const rel = file.slice(this.root.length);
    const slash = rel.indexOf('/');
    const top = slash < 0 ? rel : rel.slice(0, slash);
    if (rel === '' || LOCAL_ONLY.includes(top)) return undefined;
    return rel;
  }
}
