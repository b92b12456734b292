// The stream consumer of the bench (stream-load.ts, stream-consume-cpu.ts), the same client for every
// broker: it reads a whole stream from `first` on a connection of its own that skims deliveries (chunk
// headers only, one reused 4 MiB socket read buffer: client.ts `skimDeliveries`), and keeps the broker
// supplied with credit. Assembling each chunk, or reading 64 KiB per system call with 'data' events,
// made the client, not the broker, the limit of the measurement (README, stream figures).
import { StreamClient } from '../src/stream/client.js';
import { Code, Key, OffsetType } from '../src/stream/constants.js';

/**
 * Credit given with the subscription. One credit is given back per chunk received, so this many
 * chunks may be on their way at once: 128 of Warren's 1 MiB chunks or RabbitMQ's ~220 KiB ones is
 * more than the loopback socket's buffers hold, so a broker never waits for credit while the client
 * keeps up.
 */
export const INITIAL_CREDIT = 128;

export interface ConsumeRun<T> {
  consumed: number;
  seconds: number;
  /** What `meter` measured over the run. */
  measured: T;
}

/**
 * Reads `expected` messages of `stream` from `first`. `meter` starts just before the subscribe request
 * (a CPU meter, say), and the function it returns ends it just after the last chunk arrived. `credit`:
 * the subscription's initial credit.
 */
export async function consumeFromFirst<T>(
  port: number,
  stream: string,
  expected: number,
  timeoutMs: number,
  meter: () => (seconds: number) => T,
  credit = INITIAL_CREDIT,
): Promise<ConsumeRun<T>> {
  const consumer = await StreamClient.connect({ host: '127.0.0.1', port, skimDeliveries: true });
  try {
    let consumed = 0;
    // Credit goes back once per socket read (a microtask after it), not as one frame per chunk.
    let owed = 0;
    const giveBack = (): void => {
      consumer.send({ key: Key.Credit, subscriptionId: 1, credit: owed });
      owed = 0;
    };
    let seconds = 0;
    let measured: T | undefined;
    let t0 = 0;
    let end: (seconds: number) => T = () => undefined as T;
    const done = new Promise<void>((resolve) => {
      consumer.onDeliver = (_id, chunkHeader) => {
        consumed += chunkHeader.readUInt32BE(4); // records in the chunk
        if (owed++ === 0) queueMicrotask(giveBack);
        if (consumed >= expected && seconds === 0) {
          seconds = (performance.now() - t0) / 1000;
          measured = end(seconds);
          resolve();
        }
      };
    });
    end = meter();
    t0 = performance.now();
    const sub = await consumer.subscribe(1, stream, { type: OffsetType.First }, credit);
    if (sub.code !== Code.Ok) throw new Error(`subscribe: code ${sub.code}`);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`consumed ${consumed} of ${expected}`)), timeoutMs);
    });
    await Promise.race([done, timeout]).finally(() => clearTimeout(timer));
    return { consumed, seconds, measured: measured as T };
  } finally {
    await consumer.close();
  }
}
