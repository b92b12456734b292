// The stream publisher of the bench (stream-load.ts, stream-publish-cpu.ts), the same client for every
// broker: one publisher publishes messages of one size for a fixed time with confirms, 100 per publish
// frame, at most 20,000 unconfirmed. The client must outrun both brokers on a machine it shares
// with them, so its cost per message has to be a few bytes written, not an object.
import { StreamClient } from '../src/stream/client.js';
import { Code, Key } from '../src/stream/constants.js';
import { encodeRequest } from '../src/stream/requests.js';

export const BATCH = 100;
export const WINDOW = 20_000;
/** Publish frames per socket write (about 1 MiB of 1 KiB messages), and write buffers in rotation. */
const FRAMES_PER_WRITE = 10;
const WRITE_BUFFERS = 4;

export interface PublishRun<T> {
  published: number;
  seconds: number;
  /** What `meter` measured over the run. */
  measured: T;
}

/**
 * Creates `stream` (unless `create` is false), declares publisher 1 on it, publishes `size`-byte
 * messages for `seconds` and waits for the last confirm. `meter` starts just before the first publish,
 * and the function it returns ends it just after the last confirm.
 */
export async function publishFor<T>(
  c: StreamClient,
  stream: string,
  size: number,
  seconds: number,
  meter: () => (seconds: number) => T,
): Promise<PublishRun<T>> {
  const created = await c.request({ key: Key.Create, stream, arguments: {} });
  if (created.code !== Code.Ok) throw new Error(`create: code ${created.code}`);
  const declared = await c.request({ key: Key.DeclarePublisher, publisherId: 1, reference: '', stream });
  if (declared.code !== Code.Ok) throw new Error(`declare publisher: code ${declared.code}`);

  // Publish frames encoded once, FRAMES_PER_WRITE of them back to back in each of a few write
  // buffers; a buffer gets its frames' publishing ids written in place and is written again once the
  // socket is done with it. So the client allocates and copies nothing per frame, and makes one
  // write system call per FRAMES_PER_WRITE frames (a fresh 100 KiB copy of a template per frame,
  // written on its own, had cost it about as much CPU per message as Warren's broker).
  const frame = encodeRequest({ key: Key.Publish, publisherId: 1, messages: Array.from({ length: BATCH }, () => ({ publishingId: 0n, body: Buffer.alloc(size, 0x61) })) });
  const idAt = (f: number, i: number): number => f * frame.length + 4 + 2 + 2 + 1 + 4 + i * (8 + 4 + size);
  const free: Buffer[] = Array.from({ length: WRITE_BUFFERS }, () => Buffer.concat(Array.from({ length: FRAMES_PER_WRITE }, () => frame)));
  let published = 0;
  let confirmed = 0;
  let wake: () => void = () => {};
  c.onConfirm = (_id, count) => {
    confirmed += count;
    wake();
  };
  const end = meter();
  const t0 = performance.now();
  const until = t0 + seconds * 1000;
  let nextId = 1;
  while (performance.now() < until) {
    // As many frames as the window has room for (at most WINDOW + BATCH - 1 unconfirmed, as one frame at a time).
    const frames = Math.min(FRAMES_PER_WRITE, Math.ceil((WINDOW - (published - confirmed)) / BATCH));
    if (frames <= 0 || free.length === 0) {
      await new Promise<void>((r) => (wake = r));
      continue;
    }
    const block = free.pop()!;
    for (let f = 0; f < frames; f++) {
      for (let i = 0; i < BATCH; i++) {
        const id = nextId++;
        block.writeUInt32BE(Math.floor(id / 0x100000000), idAt(f, i));
        block.writeUInt32BE(id >>> 0, idAt(f, i) + 4);
      }
    }
    published += frames * BATCH;
    c.socket.write(frames === FRAMES_PER_WRITE ? block : block.subarray(0, frames * frame.length), () => {
      free.push(block);
      wake();
    });
  }
  while (confirmed < published) await new Promise<void>((r) => (wake = r));
  const elapsed = (performance.now() - t0) / 1000;
  return { published, seconds: elapsed, measured: end(elapsed) };
}
