/**
 * A durable queue's list on a cluster leader: a message is delivered only once the followers have
 * it, as a quorum queue delivers only committed entries. Without this, a leader cut off from its
 * peers could hand a consumer a message that the next leader never had (its unconfirmed tail is
 * discarded when it rejoins), or deliver one whose delivered mark a promoted follower lacks, so
 * that it came back without the redelivered flag.
 *
 * Two gates, both on the head of the ready stream, both in seq order:
 * - Replication: a persistent message becomes deliverable when the group-commit round that wrote
 *   it is replicated — the moment its publisher confirm goes out (persister.ts; the release is
 *   registered before the confirm, so a client that got the confirm can also get the message). A
 *   transient message behind a held one waits with it, to keep the queue's order.
 * - Delivered mark: a never-delivered message goes out only at or below a mark the followers
 *   acknowledged (DeliveredMark.replicated); the mark is written ahead of deliveries, so under load
 *   this gate is open.
 * A held head makes shift() and peek() return undefined; `length` still counts it (it is in the
 * queue, as RabbitMQ counts an enqueued message). The queue is told through onDeliverable when
 * held messages may go. Single nodes and non-durable queues never use this class: their lists
 * are plain DurableMessageLists, so none of it costs anything there.
 */
import type { Envelope, Message } from '../broker/message.js';
import type { CleanSegment } from './clean-shutdown.js';
import { DurableMessageList, type DurableListOptions, type RecoveredQueueState } from './durable-message-list.js';
import type { StoreLogger } from './logger.js';
import type { Persister } from './persister.js';

/** The messages one group-commit round releases: every seq below `end` once the round is replicated. */
interface HeldRound {
  readonly round: number;
  end: number;
}

export class ReplicatedMessageList extends DurableMessageList {
  /** Messages with a seq below this have been replicated (or need not be) and may be delivered. */
  private deliverableEnd: number;
  /** Rounds not yet replicated, oldest first; the last one grows while its round is open. */
  private readonly held: HeldRound[] = [];
  onDeliverable: (() => void) | undefined;

  constructor(
    vhost: string,
    name: string,
    dir: string,
    persister: Persister,
    log: StoreLogger,
    options: DurableListOptions,
    recovered: RecoveredQueueState | undefined,
    onGone: (list: DurableMessageList, clean?: CleanSegment[]) => void,
  ) {
    super(vhost, name, dir, persister, log, options, recovered, onGone);
    // Recovered messages are on this node's disk as the followers resync it: deliverable.
    this.deliverableEnd = this.nextSeq;
    this.mark.onReplicated = () => {
      if (!this.closed) this.onDeliverable?.();
    };
  }

  override push(message: Message): Envelope {
    const envelope = super.push(message);
    const end = envelope.seq + 1;
    const last = this.held[this.held.length - 1];
    if (message.persistent) {
      const round = this.persister.openRoundId;
      if (last?.round === round) {
        last.end = end;
      } else {
        const held: HeldRound = { round, end };
        this.held.push(held);
        // Registered before the publisher's confirm (it is routed here first): released first.
        this.persister.onDurable(round, () => this.release(held));
      }
    } else if (last) {
      last.end = end;
    } else {
      this.deliverableEnd = end;
    }
    return envelope;
  }

  override peek(): Envelope | undefined {
    return this.deliverableHead();
  }

  override shift(): Envelope | undefined {
    if (!this.deliverableHead()) return undefined;
    const envelope = super.shift()!;
    this.mark.keepAhead(envelope.seq);
    return envelope;
  }

  /** The head if both gates let it go (requeued envelopes went out before: they pass both). */
  private deliverableHead(): Envelope | undefined {
    const head = super.peek();
    if (!head || head.seq >= this.deliverableEnd) return undefined;
    if (head.seq > this.mark.replicated) {
      this.mark.cover(head.seq);
      if (head.seq > this.mark.replicated) return undefined;
    }
    return head;
  }

  private release(held: HeldRound): void {
    if (this.closed) return;
    while (this.held.length > 0 && this.held[0]!.end <= held.end) this.held.shift();
    if (held.end <= this.deliverableEnd) return;
    this.deliverableEnd = held.end;
    this.onDeliverable?.();
  }
}
