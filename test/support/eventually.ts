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
