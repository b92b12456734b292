/**
 * The clients of the cluster tests, as an application configured with every node's address writes
 * them with amqplib: on any connection or channel loss they reconnect to the next node of the list
 * and carry on. The publisher sends persistent messages with a unique id (the body) on a confirm
 * channel, at most `window` unconfirmed, and keeps the ids the broker confirmed (after a nack it
 * reconnects too, as it would after a lost connection); the consumer acks
 * each delivery and keeps every id it received, counting repeats (duplicates, e.g. redeliveries of
 * messages unacked on a failed leader). Times of every confirm let a test measure publish stalls.
 */
import amqp from 'amqplib';

type Connection = Awaited<ReturnType<typeof amqp.connect>>;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Destroys the connection's socket. A connection to a node the partition test cut off ends (after
 * missed heartbeats) with a FIN nobody acknowledges; left to the kernel, that socket keeps the test
 * process alive for its retry time, minutes after the test is done.
 */
function destroySocket(conn: Connection): void {
  (conn as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy();
}

/** Declares a durable queue (classic unless `args` say otherwise) through `url`, before the clients start. */
export async function declareDurableQueue(url: string, queue: string, args: Record<string, unknown> = {}): Promise<void> {
  const conn = await amqp.connect(url);
  try {
    const ch = await conn.createChannel();
    await ch.assertQueue(queue, { durable: true, arguments: args });
  } finally {
    await conn.close().catch(() => undefined);
  }
}

export interface ClientEvent {
  at: number;
  what: string;
}

/** Connects to the nodes in turn, runs `session` on each connection until it ends, then moves on. */
abstract class Reconnecting {
  readonly events: ClientEvent[] = [];
  protected stopping = false;
  protected conn: Connection | null = null;
  private done: Promise<void> | null = null;

  constructor(protected readonly urls: string[], private readonly role: string, private firstNode: number) {}

  /** Uses the connection until it is lost (or the client stops); throwing also means "lost". */
  protected abstract session(conn: Connection, lost: Promise<void>): Promise<void>;

  start(): void {
    this.done = this.loop();
  }

  private async connectAny(start: number): Promise<{ conn: Connection; index: number } | null> {
    for (let i = start; !this.stopping; i++) {
      const index = i % this.urls.length;
      try {
        return { conn: await amqp.connect(this.urls[index]!, { timeout: 3000 }), index };
      } catch {
        if (index === this.urls.length - 1) await sleep(100); // a full round failed: nobody serves yet
      }
    }
    return null;
  }

  private async loop(): Promise<void> {
    let node = this.firstNode;
    while (!this.stopping) {
      const got = await this.connectAny(node);
      if (!got) return;
      const { conn } = got;
      node = got.index;
      this.conn = conn;
      this.events.push({ at: performance.now(), what: `${this.role} connected to node ${node + 1}` });
      const lost = new Promise<void>((resolve) => {
        conn.on('error', () => undefined);
        conn.on('close', () => resolve());
      });
      try {
        await this.session(conn, lost);
      } catch {
        /* the channel or connection failed under us: reconnect */
      }
      this.events.push({ at: performance.now(), what: `${this.role} left node ${node + 1}` });
      await conn.close().catch(() => undefined);
      destroySocket(conn);
      this.conn = null;
      node++;
    }
  }

  protected async finish(): Promise<void> {
    this.stopping = true;
    await this.done;
  }
}

export class ClusterPublisher extends Reconnecting {
  /** ids the broker confirmed (basic.ack) */
  readonly confirmed = new Set<string>();
  /** ids nacked or whose confirm never came (connection lost): the application would republish them */
  readonly unconfirmed = new Set<string>();
  /** performance.now() of every confirm, in order */
  readonly confirmTimes: number[] = [];
  /** performance.now() at which the message of each of those confirms was published */
  readonly confirmedPublishTimes: number[] = [];
  /** basic.nack received */
  nacked = 0;
  private seq = 0;

  constructor(urls: string[], private readonly queue: string, private readonly o: { window?: number; batch?: number; tickMs?: number } = {}) {
    super(urls, 'publisher', 0);
  }

  /**
   * Waits for the confirm of a message published after `since` (a confirm of an earlier message
   * that was merely late does not count) and returns when it came, relative to `since`.
   */
  async confirmingAgain(since: number, limitMs: number): Promise<number | null> {
    const deadline = since + limitMs;
    for (let i = 0; ; ) {
      for (; i < this.confirmedPublishTimes.length; i++) if (this.confirmedPublishTimes[i]! > since) return this.confirmTimes[i]! - since;
      if (performance.now() > deadline) return null;
      await sleep(20);
    }
  }

  protected async session(conn: Connection, lost: Promise<void>): Promise<void> {
    const window = this.o.window ?? 64;
    const batch = this.o.batch ?? 10;
    let closed = false;
    void lost.then(() => (closed = true));
    const ch = await conn.createConfirmChannel();
    ch.on('error', () => undefined);
    ch.on('close', () => void (closed = true));
    let inflight = 0;
    while (!this.stopping && !closed) {
      for (let i = 0; i < batch && inflight < window && !closed; i++) {
        const id = `m-${++this.seq}`;
        const publishedAt = performance.now();
        inflight++;
        this.unconfirmed.add(id);
        ch.sendToQueue(this.queue, Buffer.from(id), { persistent: true, messageId: id }, (err) => {
          inflight--;
          if (err) {
            // nacked: the broker could not take it (e.g. a queue whose leader just failed); a new
            // channel, through the next node, is this application's way to start afresh
            if (/nack/.test(err.message)) {
              this.nacked++;
              closed = true;
            }
            return;
          }
          this.unconfirmed.delete(id);
          this.confirmed.add(id);
          this.confirmTimes.push(performance.now());
          this.confirmedPublishTimes.push(publishedAt);
        });
      }
      await sleep(this.o.tickMs ?? 20);
    }
    // stopping: let the last confirms arrive before closing, so the tail is not counted as unconfirmed
    const until = performance.now() + 10_000;
    while (inflight > 0 && !closed && performance.now() < until) await sleep(20);
  }

  async stop(): Promise<void> {
    await this.finish();
  }
}

export class ClusterConsumer extends Reconnecting {
  /** every id received at least once */
  readonly received = new Set<string>();
  /** ids received more than once, with how many times */
  readonly duplicates = new Map<string, number>();
  redelivered = 0;
  /**
   * Repeats that came without the redelivered flag. The publisher never republishes, so a repeat is
   * always a message that went out before (unacked on a failed leader): it must carry the flag.
   */
  unflaggedRepeats = 0;

  // starts on another node than the publisher, so the two paths differ
  constructor(urls: string[], private readonly queue: string, private readonly prefetch = 100) {
    super(urls, 'consumer', 1);
  }

  protected async session(conn: Connection, lost: Promise<void>): Promise<void> {
    const ch = await conn.createChannel();
    ch.on('error', () => undefined);
    ch.on('close', () => void conn.close().catch(() => undefined));
    await ch.prefetch(this.prefetch);
    await ch.consume(this.queue, (msg) => {
      if (!msg) return; // cancelled by the broker: the connection closes next
      const id = msg.content.toString();
      if (msg.fields.redelivered) this.redelivered++;
      if (this.received.has(id) && !msg.fields.redelivered) this.unflaggedRepeats++;
      if (this.received.has(id)) this.duplicates.set(id, (this.duplicates.get(id) ?? 1) + 1);
      else this.received.add(id);
      ch.ack(msg);
    });
    await lost;
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.conn?.close().catch(() => undefined);
    await this.finish();
  }
}

/** Confirmed ids the consumer has not received, after giving it up to `timeoutMs` to get them all. */
export async function confirmedNotDelivered(pub: ClusterPublisher, con: ClusterConsumer, timeoutMs = 60_000): Promise<string[]> {
  const deadline = performance.now() + timeoutMs;
  const missing = (): string[] => [...pub.confirmed].filter((id) => !con.received.has(id));
  while (missing().length > 0 && performance.now() < deadline) await sleep(200);
  return missing();
}

/** Total extra deliveries (a message delivered 3 times counts 2). */
export const duplicateDeliveries = (con: ClusterConsumer): number => [...con.duplicates.values()].reduce((a, n) => a + n - 1, 0);
