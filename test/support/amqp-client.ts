/**
 * amqplib, wrapped just enough for tests: every connection and channel gets its close reason recorded
 * (amqplib throws on an 'error' event nobody listens to), open connections are closed after each test,
 * and the server's reply code and reply text are read back exactly.
 */
import amqp from 'amqplib';
import type { Channel, ChannelModel, ConfirmChannel, ConsumeMessage, Message, Options } from 'amqplib';
import assert from 'node:assert/strict';

export type { Channel, ChannelModel, ConfirmChannel, ConsumeMessage, Message };

/** A close the server sent: reply code and the full reply text. */
export interface ServerClose {
  code: number;
  text: string;
}

const closeReasons = new WeakMap<object, Promise<ServerClose | undefined>>();
const openConnections = new Set<ChannelModel>();

/** Reads code and text out of amqplib's `... 406 (PRECONDITION-FAILED) with message "..."` errors. */
export function parseServerClose(err: unknown): ServerClose | undefined {
  const e = err as { code?: unknown; message?: unknown } | undefined;
  if (!e || typeof e.code !== 'number' || typeof e.message !== 'string') return undefined;
  const m = /with message "([\s\S]*)"$/.exec(e.message);
  return { code: e.code, text: m ? m[1]! : e.message };
}

/** Records the first server close error of a connection or channel, resolved when it closes. */
function track(emitter: ChannelModel | Channel): void {
  let reason: ServerClose | undefined;
  closeReasons.set(
    emitter,
    new Promise((resolve) => {
      emitter.on('error', (e: unknown) => {
        reason ??= parseServerClose(e);
      });
      emitter.once('close', (e?: unknown) => {
        reason ??= parseServerClose(e);
        resolve(reason);
      });
    }),
  );
}

export async function connect(url: string, socketOptions?: Record<string, unknown>): Promise<ChannelModel> {
  const conn = await amqp.connect(url, socketOptions);
  track(conn);
  openConnections.add(conn);
  conn.once('close', () => openConnections.delete(conn));
  return conn;
}

export async function connectWith(options: Options.Connect): Promise<ChannelModel> {
  const conn = await amqp.connect(options);
  track(conn);
  openConnections.add(conn);
  conn.once('close', () => openConnections.delete(conn));
  return conn;
}

export async function channel(conn: ChannelModel): Promise<Channel> {
  const ch = await conn.createChannel();
  track(ch);
  return ch;
}

export async function confirmChannel(conn: ChannelModel): Promise<ConfirmChannel> {
  const ch = await conn.createConfirmChannel();
  track(ch);
  return ch;
}

/** Resolves when the channel or connection closes: with the server's reason, or undefined for a clean close. */
export function closeReason(emitter: ChannelModel | Channel, timeoutMs = 3000): Promise<ServerClose | undefined> {
  const p = closeReasons.get(emitter);
  if (!p) throw new Error('not a tracked connection/channel');
  return within(p, timeoutMs, 'close');
}

/** Closes every connection a test left open (ignoring ones already closing). */
export async function closeAllClients(): Promise<void> {
  const conns = [...openConnections];
  openConnections.clear();
  await Promise.all(conns.map((c) => c.close().catch(() => {})));
}

export async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let t: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    t = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(t);
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * One round trip on `ch` (a passive declare of amq.direct): when it returns, the broker has handled
 * everything sent on the channel before it (publishes, acks, nacks, cancels), because a channel's
 * methods are processed in order. Use it where the next step looks from another channel, a raw
 * connection or the management API; a next step on the same channel needs no barrier at all.
 */
export async function roundTrip(ch: Channel): Promise<void> {
  await ch.checkExchange('amq.direct');
}

/** Polls `probe` every 10 ms until it holds (or fails after `timeoutMs`), for state no round trip orders. */
export async function eventually(probe: () => boolean | Promise<boolean>, what: string, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(10);
  }
}

/**
 * Runs an operation that must make the server close `ch` with exactly `code`/`text`
 * (a string is compared whole; a RegExp must match), and checks the connection survived.
 */
export async function expectChannelError(
  conn: ChannelModel,
  ch: Channel,
  op: () => unknown,
  code: number,
  text: string | RegExp,
): Promise<void> {
  // RPCs reject when the channel closes under them; fire-and-forget operations (publish, ack) do not.
  await (async () => op())().catch(() => {});
  const reason = await closeReason(ch);
  assert.ok(reason, 'channel closed without a server error');
  assert.equal(reason.code, code, `reply code (text: ${reason.text})`);
  if (typeof text === 'string') assert.equal(reason.text, text);
  else assert.match(reason.text, text);
  // A channel error must leave the connection usable.
  const probe = await channel(conn);
  await probe.checkExchange('amq.direct');
  await probe.close();
}

/**
 * Runs an operation that must make the server close the whole connection with `code`/`text`.
 */
export async function expectConnectionError(
  conn: ChannelModel,
  op: () => unknown,
  code: number,
  text: string | RegExp,
): Promise<void> {
  (async () => op())().catch(() => {});
  const reason = await closeReason(conn);
  assert.ok(reason, 'connection closed without a server error');
  assert.equal(reason.code, code, `reply code (text: ${reason.text})`);
  if (typeof text === 'string') assert.equal(reason.text, text);
  else assert.match(reason.text, text);
}

/** Collects deliveries from a consumer; `next()` waits for the next one. */
export class Inbox {
  readonly messages: ConsumeMessage[] = [];
  cancelled = false;
  private waiters: Array<() => void> = [];
  consumerTag = '';

  handler = (m: ConsumeMessage | null): void => {
    if (m === null) this.cancelled = true;
    else this.messages.push(m);
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  };

  /** Waits until at least `count` messages arrived. */
  async waitFor(count: number, timeoutMs = 3000): Promise<ConsumeMessage[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.messages.length < count) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`expected ${count} deliveries, got ${this.messages.length} within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    return this.messages.slice(0, count);
  }

  async waitForCancel(timeoutMs = 3000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.cancelled) {
      if (Date.now() > deadline) throw new Error('consumer was not cancelled by the server');
      await sleep(10);
    }
  }

  bodies(): string[] {
    return this.messages.map((m) => m.content.toString());
  }
}

/** Starts a consumer whose deliveries land in an Inbox. */
export async function consume(ch: Channel, queue: string, options: Options.Consume = {}): Promise<Inbox> {
  const inbox = new Inbox();
  const ok = await ch.consume(queue, inbox.handler, options);
  inbox.consumerTag = ok.consumerTag;
  return inbox;
}

/** Gets up to `max` messages with basic.get, returning their bodies. */
export async function drain(ch: Channel, queue: string, max = 1000, noAck = true): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < max; i++) {
    const m = await ch.get(queue, { noAck });
    if (!m) break;
    out.push(m.content.toString());
  }
  return out;
}
