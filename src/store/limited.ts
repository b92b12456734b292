/**
 * Runs an asynchronous task over items, a bounded number at a time. The store's background syncs use
 * it: each holds a descriptor (and a thread-pool slot) from its start to its end, and a round after
 * thousands of declares, or a checkpoint of a journal covering hundreds of segment files, must not
 * start them all at once.
 */
type Ended = (err: NodeJS.ErrnoException | null) => void;

/**
 * Starts `task(item, ended)` for the items in order, at most `limit` running. `settled(err, item)`
 * runs as each ends; returning false starts no more. `done()` runs once, when every task started
 * has ended and no more will start (at once when there are no items).
 */
export function eachLimited<T>(
  items: Iterable<T>,
  limit: number,
  task: (item: T, ended: Ended) => void,
  settled: (err: NodeJS.ErrnoException | null, item: T) => boolean | void,
  done?: () => void,
): void {
  const iterator = items[Symbol.iterator]();
  let running = 0;
  let stopped = false;
  let finished = false;
  const finishIfIdle = (): void => {
    if (running > 0 || finished) return;
    finished = true;
    done?.();
  };
  const startNext = (): boolean => {
    if (stopped) return false;
    const next = iterator.next();
    if (next.done) {
      stopped = true;
      return false;
    }
    const item = next.value;
    running++;
    task(item, (err) => {
      running--;
      if (settled(err, item) === false) stopped = true;
      startNext();
      finishIfIdle();
    });
    return true;
  };
  while (running < limit && startNext());
  finishIfIdle();
}
