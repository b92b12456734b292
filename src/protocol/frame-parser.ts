/**
 * Splits a TCP byte stream into AMQP frames. Frames wholly inside one socket read are handed out as
 * views of that read (no copy); only a frame split across reads is assembled, once, into a buffer of
 * its exact size. Bad framing throws a FRAME_ERROR AmqpError: the connection closes with 501.
 */
import { frameError, frameTooLarge, unknownFrame } from './errors.js';
import { FRAME_BODY, FRAME_END, FRAME_HEADER, FRAME_HEARTBEAT, FRAME_METHOD } from './generated.js';

export interface FrameSink {
  /** `payload` is a view valid only during the call. */
  onFrame(type: number, channel: number, payload: Buffer): void;
}

const HEADER = 7;

export class FrameParser {
  /** Largest accepted frame including its 8 bytes of framing; lowered/raised by tune. */
  maxFrameSize: number;
  /** Bytes of a frame split across reads, assembled in place. */
  private partial: Buffer | null = null;
  private partialLength = 0;
  private readonly header = Buffer.allocUnsafe(HEADER);

  constructor(
    private readonly sink: FrameSink,
    maxFrameSize: number,
  ) {
    this.maxFrameSize = maxFrameSize;
  }

  push(chunk: Buffer): void {
    let off = 0;
    if (this.partial !== null || this.partialLength > 0) {
      off = this.continuePartial(chunk);
      if (off < 0) return;
    }
    const len = chunk.length;
    while (off + HEADER <= len) {
      const size = chunk.readUInt32BE(off + 3);
      this.checkSize(size, chunk[off]!);
      const end = off + HEADER + size;
      if (end >= len) break;
      if (chunk[end] !== FRAME_END) throw frameError(`invalid frame end octet ${chunk[end]}`);
      this.emit(chunk[off]!, chunk.readUInt16BE(off + 1), chunk.subarray(off + HEADER, end));
      off = end + 1;
    }
    if (off < len) this.startPartial(chunk, off);
  }

  /** A whole frame RabbitMQ would recognise goes to the sink; it reads an unknown one whole before refusing it. */
  private emit(type: number, channel: number, payload: Buffer): void {
    if (type !== FRAME_METHOD && type !== FRAME_HEADER && type !== FRAME_BODY && type !== FRAME_HEARTBEAT) {
      throw unknownFrame(type, payload);
    }
    // A method frame without its class and method ids, or a content header shorter than class,
    // weight and body size, is not a frame RabbitMQ recognises.
    if ((type === FRAME_METHOD && payload.length < 4) || (type === FRAME_HEADER && payload.length < 12)) throw unknownFrame(type, payload);
    this.sink.onFrame(type, channel, payload);
  }

  private checkSize(size: number, type: number): void {
    if (size + 8 > this.maxFrameSize) {
      throw frameTooLarge(type, size, this.maxFrameSize);
    }
  }

  private startPartial(chunk: Buffer, off: number): void {
    const avail = chunk.length - off;
    if (avail < HEADER) {
      chunk.copy(this.header, 0, off);
      this.partial = null;
      this.partialLength = avail;
      return;
    }
    const size = chunk.readUInt32BE(off + 3);
    this.partial = Buffer.allocUnsafe(HEADER + size + 1);
    chunk.copy(this.partial, 0, off);
    this.partialLength = avail;
  }

  /** Returns the offset in `chunk` after the completed frame, or -1 if the chunk was used up. */
  private continuePartial(chunk: Buffer): number {
    let off = 0;
    if (this.partial === null) {
      const take = Math.min(HEADER - this.partialLength, chunk.length);
      chunk.copy(this.header, this.partialLength, 0, take);
      this.partialLength += take;
      off = take;
      if (this.partialLength < HEADER) return -1;
      const size = this.header.readUInt32BE(3);
      this.checkSize(size, this.header[0]!);
      this.partial = Buffer.allocUnsafe(HEADER + size + 1);
      this.header.copy(this.partial);
    }
    const frame = this.partial;
    const take = Math.min(frame.length - this.partialLength, chunk.length - off);
    chunk.copy(frame, this.partialLength, off, off + take);
    this.partialLength += take;
    off += take;
    if (this.partialLength < frame.length) return -1;
    this.partial = null;
    this.partialLength = 0;
    const end = frame.length - 1;
    if (frame[end] !== FRAME_END) throw frameError(`invalid frame end octet ${frame[end]}`);
    this.emit(frame[0]!, frame.readUInt16BE(1), frame.subarray(HEADER, end));
    return off === chunk.length ? -1 : off;
  }
}
