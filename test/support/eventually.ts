/**
 * Retry an assertion until it passes or time runs out (then its last error is thrown). For figures a
 * broker publishes asynchronously, e.g. RabbitMQ's metrics, which refresh every few seconds.
 */
export async function eventually(check: () => Promise<void> | void, timeoutMs = 15_000, intervalMs = 100): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await check();
      return;
    } catch (e) {
      if (Date.now() >= deadline) throw e;
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  }
}

/** Polls a condition every few ms until it holds; throws "timed out waiting for <what>" otherwise. */
export async function waitFor(what: string, ok: () => boolean, timeoutMs = 15_000, intervalMs = 5): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
