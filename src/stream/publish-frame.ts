/**
 * Walks the messages of a publish frame in place, the server's hot path: no object per message.
 *
 *   publish v1: u8 publisher id, i32 count, then per message: u64 publishing id, entry
 *   publish v2: the same with an int16-length filter value between the id and the entry
 *   entry:      u32 size (top bit 0) + message, or a sub-entry batch: u8 0x80 | compression << 4,
 *               u16 records, u32 uncompressed length, u32 length, then the (compressed) messages
 *
 * An entry is exactly what an osiris chunk holds, so the log copies it as is. `validate()` walks the
 * whole frame first, so a malformed frame is refused before any of its messages is stored.
 */
import { StreamDecodeError } from './codec.js';

/** Sub-entry batch header: flags, records, uncompressed length, length. */
export const SUB_BATCH_HEADER = 11;

export class PublishCursor {
  readonly publisherId: number;
  readonly count: number;
  private readonly first: number;
  private pos = 0;
  private index = 0;
  /** The current message: where its publishing id is, where its entry starts, and the entry's size. */
  idPos = 0;
  entryPos = 0;
  entryLength = 0;
  /** Records in the current entry: 1, or a sub-entry batch's count. */
  records = 0;

  /** `start` is just after the key and version. */
  constructor(readonly buf: Buffer, start: number, readonly end: number, private readonly version: number) {
    if (start + 5 > end) throw new StreamDecodeError('publish frame too short');
    this.publisherId = buf[start]!;
    const n = buf.readInt32BE(start + 1);
    this.count = n < 0 ? 0 : n;
    this.first = start + 5;
    if (this.count * 12 > end - this.first) throw new StreamDecodeError(`array of ${n} elements does not fit the frame`);
    this.pos = this.first;
  }

  /** Checks every message fits the frame; the cursor is then at the start again. */
  validate(): void {
    while (this.next());
    if (this.index !== this.count) throw new StreamDecodeError('publish frame too short');
    this.pos = this.first;
    this.index = 0;
  }

  /** Moves to the next message; false after the last. Throws StreamDecodeError past the frame. */
  next(): boolean {
    if (this.index >= this.count) return false;
    const b = this.buf;
    let p = this.pos;
    this.idPos = p;
    p += 8;
    if (this.version === 2) {
      this.need(p, 2);
      const len = b.readInt16BE(p);
      p += 2 + (len > 0 ? len : 0);
    }
    this.need(p, 4);
    this.entryPos = p;
    if (b[p]! & 0x80) {
      this.need(p, SUB_BATCH_HEADER);
      this.records = b.readUInt16BE(p + 1);
      this.entryLength = SUB_BATCH_HEADER + b.readUInt32BE(p + 7);
    } else {
      this.records = 1;
      this.entryLength = 4 + b.readUInt32BE(p);
    }
    this.need(p, this.entryLength);
    this.pos = p + this.entryLength;
    this.index++;
    return true;
  }

  private need(p: number, n: number): void {
    if (p + n > this.end) throw new StreamDecodeError(`frame too short: needs ${n} bytes at ${p}`);
  }

  /** The current message's publishing id. */
  publishingId(): bigint {
    return this.buf.readBigUInt64BE(this.idPos);
  }

  /** Whether the current entry is a sub-entry batch. */
  get subBatch(): boolean {
    return (this.buf[this.entryPos]! & 0x80) !== 0;
  }
}
