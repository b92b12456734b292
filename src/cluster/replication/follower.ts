/**
 * A follower: mirrors the leader's data dir into its own. It connects to the leader's replication
 * port, says HELLO, lists its files (manifest: path, size, MD5), applies the catch-up and then the
 * live frames in order (applier.ts), and acks positions after group fdatasyncs: one sync round at a
 * time, each covering everything applied before it started. It holds the data dir's lock, so no
 * Broker can open the dir while it mirrors.
 *
 * Events: 'caught-up' once the catch-up is applied and synced (caughtUp true), 'lost' when the
 * connection to the leader ends after that (caughtUp false; it reconnects by itself and catches up
 * again until close()).
 */
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { Logger } from '../../logger.js';
import { FOLLOWER_DISCARDS } from '../../data-dir-changes.js';
import { DataDirLock } from '../../store/data-dir-lock.js';
import { Applier } from './applier.js';
import {
  DIGEST_BYTES,
  FrameType,
  FrameReader,
  MANIFEST_BATCH,
  ReplicationProtocolError,
  encodeHello,
  encodeManifest,
  encodeManifestEnd,
  encodePosition,
  pathBytes,
  type Frame,
  type ManifestEntry,
} from './frames.js';
import { fileDigest, walkDataDir } from './manifest.js';

export interface ReplicationFollowerOptions {
  dataDir: string;
  nodeName: string;
  leader: { host: string; port: number };
  log: Logger;
  /** Wait before reconnecting after the connection ended (default 500 ms). */
  reconnectMs?: number;
}

const NO_DIGEST = Buffer.alloc(DIGEST_BYTES);

/** One socket read at most (the kernel's loopback segments are 64 KiB; a few fit). */
const READ_BUFFER = 256 * 1024;

/** A leader that sends nothing (not even its once-a-second PING) for this long is gone. */
const SILENCE_MS = 10_000;

export class ReplicationFollower extends EventEmitter {
  private _caughtUp = false;
  private socket: net.Socket | undefined;
  private reader = new FrameReader();
  private readonly readBuffer = Buffer.allocUnsafeSlow(READ_BUFFER);
  private readonly applier: Applier;
  private readonly lock: DataDirLock;
  /** Position of the last live frame applied, and the last one acked. */
  private applied = 0;
  private acked = 0;
  private leaderPosition = 0;
  private snapshotDone = false;
  private syncing: Promise<void> | undefined;
  private syncQueued = false;
  private closed = false;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private lastHeard = Date.now();
  private readonly watchdog: NodeJS.Timeout;
  readonly dataDir: string;

  private constructor(private readonly o: ReplicationFollowerOptions) {
    super();
    this.dataDir = path.resolve(o.dataDir);
    this.lock = DataDirLock.acquire(this.dataDir);
    for (const name of FOLLOWER_DISCARDS) fs.rmSync(path.join(this.dataDir, name), { recursive: true, force: true });
    this.applier = new Applier(this.dataDir);
    this.watchdog = setInterval(() => {
      if (this.socket && Date.now() - this.lastHeard > SILENCE_MS) this.disconnect('leader silent');
    }, 1000);
    this.watchdog.unref();
  }

  /** Starts mirroring (connecting in the background; it retries until close()). */
  static async start(o: ReplicationFollowerOptions): Promise<ReplicationFollower> {
    const f = new ReplicationFollower(o);
    f.connect();
    return f;
  }

  get caughtUp(): boolean {
    return this._caughtUp;
  }

  /** Bytes of the leader's changes not yet acked here (as of the leader's last PING). */
  get lagBytes(): number {
    return Math.max(0, this.leaderPosition - this.acked);
  }

  /** Stops mirroring; afterwards the data dir is consistent, fsynced, and unlocked. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.watchdog);
    clearTimeout(this.reconnectTimer);
    this.socket?.destroy();
    this.socket = undefined;
    while (this.syncing) await this.syncing;
    await this.applier.sync();
    this.applier.closeAll();
    this.lock.release();
    if (this._caughtUp) {
      this._caughtUp = false;
      this.emit('lost');
    }
  }

  // ---- connection ----

  private connect(): void {
    if (this.closed) return;
    this.reader = new FrameReader();
    // Positions are per connection (a new leader counts from its own start).
    this.snapshotDone = false;
    this.applied = this.acked = this.leaderPosition = 0;
    // Reads land in one buffer, reused: frames are applied during the callback (frames.ts), so a
    // follower receiving tens of MB/s allocates nothing per read.
    const socket: net.Socket = net.connect({
      host: this.o.leader.host,
      port: this.o.leader.port,
      noDelay: true,
      onread: { buffer: this.readBuffer, callback: (n: number, buf: Uint8Array): boolean => this.received(socket, buf as Buffer, n) },
    });
    this.socket = socket;
    this.lastHeard = Date.now();
    socket.setKeepAlive(true, 1000);
    socket.on('connect', () => {
      this.o.log('info', 'replication: connected to the leader', { leader: `${this.o.leader.host}:${this.o.leader.port}` });
      this.sendManifest(socket).catch((err: Error) => this.disconnect(`manifest failed: ${err.message}`));
    });
    socket.on('error', (err) => this.disconnect(err.message));
    socket.on('close', () => this.disconnect('connection closed'));
  }

  /** Always true: keep reading (a follower applies as fast as it receives). */
  private received(socket: net.Socket, buf: Buffer, n: number): boolean {
    if (this.socket !== socket) return true;
    this.lastHeard = Date.now();
    try {
      this.reader.push(buf.subarray(0, n), (f) => this.frame(f));
    } catch (err) {
      const reason = err instanceof ReplicationProtocolError ? `protocol error: ${err.message}` : `apply failed: ${(err as Error).message}`;
      this.o.log('error', 'replication: bad data from the leader', { error: reason });
      this.disconnect(reason);
    }
    return true;
  }

  private disconnect(reason: string): void {
    const socket = this.socket;
    if (!socket) return;
    this.socket = undefined;
    socket.destroy();
    if (this._caughtUp) {
      this.o.log('warn', 'replication: lost the leader', { reason });
      this._caughtUp = false;
      this.emit('lost');
    }
    if (!this.closed) this.reconnectTimer = setTimeout(() => this.connect(), this.o.reconnectMs ?? 500);
  }

  private async sendManifest(socket: net.Socket): Promise<void> {
    socket.write(encodeHello(this.o.nodeName));
    const scratch = Buffer.allocUnsafe(1024 * 1024);
    let batch: ManifestEntry[] = [];
    let batchBytes = 0;
    for (const e of await walkDataDir(this.dataDir)) {
      let entry: ManifestEntry;
      if (e.isDir) entry = { path: e.path, size: -1, digest: NO_DIGEST };
      else {
        const sum = await fileDigest(path.join(this.dataDir, e.path), Infinity, scratch);
        if (!sum) continue;
        entry = { path: e.path, size: sum.size, digest: sum.digest };
      }
      batch.push(entry);
      batchBytes += pathBytes(entry.path) + 8 + DIGEST_BYTES;
      if (batchBytes >= MANIFEST_BATCH) {
        if (this.socket !== socket) return;
        socket.write(encodeManifest(batch));
        batch = [];
        batchBytes = 0;
      }
    }
    if (this.socket !== socket) return;
    if (batch.length > 0) socket.write(encodeManifest(batch));
    socket.write(encodeManifestEnd());
  }

  // ---- frames ----

  private frame(f: Frame): void {
    switch (f.type) {
      case FrameType.Write:
      case FrameType.Truncate:
      case FrameType.Rename:
      case FrameType.Remove:
      case FrameType.Mkdir:
        this.applier.apply(f);
        if (f.pos > 0) {
          this.applied = f.pos;
          if (f.pos > this.leaderPosition) this.leaderPosition = f.pos;
        }
        this.scheduleSync();
        return;
      case FrameType.SnapshotEnd:
        this.snapshotDone = true;
        this.applied = Math.max(this.applied, f.pos);
        if (f.pos > this.leaderPosition) this.leaderPosition = f.pos;
        this.syncQueued = true;
        this.scheduleSync();
        return;
      case FrameType.Ping:
        this.leaderPosition = f.pos;
        // Also the follower's heartbeat: the leader drops followers that stay silent.
        if (this.snapshotDone && !this.syncing) this.socket?.write(encodePosition(FrameType.Ack, this.acked));
        return;
      default:
        throw new ReplicationProtocolError(`frame type ${f.type} is not sent by a leader`);
    }
  }

  private scheduleSync(): void {
    this.syncQueued = true;
    if (this.syncing) return;
    this.syncing = new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.syncRounds());
  }

  /** Group commit: sync what was applied, ack it, again while more came in meanwhile. */
  private async syncRounds(): Promise<void> {
    try {
      while (this.syncQueued) {
        this.syncQueued = false;
        const socket = this.socket;
        const position = this.applied;
        const snapshotDone = this.snapshotDone;
        try {
          await this.applier.sync();
        } catch (err) {
          this.o.log('error', 'replication: fsync failed; reconnecting', { error: (err as Error).message });
          this.disconnect('fsync failed');
          return;
        }
        if (!snapshotDone || socket !== this.socket || !socket) continue;
        this.acked = position;
        socket.write(encodePosition(FrameType.Ack, position));
        if (!this._caughtUp) {
          this._caughtUp = true;
          this.o.log('info', 'replication: caught up with the leader', { position });
          this.emit('caught-up');
        }
      }
    } finally {
      this.syncing = undefined;
    }
  }
}
