/**
 * The leader's replication server (TCP on the cluster listener port). Per follower connection
 * (follower-session.ts): HELLO, the follower's manifest, catch-up from the files while live changes
 * are held for it, then the live frames in order. Acks move the follower's position; a follower
 * whose ack reached the position its catch-up started from is in sync, and only in-sync followers
 * count for the durability gate: a position is replicated once every in-sync follower acked it and
 * there are at least (majority - 1) of them.
 */
import { EventEmitter } from 'node:events';
import net from 'node:net';
import path from 'node:path';
import type { Logger } from '../../logger.js';
import type { DataDirChanges } from '../../data-dir-changes.js';
import { ChangeFeed } from './change-feed.js';
import { FollowerSession } from './follower-session.js';

export interface ReplicationLeaderOptions {
  dataDir: string;
  host: string;
  port: number;
  nodeName: string;
  /** Members needed for a majority, the leader included (floor(members/2)+1). */
  majority: () => number;
  log: Logger;
  /** Unsent bytes held for one follower before it is dropped (default 64 MiB). */
  maxLagBytes?: number;
}

export interface FollowerState {
  node: string;
  connected: boolean;
  inSync: boolean;
  ackedPosition: number;
  lagBytes: number;
}

const DEFAULT_MAX_LAG = 64 * 1024 * 1024;
const PING_MS = 1000;

export class ReplicationLeader extends EventEmitter {
  readonly port: number;
  readonly changes: DataDirChanges;
  private readonly feed: ChangeFeed;
  private readonly sessions = new Set<FollowerSession>();
  /** Followers seen since start, by node name, for followers() after they disconnect. */
  private readonly known = new Map<string, FollowerSession>();
  private lastInSync = '';
  private pumpScheduled = false;
  private readonly timer: NodeJS.Timeout;
  private closed = false;
  readonly dataDir: string;
  readonly maxLagBytes: number;

  private constructor(
    private readonly server: net.Server,
    private readonly o: ReplicationLeaderOptions,
  ) {
    super();
    this.dataDir = path.resolve(o.dataDir);
    this.maxLagBytes = o.maxLagBytes ?? DEFAULT_MAX_LAG;
    this.port = (server.address() as net.AddressInfo).port;
    this.feed = new ChangeFeed(this.dataDir, () => this.replicatedPosition(), () => this.schedulePump());
    this.changes = this.feed;
    server.on('connection', (socket) => this.accept(socket));
    this.timer = setInterval(() => this.tick(), PING_MS);
    this.timer.unref();
  }

  static async start(o: ReplicationLeaderOptions): Promise<ReplicationLeader> {
    const server = net.createServer({ noDelay: true });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(o.port, o.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const leader = new ReplicationLeader(server, o);
    o.log('info', 'replication leader listening', { port: leader.port, node: o.nodeName });
    return leader;
  }

  followers(): FollowerState[] {
    const position = this.feed.position;
    return [...this.known.values()].map((s) => ({
      node: s.node,
      connected: this.sessions.has(s),
      inSync: s.inSync,
      ackedPosition: s.acked,
      lagBytes: Math.max(0, position - s.acked),
    }));
  }

  /** Addresses the connected followers replicate from. */
  followerAddresses(): string[] {
    return [...this.sessions].map((s) => s.remoteAddress);
  }

  inSync(): string[] {
    return [...this.sessions].filter((s) => s.inSync).map((s) => s.node).sort();
  }

  /** The caller's majority() changed (members or the in-sync set in etcd): confirms now due go out. */
  majorityChanged(): void {
    this.feed.release();
  }

  /** The replication position everything reported so far reaches. */
  get position(): number {
    return this.feed.position;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    for (const s of this.sessions) s.drop('leader closing');
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  // ---- sessions ----

  private accept(socket: net.Socket): void {
    if (this.closed) return void socket.destroy();
    const session = new FollowerSession(socket, this.feed, this.dataDir, this.o.log, this.maxLagBytes, {
      hello: (s) => {
        for (const other of this.sessions) if (other !== s && other.node === s.node) other.drop('replaced by a new connection');
        this.known.set(s.node, s);
      },
      recording: () => {
        this.feed.recording = true;
      },
      acked: () => {
        this.feed.release();
        this.reportInSync();
      },
      gone: (s) => {
        this.sessions.delete(s);
        this.recording();
        this.trim();
        this.reportInSync();
      },
    });
    this.sessions.add(session);
  }

  /** Frames are kept only while some follower is past its HELLO. */
  private recording(): void {
    let any = false;
    for (const s of this.sessions) if (s.wantsFrames) any = true;
    this.feed.recording = any;
    if (!any) this.feed.clear();
  }

  private schedulePump(): void {
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    // After the current synchronous work (a persister flush reports many writes): one send per batch,
    // while the local fdatasync of the same bytes runs in the thread pool.
    queueMicrotask(() => {
      this.pumpScheduled = false;
      for (const s of this.sessions) s.pump();
      this.trim();
    });
  }

  /** Let go of frames every follower has sent; drop followers that hold too much back. */
  private trim(): void {
    let min = this.feed.nextIndex;
    for (const s of this.sessions) {
      if (!s.wantsFrames) continue;
      if (this.feed.position - s.sentPosition > this.maxLagBytes) {
        s.drop(`more than ${this.maxLagBytes} bytes behind`);
        continue;
      }
      min = Math.min(min, s.cursor);
    }
    this.feed.trim(min);
  }

  /**
   * Position every in-sync follower has acked, provided there are at least majority - 1 of them
   * (the leader counts itself). Every one, not just enough: any in-sync follower may be elected
   * after this leader, so each must hold every confirmed change (as LavinMQ's in-sync replicas); a
   * follower too slow for that is dropped by the lag bound and stops counting.
   */
  private replicatedPosition(): number {
    const needed = this.o.majority() - 1;
    if (needed <= 0) return Infinity;
    let count = 0;
    let min = Infinity;
    for (const s of this.sessions) {
      if (!s.inSync) continue;
      count++;
      if (s.acked < min) min = s.acked;
    }
    return count < needed ? -1 : min;
  }

  private reportInSync(): void {
    const names = this.inSync();
    const key = names.join('\0');
    if (key === this.lastInSync) return;
    this.lastInSync = key;
    this.o.log('info', 'replication in-sync set changed', { inSync: names });
    this.emit('in-sync', names);
  }

  private tick(): void {
    const position = this.feed.position;
    for (const s of this.sessions) s.tick(position);
    // The majority may have changed (members joined or left): waiting confirms may be due.
    this.feed.release();
  }
}
