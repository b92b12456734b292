/**
 * Turns basic.publish + content header + body frames into one publish. A body spread over frames
 * is copied once, into a buffer sized from the header; a body in a single frame is copied once out
 * of the socket read, into memory/body-slabs.ts while a backlog builds (so the memory comes back after it).
 * Frames out of order raise RabbitMQ's 505 UNEXPECTED_FRAME texts.
 */
import { frameError, preconditionFailed, unexpectedFrame, type AmqpError } from '../protocol/errors.js';
import { Method, type BasicPublish } from '../protocol/generated.js';
import { allocate, copyOut } from '../memory/body-slabs.js';

/** A complete publish: the method's arguments, the raw property bytes and the whole body. */
export interface PublishedContent {
  readonly method: BasicPublish;
  readonly rawProperties: Buffer;
  readonly body: Buffer;
}

const EMPTY = Buffer.alloc(0);

export class ContentAssembler {
  private method: BasicPublish | undefined;
  private rawProperties: Buffer = EMPTY;
  private headerSeen = false;
  private body: Buffer = EMPTY;
  private bodySize = 0;
  private received = 0;

  constructor(private readonly maxMessageSize: number) {}

  /** Between basic.publish and the last body frame. */
  get inProgress(): boolean {
    return this.method !== undefined;
  }

  start(method: BasicPublish): void {
    this.method = method;
    this.rawProperties = this.body = EMPTY;
    this.headerSeen = false;
    this.bodySize = this.received = 0;
  }

  reset(): void {
    this.method = undefined;
  }

  /** The error for a method frame arriving while content is expected. */
  interruptedByMethod(): AmqpError {
    return this.headerSeen
      ? unexpectedFrame('expected content body, got non content body frame instead', Method.basicPublish)
      : unexpectedFrame('expected content header for class 60, got non content header frame instead', Method.basicPublish);
  }

  /** A content header frame; returns the publish when the body is empty. */
  header(payload: Buffer): PublishedContent | undefined {
    if (!this.method) throw unexpectedFrame('expected method frame, got non method frame instead');
    if (this.headerSeen) throw unexpectedFrame('expected content body, got non content body frame instead');
    if (payload.length < 14) throw frameError('content header too short');
    const classId = payload.readUInt16BE(0);
    if (classId !== 60) {
      throw unexpectedFrame(`expected content header for class 60, got one for class ${classId} instead`, Method.basicPublish);
    }
    // RabbitMQ only takes a header whose weight field is 0 as a content header at all.
    if (payload.readUInt16BE(2) !== 0) throw this.interruptedByMethod();
    const size = payload.readUInt32BE(4) * 0x100000000 + payload.readUInt32BE(8);
    if (size > this.maxMessageSize) {
      this.reset();
      throw preconditionFailed(`message size ${size} is larger than configured max size ${this.maxMessageSize}`);
    }
    // Copied: the payload is a view into the socket read (copy() makes no intermediate view).
    this.rawProperties = copyOut(payload, 12);
    this.headerSeen = true;
    this.bodySize = size;
    return size === 0 ? this.finish() : undefined;
  }

  /** A content body frame; returns the publish once the body is complete. */
  bodyFrame(payload: Buffer): PublishedContent | undefined {
    if (!this.method) throw unexpectedFrame('expected method frame, got non method frame instead');
    if (!this.headerSeen) throw unexpectedFrame('expected content header for class 60, got non content header frame instead');
    if (this.received + payload.length > this.bodySize) throw unexpectedFrame('content body larger than announced in its header');
    if (this.received === 0 && payload.length === this.bodySize) {
      this.body = copyOut(payload);
    } else {
      if (this.received === 0) this.body = allocate(this.bodySize);
      payload.copy(this.body, this.received);
    }
    this.received += payload.length;
    return this.received === this.bodySize ? this.finish() : undefined;
  }

  private finish(): PublishedContent {
    const done = { method: this.method!, rawProperties: this.rawProperties, body: this.body };
    this.method = undefined;
    return done;
  }
}
