/**
 * Where published bodies and property bytes are copied out of the socket reads while a backlog
 * builds: slabs of their own, each large enough that glibc gives it its own mapping and returns it
 * to the system (munmap) the moment its last message is collected.
 *
 * Why: Node's Buffer pool takes 8 KiB slabs from glibc's main heap (brk). A flood churns hundreds
 * of MiB of bodies through it; once the backlog is purged or consumed that memory is free again,
 * but glibc gives back only the top of that heap, and a few live allocations near the top keep the
 * rest resident: 4 flooded queues left ~60 MiB of free but resident heap behind (`malloc_stats`:
 * 62.7 MB held, 3.6 MB in use; malloc_trim, which Node cannot call, gave it all back).
 * Slabs of SLAB_BYTES are mapped on their own only while glibc's mmap threshold is fixed at
 * MMAP_THRESHOLD: the `warren` launcher and `npm start` set GLIBC_TUNABLES for it
 * (src/cli/node-flags.ts); with glibc's default dynamic threshold the slabs land in the main heap.
 *
 * A mapped slab costs a page fault per 4 KiB when filled (about one per 3.7 messages of 1 KiB), which
 * showed as +40 % broker CPU per message with one publisher and one consumer keeping up. So slabs
 * are used only while some queue holds a backlog (BACKLOG_BYTES or more in memory, or paging;
 * `backlogs` > 0); when consumers keep up, bodies live for microseconds and Node's pool reuses its
 * memory without faults. The threshold is small rather than a whole window: the bodies a queue's
 * head window took from the pool before it paged (4 queues: 16 MiB) stayed resident in glibc's
 * heap after a purge (+10–12 MiB RSS); now at most BACKLOG_BYTES per queue are pool memory.
 *
 * A slab lives as long as any message copied into it: a message that stays in memory keeps its
 * slab's other bytes too. Queues keep only windows of messages in memory, so this is bounded by
 * the windows, at SLAB_BYTES per long-lived message in the worst case.
 */

/**
 * glibc's mmap threshold the CLI fixes. Node's 64 KiB socket reads and the frame writer's 64 KiB
 * output slabs are mapped too: with the threshold just above them, a backlog read back at full
 * speed left ~750 MiB of them resident in the heap (1.5 GiB on glibc's default after 1.3 M messages).
 */
export const MMAP_THRESHOLD = 64 * 1024;
/** With its 16-byte chunk header, malloc(SLAB_BYTES) takes exactly MMAP_THRESHOLD: mapped, 16 pages resident. */
export const SLAB_BYTES = MMAP_THRESHOLD - 16;
/** Larger copies get a buffer of their own (few of them fill a slab). */
const MAX_SLAB_COPY = 8 * 1024;

/** Bytes of ready messages a queue holds in memory from which it counts as a backlog. */
export const BACKLOG_BYTES = 256 * 1024;

let slab = Buffer.allocUnsafeSlow(0);
let used = 0;
/** Message lists currently holding a backlog: bodies go to slabs meanwhile. */
let backlogs = 0;
/** How many times the last backlog ended (the memory reclaimer collects after each). */
let drained = 0;

/** A message list started (true) or stopped (false) holding a backlog. */
export function backlogChanged(backlog: boolean): void {
  backlogs += backlog ? 1 : -1;
  if (backlogs === 0) {
    drained++;
    // The slab being filled holds the last backlog's bytes: let it go with them.
    slab = Buffer.allocUnsafeSlow(0);
    used = 0;
  }
}

/** Message lists holding a backlog now (they share one memory budget for their windows: durable-message-list.ts). */
export function backlogCount(): number {
  return backlogs;
}

/** Times every backlog was gone (consumed, purged or deleted): a change means memory to reclaim. */
export function backlogsDrained(): number {
  return drained;
}

/**
 * An unshared copy of `src` from `start` on that the broker may keep. Short ones are copied byte by
 * byte: src.copy() with an offset makes an intermediate view, which costs more than a few bytes.
 */
export function copyOut(src: Buffer, start = 0): Buffer {
  const n = src.length - start;
  const dst = allocate(n);
  if (start === 0 || n > 64) src.copy(dst, 0, start);
  else for (let i = 0; i < n; i++) dst[i] = src[start + i]!;
  return dst;
}

/** `n` uninitialized bytes the caller fills and keeps (a body assembled from several frames). */
export function allocate(n: number): Buffer {
  return backlogs === 0 || n > MAX_SLAB_COPY ? Buffer.allocUnsafe(n) : reserve(n);
}

function reserve(n: number): Buffer {
  if (used + n > slab.length) {
    slab = Buffer.allocUnsafeSlow(SLAB_BYTES);
    used = 0;
  }
  const start = used;
  // 8-byte aligned like Node's pool, so typed-array views of a body stay possible.
  used = (start + n + 7) & ~7;
  return slab.subarray(start, start + n);
}
