/**
 * Reused buffers that subscriptions read chunks into (subscription.ts). Reading each chunk into a new
 * buffer cost more than the read itself: with glibc's mmap threshold (cli/node-flags.ts) every buffer
 * of a large chunk is a fresh mapping whose pages fault in and are zeroed by the kernel, then unmapped,
 * and V8 runs a collection every few of them for the external memory. A slab is faulted in once.
 *
 * A Deliver frame handed to the socket is referenced by the socket until its write calls back, so a
 * slab is read into again only when every write from it has completed (`busy`). A subscription holds at
 * most two while it has a backlog and gives them back when it has caught up, to a small shared pool,
 * so the memory is bounded by the subscriptions actually reading a backlog, not by all of them.
 */

/** A full chunk (1 MiB of data, chunk.ts MAX_CHUNK_DATA) with its header, trailer and frame header, and room to spare. */
export const SLAB_BYTES = 1536 * 1024;
/** Slabs kept for the next reader: at most this many (6 MiB) stay allocated while nobody reads. */
const POOL_MAX = 4;
const pool: ReadSlab[] = [];

export class ReadSlab {
  readonly buf = Buffer.allocUnsafeSlow(SLAB_BYTES);
  /** Bytes of `buf` holding frames read since it was last empty. */
  used = 0;
  /** Socket writes of its frames not yet called back. */
  private writes = 0;
  /** The holder's callback when its last write completes; undefined once given back. */
  private onIdle: (() => void) | undefined;

  /** A pooled slab, or a new one when `allocate` (otherwise undefined when the pool is empty). */
  static take(onIdle: () => void, allocate: boolean): ReadSlab | undefined {
    const slab = pool.pop() ?? (allocate ? new ReadSlab() : undefined);
    if (slab) slab.onIdle = onIdle;
    return slab;
  }

  /** Some of its frames are still being written: it must not be read into from the start. */
  get busy(): boolean {
    return this.writes > 0;
  }

  /** Counts a socket write of a frame of this slab; pass `written` as its callback. */
  writeStarted(): void {
    this.writes++;
  }

  readonly written = (): void => {
    if (--this.writes > 0) return;
    this.used = 0;
    if (this.onIdle) this.onIdle();
    else this.toPool();
  };

  /** Its holder is done with it: pooled now, or when its writes have completed. */
  giveBack(): void {
    this.onIdle = undefined;
    if (this.writes === 0) this.toPool();
  }

  private toPool(): void {
    this.used = 0;
    if (pool.length < POOL_MAX) pool.push(this);
  }
}
