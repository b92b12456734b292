import type { Envelope, Message } from '../broker/message.js';
import type { Segment } from './segment.js';

/** An envelope that remembers where its record is, so settle() finds the segment at once. */
export class StoredEnvelope implements Envelope {
  /** Settled or purged: a second settle is ignored instead of corrupting the live counts. */
  done = false;
  /** Envelope's outstanding-delivery fields, declared here so every StoredEnvelope has one shape. */
  deliveredAt = 0;
  outPrev: Envelope | undefined = undefined;
  outNext: Envelope | undefined = undefined;
  constructor(
    readonly seq: number,
    readonly message: Message,
    public redelivered: boolean,
    /** Undefined for a transient list's message that was never written (it fit in the head window). */
    readonly segment: Segment | undefined,
    readonly offset: number,
  ) {}
}
