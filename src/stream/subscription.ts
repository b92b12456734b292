/**
 * One stream-protocol subscription: reads chunks from the log's files and sends each as a Deliver
 * frame, one credit per chunk (as RabbitMQ). It reads only when it has credit and the socket is not
 * backed up, so a consumer of a long backlog holds at most one chunk in memory at a time beyond what
 * the socket buffers.
 */
import { DELIVER_PREFIX, fillDeliverPrefix } from './responses.js';
import type { Stream } from './stream-manager.js';

export interface DeliverySink {
  /** Writes a frame; false when the socket is backed up (wait for resume). */
  write(frame: Buffer): boolean;
  onDrain(fn: () => void): void;
}

/**
 * A new subscription's first chunk waits this long after the subscribe response. Clients such as
 * rabbitmq-stream-js-client resolve their subscribe call several promise turns after reading the
 * response, and a chunk read in the same socket read reaches the message handler before the caller
 * holds its consumer object: the client's offset-tracking example (and its suite's offset test) call
 * `consumer.storeOffset()` from the handler, which then throws. RabbitMQ's reader sends the first
 * chunk with a sendfile from the log after the response, and that gap is enough in practice; with
 * Warren's setImmediate it was not (the suite's offset test failed every run). 10 ms passed 8 of 8
 * runs of that test alone at load 12 on 2 cores but failed once in the whole suite there, the client
 * process not being scheduled between the two writes; 50 ms leaves room for that. It costs a
 * subscription with a backlog 50 ms before its first chunk, nothing per message.
 */
const FIRST_DELIVERY_DELAY_MS = 50;

export class Subscription {
  private stopListening: () => void;
  private readonly firstDelivery: NodeJS.Timeout;
  /** False until FIRST_DELIVERY_DELAY_MS after the subscribe response. */
  private started = false;
  private scheduled = false;
  private waitingForDrain = false;
  private stopped = false;
  chunksDelivered = 0;
  /** First offset of the last chunk delivered (RabbitMQ's consumer `offset` in management). */
  lastChunkOffset = 0;
  messagesDelivered = 0;

  constructor(
    readonly id: number,
    readonly stream: Stream,
    /** Subscription properties the client sent (management shows them). */
    readonly properties: Record<string, string>,
    /** The offset the next chunk read starts from. */
    private nextOffset: number,
    public credit: number,
    private readonly sink: DeliverySink,
    /** False for a waiting member of a single-active-consumer group, until activate(). */
    public active = true,
  ) {
    this.stopListening = stream.log.onAppend(() => this.schedule());
    stream.consumers++;
    this.firstDelivery = setTimeout(() => {
      this.started = true;
      this.schedule();
    }, FIRST_DELIVERY_DELAY_MS);
  }

  /** A single-active-consumer group's turn: deliveries start at `offset`. */
  activate(offset: number): void {
    this.nextOffset = offset;
    this.active = true;
    this.schedule();
  }

  /** Its group chose another member: no more deliveries until activate(). */
  deactivate(): void {
    this.active = false;
  }

  addCredit(n: number): void {
    this.credit = Math.min(this.credit + n, 0xffff * 16);
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled || this.stopped || this.waitingForDrain || !this.active || !this.started) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.pump();
    });
  }

  private pump(): void {
    // A bounded batch per turn keeps one busy subscription from starving the event loop.
    for (let n = 0; n < 64 && this.credit > 0 && this.active && !this.stopped; n++) {
      const chunk = this.stream.log.read(this.nextOffset, DELIVER_PREFIX);
      if (!chunk) return;
      this.nextOffset = chunk.firstOffset + chunk.records;
      this.lastChunkOffset = chunk.firstOffset;
      this.credit--;
      this.chunksDelivered++;
      this.messagesDelivered += chunk.records;
      if (!this.sink.write(fillDeliverPrefix(chunk.buf, this.id))) {
        this.waitingForDrain = true;
        this.sink.onDrain(() => {
          this.waitingForDrain = false;
          this.schedule();
        });
        return;
      }
    }
    if (this.credit > 0 && !this.stopped) this.schedule();
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.firstDelivery);
    this.stream.consumers--;
    this.stopListening();
  }
}
