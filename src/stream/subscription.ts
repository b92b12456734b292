/**
 * One stream-protocol subscription: reads chunks from the log's files and sends each as a Deliver
 * frame, one credit per chunk (as RabbitMQ). It reads only when it has credit and the socket is not
 * backed up. Chunks are read into a reused slab (read-slab.ts), as many consecutive ones per read
 * system call as credit and the slab allow, each behind the Deliver header written in place, and
 * adjacent frames go out in one socket write; so a consumer of a long backlog holds at most two slabs
 * (3 MiB) beyond what the socket buffers, whatever the backlog.
 */
import { ReadSlab, SLAB_BYTES } from './read-slab.js';
import { DELIVER_PREFIX, fillDeliverPrefix, writeDeliverPrefix } from './responses.js';
import type { Stream } from './stream-manager.js';

export interface DeliverySink {
  /**
   * Writes a frame; false when the socket is backed up (wait for resume). `written` runs once the
   * socket no longer needs the frame's bytes (they may be overwritten then); `frames` counts the
   * frames it holds when several adjacent ones go out in one write.
   */
  write(frame: Buffer, written?: () => void, frames?: number): boolean;
  onDrain(fn: () => void): void;
}

/**
 * How long a new subscription's first chunk waits after the subscribe response, by the client's peer
 * properties: 0 (the next event-loop turn, as RabbitMQ sends at once), except for
 * rabbitmq-stream-js-client. That client resolves its subscribe call several promise turns after
 * reading the response, and a chunk read in the same socket read reaches the message handler before
 * the caller holds its consumer object: its offset-tracking example (and its suite's offset test)
 * call `consumer.storeOffset()` from the handler, which then throws. RabbitMQ's reader sends the first
 * chunk with a sendfile from the log after the response, and that gap is enough in practice; with
 * Warren's setImmediate it was not (the suite's offset test failed every run). 10 ms passed 8 of 8
 * runs of that test alone at load 12 on 2 cores but failed once in the whole suite there, the client
 * process not being scheduled between the two writes; 50 ms leaves room for that. For every client it
 * cost 50 ms before the first chunk, 6 % of reading a 1 GiB backlog, so other clients do not wait.
 */
export function firstDeliveryDelayMs(clientProperties: Record<string, string>): number {
  return clientProperties['product'] === 'RabbitMQ Stream' && clientProperties['platform'] === 'javascript' ? 50 : 0;
}

/** Chunks a subscription reads and sends per event-loop turn at most. */
const CHUNKS_PER_TURN = 64;
/** A chunk this large takes a new slab even at the tail (a busy stream's chunks are this large). */
const SLAB_WORTH_BYTES = 64 * 1024;

export class Subscription {
  private stopListening: () => void;
  private readonly firstDelivery: NodeJS.Timeout | undefined;
  /** False until firstDeliveryDelayMs() after the subscribe response. */
  private started = false;
  private scheduled = false;
  private waitingForDrain = false;
  /** Both slabs hold frames still being written. */
  private waitingForSlab = false;
  private stopped = false;
  /** Chunks are read into these (at most two, the second while the first's frames are written). */
  private readonly slabs: (ReadSlab | undefined)[] = [undefined, undefined];
  private current = 0;
  /** Frames read by the last readChunks: start and end in the current slab, in pairs. */
  private readonly frames: number[] = [];
  /** The last chunk read alone was not the last visible one: the next read may take a new slab. */
  private behind = false;
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
    /** firstDeliveryDelayMs() of the client. */
    firstDelayMs = 0,
  ) {
    this.stopListening = stream.log.onAppend(() => this.schedule());
    stream.consumers++;
    const start = (): void => {
      this.started = true;
      this.schedule();
    };
    if (firstDelayMs > 0) this.firstDelivery = setTimeout(start, firstDelayMs);
    else start();
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
    if (this.scheduled || this.stopped || this.waitingForDrain || this.waitingForSlab || !this.active || !this.started) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.pump();
    });
  }

  private pump(): void {
    const log = this.stream.log;
    // A bounded batch per turn keeps one busy subscription from starving the event loop.
    let budget = CHUNKS_PER_TURN;
    while (budget > 0 && this.credit > 0 && this.active && !this.stopped) {
      let slab = this.slabs[this.current];
      if (!slab) {
        // With the pool empty, a new slab only for a backlog: a reader at the tail of a quiet stream
        // reads its small chunks into buffers of their size, as they come.
        slab = ReadSlab.take(this.slabIdle, this.behind || log.chunkBytesAt(this.nextOffset) >= SLAB_WORTH_BYTES);
        if (!slab) {
          if (!this.deliverAlone()) return;
          budget--;
          continue;
        }
        this.slabs[this.current] = slab;
      }
      this.frames.length = 0;
      const at = slab.used;
      const end = log.readChunks(this.nextOffset, slab.buf, at, DELIVER_PREFIX, Math.min(this.credit, budget), this.collect);
      if (end === at) {
        const size = log.chunkBytesAt(this.nextOffset);
        if (size === 0) return this.caughtUp();
        if (DELIVER_PREFIX + size > SLAB_BYTES) {
          // Larger than a slab (a message above 1 MiB): a buffer of its own.
          if (!this.deliverAlone()) return;
          budget--;
          continue;
        }
        // This slab is full of frames still being written: the other one, once its writes are done.
        this.behind = true;
        this.current ^= 1;
        const other = this.slabs[this.current];
        if (other?.busy) {
          this.waitingForSlab = true;
          return;
        }
        continue;
      }
      slab.used = end;
      budget -= this.frames.length / 2;
      if (!this.writeFrames(slab)) return;
    }
    if (this.credit > 0 && !this.stopped) this.schedule();
  }

  /** readChunks' callback: one chunk read into the current slab at [start, end). */
  private readonly collect = (start: number, end: number, firstOffset: number, records: number): void => {
    writeDeliverPrefix(this.slabs[this.current]!.buf, start, end, this.id);
    this.frames.push(start, end);
    this.nextOffset = firstOffset + records;
    this.lastChunkOffset = firstOffset;
    this.credit--;
    this.chunksDelivered++;
    this.messagesDelivered += records;
  };

  /**
   * Writes the frames just read: adjacent ones (chunks without a trailer lie back to back) in one
   * socket write. False when the socket is backed up (the pump resumes on drain).
   */
  private writeFrames(slab: ReadSlab): boolean {
    const f = this.frames;
    let ok = true;
    let runStart = f[0]!;
    let runFrames = 0;
    for (let i = 0; i < f.length; i += 2) {
      const runEnd = f[i + 1]!;
      runFrames++;
      if (i + 2 < f.length && f[i + 2] === runEnd) continue;
      slab.writeStarted();
      ok = this.sink.write(slab.buf.subarray(runStart, runEnd), slab.written, runFrames) && ok;
      if (i + 2 < f.length) runStart = f[i + 2]!;
      runFrames = 0;
    }
    if (!ok) this.waitForDrain();
    return ok;
  }

  /** One chunk read into a buffer of its own (the slab pool is empty or the chunk is larger than a slab). */
  private deliverAlone(): boolean {
    const log = this.stream.log;
    const chunk = log.read(this.nextOffset, DELIVER_PREFIX);
    if (!chunk) return false;
    this.nextOffset = chunk.firstOffset + chunk.records;
    this.behind = this.nextOffset < log.nextOffsetVisible;
    this.lastChunkOffset = chunk.firstOffset;
    this.credit--;
    this.chunksDelivered++;
    this.messagesDelivered += chunk.records;
    if (this.sink.write(fillDeliverPrefix(chunk.buf, this.id))) return true;
    this.waitForDrain();
    return false;
  }

  private waitForDrain(): void {
    this.waitingForDrain = true;
    this.sink.onDrain(() => {
      this.waitingForDrain = false;
      this.schedule();
    });
  }

  /** Nothing more to read for now: the slabs go back to the pool (when their writes are done). */
  private caughtUp(): void {
    this.behind = false;
    this.giveBackSlabs();
  }

  private giveBackSlabs(): void {
    for (const slab of this.slabs) slab?.giveBack();
    this.slabs[0] = this.slabs[1] = undefined;
    this.current = 0;
    this.waitingForSlab = false;
  }

  /** The last write of one of this subscription's slabs completed. */
  private readonly slabIdle = (): void => {
    if (!this.waitingForSlab) return;
    this.waitingForSlab = false;
    this.schedule();
  };

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.firstDelivery);
    this.stream.consumers--;
    this.stopListening();
    this.giveBackSlabs();
  }
}
