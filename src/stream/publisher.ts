/**
 * One declared stream-protocol publisher and the publishing ids it waits to confirm. Ids are kept as
 * the 8 raw bytes the publish frame carried, in one growing buffer, with a mark per publish frame:
 * (bytes of ids up to the end of the frame, the log offset its records end at). Once the log's
 * visible (fsynced) end passes a mark, its ids go out in one publish_confirm frame whose id array is
 * one copy of that buffer: no BigInt and no object per message, one confirm frame per publisher per
 * group-commit round.
 */
import { Key } from './constants.js';
import { copyBytes } from './chunk-builder.js';
import type { Stream } from './stream-manager.js';

/** size, key, version, publisher id, count. */
const CONFIRM_HEADER = 4 + 2 + 2 + 1 + 4;

export class Publisher {
  published = 0;
  confirmed = 0;
  errored = 0;
  private ids = Buffer.allocUnsafe(8 * 256);
  private idsEnd = 0;
  /** Flat pairs: bytes of ids covered, log offset they wait for. Increasing in both. */
  private marks: number[] = [];
  /** Ends the log listener that confirms after each fsync round. */
  stopListening: () => void = () => {};

  constructor(readonly id: number, readonly stream: Stream, readonly reference: string) {}

  /** Queues the 8-byte publishing id at src[pos]. */
  addId(src: Buffer, pos: number): void {
    if (this.idsEnd + 8 > this.ids.length) {
      const next = Buffer.allocUnsafe(this.ids.length * 2);
      this.ids.copy(next, 0, 0, this.idsEnd);
      this.ids = next;
    }
    copyBytes(src, pos, this.ids, this.idsEnd, 8);
    this.idsEnd += 8;
  }

  /** The ids queued so far are confirmed once the log's visible end reaches `until`. */
  endFrame(until: number): void {
    const n = this.marks.length;
    // Frames of one turn share a chunk: one mark covers them.
    if (n > 0 && this.marks[n - 1] === until) this.marks[n - 2] = this.idsEnd;
    else this.marks.push(this.idsEnd, until);
  }

  get waiting(): boolean {
    return this.marks.length > 0;
  }

  /** The publish_confirm frame for every id whose records are below `visible`, or undefined. */
  takeConfirms(visible: number): Buffer | undefined {
    let end = 0;
    let used = 0;
    while (used < this.marks.length && this.marks[used + 1]! <= visible) {
      end = this.marks[used]!;
      used += 2;
    }
    if (used === 0) return undefined;
    const count = end / 8;
    const frame = Buffer.allocUnsafe(CONFIRM_HEADER + end);
    frame.writeUInt32BE(frame.length - 4, 0);
    frame.writeUInt16BE(Key.PublishConfirm, 4);
    frame.writeUInt16BE(1, 6);
    frame[8] = this.id;
    frame.writeInt32BE(count, 9);
    this.ids.copy(frame, CONFIRM_HEADER, 0, end);
    this.ids.copyWithin(0, end, this.idsEnd);
    this.idsEnd -= end;
    this.marks.splice(0, used);
    for (let i = 0; i < this.marks.length; i += 2) this.marks[i] = this.marks[i]! - end;
    this.confirmed += count;
    return frame;
  }
}
