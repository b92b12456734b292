/**
 * Memory the broker let go at once and that only a full GC gives back to the system: in-memory
 * messages a purge or a deletion dropped, the store's write buffers once it is idle. Counted here
 * (process-wide, like the heap) so the memory reclaimer (broker/memory-reclaimer.ts) collects
 * within a second of quiet instead of waiting for growth, and so that the parts that drop memory
 * need not import the reclaimer.
 */
let released = 0;

/** `bytes` of memory became garbage at once (dropped messages, released buffers). */
export function memoryReleased(bytes: number): void {
  released += bytes;
}

/** Bytes released since the last forgetReleased() (the reclaimer's last collection). */
export function releasedBytes(): number {
  return released;
}

/** A full GC ran: what was released is collected. */
export function forgetReleased(): void {
  released = 0;
}
