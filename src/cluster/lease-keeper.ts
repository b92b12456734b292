/**
 * A node's etcd lease, kept alive every TTL/3. It is counted as lost — and `onLost` called — as soon
 * as etcd says it is gone, or when no keep-alive has succeeded for long enough that etcd may have
 * expired it: the deadline runs from the moment the last successful keep-alive was *sent* (etcd
 * refreshed it no earlier), minus a safety margin. A leader that cannot keep its lease therefore
 * steps down before another node can be elected, never after.
 */
import type { EtcdClient } from './etcd-client.js';

export class LeaseKeeper {
  private timer: NodeJS.Timeout | undefined;
  private refreshedAt: number;
  private lost = false;
  private inFlight = false;

  private constructor(
    private readonly etcd: EtcdClient,
    readonly id: string,
    private readonly ttlMs: number,
    private readonly onLost: (why: string) => void,
    grantedAt: number,
  ) {
    this.refreshedAt = grantedAt;
    this.timer = setInterval(() => void this.tick(), Math.max(200, Math.floor(ttlMs / 3)));
  }

  static async grant(etcd: EtcdClient, ttlSeconds: number, onLost: (why: string) => void): Promise<LeaseKeeper> {
    const sent = Date.now();
    const id = await etcd.grantLease(ttlSeconds);
    return new LeaseKeeper(etcd, id, ttlSeconds * 1000, onLost, sent);
  }

  /** False once the lease is (or may be) gone. */
  get alive(): boolean {
    return !this.lost && Date.now() < this.deadline;
  }

  /** Until when the lease surely holds, by our clock. */
  get deadline(): number {
    // Margin: a quarter of the TTL, at least 500 ms, for our own event-loop delays.
    return this.refreshedAt + this.ttlMs - Math.max(500, this.ttlMs / 4);
  }

  /** Stops keeping it alive and revokes it, which deletes every key attached (registration, leader key). */
  async revoke(): Promise<void> {
    this.stop();
    await this.etcd.revokeLease(this.id).catch(() => undefined);
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.lost = true;
  }

  private async tick(): Promise<void> {
    if (this.lost) return;
    if (Date.now() >= this.deadline) return this.fail('lease not refreshed in time (etcd unreachable)');
    if (this.inFlight) return;
    this.inFlight = true;
    const sent = Date.now();
    try {
      const ttl = await this.etcd.keepAlive(this.id);
      if (ttl <= 0) return this.fail('lease expired in etcd');
      this.refreshedAt = Math.max(this.refreshedAt, sent);
    } catch {
      if (Date.now() >= this.deadline) this.fail('lease not refreshed in time (etcd unreachable)');
    } finally {
      this.inFlight = false;
    }
  }

  private fail(why: string): void {
    if (this.lost) return;
    this.stop();
    this.onLost(why);
  }
}
