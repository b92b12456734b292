/**
 * One follower connection on the leader: hello -> manifest -> bulk -> snapshot (catch-up) -> live.
 *
 * Catch-up, in two passes over the leader's data dir. Each pass sends what differs from what the
 * follower has: a missing directory, a file whose first bytes match the follower's copy (same MD5
 * over the follower's size) only from there on, any other file whole (truncated to 0 first), and a
 * REMOVE for what the follower has and the leader does not; afterwards the session knows exactly
 * what the follower holds (size and MD5 of the bytes it got). Pass 1 (bulk) holds nothing for the
 * follower, so copying a big data dir under load cannot overflow the held frames. Pass 2 starts by
 * taking the feed's position as the follower's start: from then on live frames are held for it, and
 * it sends only what changed during pass 1, which is quick. Files may change during pass 2; every
 * such change is also among the held live frames, replayed after SNAPSHOT_END, and each operation
 * is idempotent (data-dir-changes.ts), so the copy converges on the leader's files.
 * The follower acks only after it applied SNAPSHOT_END and everything before it is fdatasynced:
 * an ack at or beyond the start position makes the follower in sync.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import type net from 'node:net';
import path from 'node:path';
import type { Logger } from '../../logger.js';
import type { ChangeFeed } from './change-feed.js';
import {
  DATA_CHUNK,
  DIGEST_BYTES,
  FrameReader,
  FrameType,
  HEADER,
  ReplicationProtocolError,
  encodeOp,
  encodePosition,
  encodeWrite,
  pathBytes,
  type Frame,
} from './frames.js';
import { walkDataDir } from './manifest.js';

export interface SessionEvents {
  hello(s: FollowerSession): void;
  /** The session now holds a cursor into the feed (it must record). */
  recording(s: FollowerSession): void;
  acked(s: FollowerSession): void;
  gone(s: FollowerSession): void;
}

/** bulk: catch-up pass 1 (nothing held); snapshot: pass 2 (live frames held from `cursor`). */
type Phase = 'hello' | 'manifest' | 'bulk' | 'snapshot' | 'live' | 'gone';

interface FileState {
  size: number;
  digest: Buffer;
}

const NO_DIGEST = Buffer.alloc(DIGEST_BYTES);

/** A live follower that says nothing for this long is dropped (and a connection that sends no HELLO). */
const SILENCE_MS = 10_000;
/** More manifest entries than this is not a data dir we can hold in memory: refused. */
const MAX_MANIFEST_ENTRIES = 4_000_000;

export class FollowerSession {
  node = '';
  /** Where the follower connects from (its forwarded client connections come from there too). */
  readonly remoteAddress: string;
  private phase: Phase = 'hello';
  acked = 0;
  inSync = false;
  /** Absolute feed index of the next live frame to send. */
  cursor = 0;
  /** Position reached by the frames sent (the start position until live frames go out). */
  sentPosition = 0;
  private startPosition = 0;
  private manifest = new Map<string, FileState>();
  private readonly reader = new FrameReader();
  private lastHeard = Date.now();
  private blocked = false;
  private drainWaiters: (() => void)[] = [];

  constructor(
    private readonly socket: net.Socket,
    private readonly feed: ChangeFeed,
    private readonly dataDir: string,
    private readonly log: Logger,
    private readonly maxLagBytes: number,
    private readonly events: SessionEvents,
  ) {
    this.remoteAddress = socket.remoteAddress ?? '';
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 1000);
    socket.on('data', (chunk: Buffer) => this.received(chunk));
    socket.on('drain', () => {
      this.blocked = false;
      const waiters = this.drainWaiters;
      this.drainWaiters = [];
      for (const w of waiters) w();
      this.pump();
    });
    socket.on('error', (err) => this.drop(`connection error: ${err.message}`));
    socket.on('close', () => this.drop('connection closed'));
  }

  /** Past the manifest: the feed must keep frames from `cursor` on for it. */
  get wantsFrames(): boolean {
    return this.phase === 'snapshot' || this.phase === 'live';
  }

  drop(reason: string): void {
    if (this.phase === 'gone') return;
    const wasInSync = this.inSync;
    this.phase = 'gone';
    this.inSync = false;
    this.manifest.clear();
    this.socket.destroy();
    for (const w of this.drainWaiters) w();
    this.drainWaiters = [];
    if (this.node) this.log(wasInSync ? 'warn' : 'info', 'replication follower dropped', { node: this.node, reason });
    this.events.gone(this);
  }

  /** Send held live frames until the socket pushes back. */
  pump(): void {
    if (this.phase !== 'live' || this.blocked) return;
    const end = this.feed.nextIndex;
    if (this.cursor >= end) return;
    this.socket.cork();
    while (this.cursor < end) {
      const frame = this.feed.frame(this.cursor++);
      this.sentPosition = frame.readDoubleBE(HEADER);
      if (!this.socket.write(frame)) {
        this.blocked = true;
        break;
      }
    }
    this.socket.uncork();
  }

  /** Once a second: tell the follower the leader's position; drop it if it went silent. */
  tick(position: number): void {
    // A connection that never says HELLO is not a follower.
    if (this.phase === 'hello' && Date.now() - this.lastHeard > SILENCE_MS) return this.drop('no HELLO');
    if (this.phase !== 'live') return;
    if (Date.now() - this.lastHeard > SILENCE_MS) return this.drop(`no ack for ${SILENCE_MS} ms`);
    if (!this.blocked) this.socket.write(encodePosition(FrameType.Ping, position));
  }

  // ---- from the follower ----

  private received(chunk: Buffer): void {
    if (this.phase === 'gone') return;
    this.lastHeard = Date.now();
    try {
      this.reader.push(chunk, (f) => this.frame(f));
    } catch (err) {
      const reason = err instanceof ReplicationProtocolError ? `protocol error: ${err.message}` : String(err);
      this.log('warn', 'replication follower sent a bad frame', { node: this.node, error: reason });
      this.drop(reason);
    }
  }

  private frame(f: Frame): void {
    if (this.phase === 'gone') return;
    switch (f.type) {
      case FrameType.Hello:
        if (this.phase !== 'hello') throw new ReplicationProtocolError('HELLO twice');
        this.node = f.node;
        this.phase = 'manifest';
        this.events.hello(this);
        return;
      case FrameType.Manifest:
        if (this.phase !== 'manifest') throw new ReplicationProtocolError('MANIFEST out of place');
        for (const e of f.entries) this.manifest.set(e.path, { size: e.size, digest: e.digest });
        if (this.manifest.size > MAX_MANIFEST_ENTRIES) throw new ReplicationProtocolError('manifest too large');
        return;
      case FrameType.ManifestEnd:
        if (this.phase !== 'manifest') throw new ReplicationProtocolError('MANIFEST_END out of place');
        this.phase = 'bulk';
        this.log('info', 'replication follower catching up', { node: this.node, files: this.manifest.size });
        this.snapshot().catch((err: Error) => this.drop(`catch-up failed: ${err.message}`));
        return;
      case FrameType.Ack:
        if (this.phase !== 'live') throw new ReplicationProtocolError('ACK before catch-up ended');
        if (f.pos > this.acked) this.acked = f.pos;
        if (!this.inSync && this.acked >= this.startPosition) {
          this.inSync = true;
          this.log('info', 'replication follower in sync', { node: this.node, position: this.acked });
        }
        this.events.acked(this);
        return;
      default:
        throw new ReplicationProtocolError(`frame type ${f.type} is not sent by a follower`);
    }
  }

  // ---- catch-up ----

  /** (A getter, so checks after an await read the current phase.) */
  private get dropped(): boolean {
    return this.phase === 'gone';
  }


  private async snapshot(): Promise<void> {
    // Pass 1, the bulk: nothing held for this follower, so a long copy under load cannot overflow.
    const bulk = await this.pass();
    if (this.dropped) return;
    // Pass 2: live frames held from here on; only what changed during pass 1 is sent again.
    this.phase = 'snapshot';
    this.events.recording(this);
    this.cursor = this.feed.nextIndex;
    this.startPosition = this.sentPosition = this.feed.position;
    const delta = await this.pass();
    if (this.dropped) return;
    this.manifest.clear();
    await this.send(encodePosition(FrameType.SnapshotEnd, this.startPosition));
    if (this.dropped) return;
    this.log('info', 'replication follower catch-up sent', { node: this.node, ...bulk, deltaFiles: delta.files, deltaBytes: delta.bytes, from: this.startPosition });
    this.phase = 'live';
    this.lastHeard = Date.now();
    this.pump();
  }

  /**
   * Send what differs between the leader's files and `manifest` (the follower's), and make
   * `manifest` what the follower has afterwards.
   */
  private async pass(): Promise<{ files: number; bytes: number }> {
    const entries = await walkDataDir(this.dataDir);
    const ours = new Set<string>();
    let files = 0;
    let bytes = 0;
    for (const e of entries) {
      if (this.dropped) break;
      ours.add(e.path);
      const theirs = this.manifest.get(e.path);
      if (e.isDir) {
        if (theirs?.size === -1) continue;
        if (theirs) await this.send(encodeOp({ type: FrameType.Remove, pos: 0, path: e.path }));
        await this.send(encodeOp({ type: FrameType.Mkdir, pos: 0, path: e.path }));
        this.manifest.set(e.path, { size: -1, digest: NO_DIGEST });
        continue;
      }
      if (theirs?.size === -1) await this.send(encodeOp({ type: FrameType.Remove, pos: 0, path: e.path }));
      const result = await this.sendFile(e.path, theirs?.size === -1 ? undefined : theirs);
      if (!result) {
        ours.delete(e.path); // gone meanwhile: the live frames remove it too
        continue;
      }
      if (result.sent > 0 || !theirs) files++;
      bytes += result.sent;
      this.manifest.set(e.path, result.state);
    }
    for (const [p] of this.manifest) {
      if (this.dropped) break;
      if (ours.has(p)) continue;
      await this.send(encodeOp({ type: FrameType.Remove, pos: 0, path: p }));
      this.manifest.delete(p);
    }
    return { files, bytes };
  }

  /**
   * Bring one file of the follower's up to the leader's: only the tail when the follower's bytes
   * are a prefix of ours, else all of it. Returns the data bytes sent and what the follower then
   * has (size and MD5 of exactly the bytes it got), or undefined when the file is gone.
   */
  private async sendFile(rel: string, theirs: FileState | undefined): Promise<{ sent: number; state: FileState } | undefined> {
    let handle: fs.FileHandle;
    try {
      handle = await fs.open(path.join(this.dataDir, rel), 'r');
    } catch {
      return undefined;
    }
    try {
      const size = (await handle.stat()).size;
      const buf = Buffer.allocUnsafe(Math.min(DATA_CHUNK, Math.max(size, 1)));
      let hash = createHash('md5');
      let from = 0;
      if (theirs && theirs.size <= size) {
        let at = 0;
        while (at < theirs.size) {
          const { bytesRead } = await handle.read(buf, 0, Math.min(buf.length, theirs.size - at), at);
          if (bytesRead === 0) break;
          hash.update(buf.subarray(0, bytesRead));
          at += bytesRead;
        }
        if (at === theirs.size && hash.copy().digest().equals(theirs.digest)) from = at;
      }
      if (from === 0) {
        hash = createHash('md5');
        await this.send(encodeOp({ type: FrameType.Truncate, pos: 0, path: rel, size: 0 }));
      }
      const pathLength = pathBytes(rel);
      let at = from;
      while (at < size && !this.dropped) {
        const { bytesRead } = await handle.read(buf, 0, Math.min(buf.length, size - at), at);
        if (bytesRead === 0) break;
        hash.update(buf.subarray(0, bytesRead));
        await this.send(encodeWrite(0, rel, pathLength, at, [buf], 0, bytesRead));
        at += bytesRead;
      }
      return { sent: at - from, state: { size: at, digest: hash.digest() } };
    } finally {
      await handle.close();
    }
  }

  /** Write a catch-up frame, waiting while the socket pushes back; held live frames must not grow without bound. */
  private async send(frame: Buffer): Promise<void> {
    if (this.dropped) return;
    if (this.phase === 'snapshot' && this.feed.position - this.sentPosition > this.maxLagBytes) {
      this.drop(`more than ${this.maxLagBytes} bytes of changes during catch-up`);
      return;
    }
    if (!this.socket.write(frame)) {
      this.blocked = true;
      await new Promise<void>((resolve) => this.drainWaiters.push(resolve));
    }
  }
}
