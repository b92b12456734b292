// One publisher: its own connection and channel 1. Every event-loop turn it copies up to `batch`
// pre-encoded publishes into one buffer, stamps them with one clock reading and writes them with one
// socket write; then it yields (setImmediate) so confirms and stop requests get processed.
import type { FrameSink, PerfConnection } from './client.js';
import { nowUs } from './clock.js';
import { record } from './histogram.js';
import { M, type PublishTemplate } from './methods.js';
import { C_BLOCKED_MS, C_CONFIRMED, C_ERRORS, C_NACKED, C_PUBLISHED, C_RETURNED, C_CONSUMED, WAITERS, WAKE, confirmLatencyBase, slotBase, total } from './stats.js';

export interface PublisherSettings {
  index: number;
  confirm: number;
  /** msg/s for this publisher, 0 = unlimited */
  rate: number;
  pmessages: number;
  batch: number;
  maxBacklog: number;
  copies: number;
}

export interface SharedView {
  table: Float64Array;
  control: Int32Array;
  slots: number;
  slot: number;
}

type WaitAsync = (a: Int32Array, i: number, v: number, t: number) => { async: boolean; value: Promise<string> | string };
const waitAsync = (Atomics as unknown as { waitAsync: WaitAsync }).waitAsync;

export class Publisher implements FrameSink {
  private running = false;
  private waiting = false;
  private scheduled = false;
  private sent = 0;
  private startedAt = 0;
  private next: number;
  // confirms: publish time per sequence number in a ring; `floor` = every seq <= floor is confirmed
  private readonly ringMask: number;
  private readonly sentAt: Float64Array;
  private readonly done: Uint8Array;
  private floor = 0;
  private outstanding = 0;
  private backlogPaused = false;
  private blockedSince = 0;
  private readNow = -1;
  private readonly counters: number;
  onFinished: (() => void) | null = null;
  onError: ((msg: string) => void) | null = null;

  constructor(
    private readonly conn: PerfConnection,
    private readonly channel: number,
    private readonly templates: PublishTemplate[],
    private readonly s: PublisherSettings,
    private readonly shared: SharedView,
  ) {
    this.next = s.index % templates.length;
    this.counters = slotBase(shared.slot);
    const ring = s.confirm > 0 ? 1 << Math.ceil(Math.log2(s.confirm * 2 + 2)) : 1;
    this.ringMask = ring - 1;
    this.sentAt = new Float64Array(ring);
    this.done = new Uint8Array(ring);
    conn.sink = this;
    conn.onBlocked = (blocked) => {
      const t = this.shared.table;
      if (blocked) this.blockedSince = performance.now();
      else {
        t[slotBase(shared.slot) + C_BLOCKED_MS]! += performance.now() - this.blockedSince;
        this.schedule();
      }
    };
  }

  start(): void {
    this.running = true;
    this.startedAt = performance.now();
    this.schedule();
  }

  stop(): void {
    this.running = false;
  }

  private schedule(): void {
    if (this.scheduled || !this.running || this.waiting) return;
    this.scheduled = true;
    setImmediate(this.turn);
  }

  private readonly turn = (): void => {
    this.scheduled = false;
    if (!this.running || this.conn.closed || this.conn.blocked) return;
    let n = this.s.batch;
    if (this.s.pmessages > 0) {
      n = Math.min(n, this.s.pmessages - this.sent);
      if (n <= 0) {
        if (this.outstanding === 0) this.finish();
        return; // the last confirm will call finish()
      }
    }
    if (this.s.confirm > 0) {
      n = Math.min(n, this.s.confirm - this.outstanding, this.ringMask - (this.sent - this.floor));
      if (n <= 0) return; // readDone() reschedules when confirms arrive
    }
    if (this.s.maxBacklog > 0) {
      const room = this.backlogRoom();
      if (room <= 0) return this.waitForConsumers();
      n = Math.min(n, room);
    }
    if (this.s.rate > 0) {
      const elapsed = performance.now() - this.startedAt;
      const due = Math.floor((this.s.rate * elapsed) / 1000) + 1 - this.sent;
      if (due <= 0) {
        const wait = ((this.sent + 1) * 1000) / this.s.rate - elapsed;
        this.scheduled = true;
        setTimeout(() => {
          this.scheduled = false;
          this.turn();
        }, Math.max(1, wait));
        return;
      }
      n = Math.min(n, due);
    }
    this.publish(n);
  };

  private publish(n: number): void {
    const tpl = this.templates;
    let bytes = 0;
    let k = this.next;
    for (let i = 0; i < n; i++) {
      bytes += tpl[k]!.bytes.length;
      if (++k === tpl.length) k = 0;
    }
    const buf = Buffer.allocUnsafe(bytes);
    const now = nowUs();
    let at = 0;
    k = this.next;
    for (let i = 0; i < n; i++) {
      const t = tpl[k]!;
      t.bytes.copy(buf, at);
      if (t.stampAt >= 0) buf.writeDoubleLE(now, at + t.stampAt);
      at += t.bytes.length;
      if (++k === tpl.length) k = 0;
    }
    this.next = k;
    if (this.s.confirm > 0) {
      for (let i = 1; i <= n; i++) this.sentAt[(this.sent + i) & this.ringMask] = now;
      this.outstanding += n;
    }
    this.sent += n;
    this.shared.table[this.counters + C_PUBLISHED]! += n; // the slot is shared by this thread's publishers
    if (this.conn.write(buf)) this.schedule();
    else this.conn.socket.once('drain', () => this.schedule());
  }

  /** Messages that may still be published before the backlog bound (with hysteresis: resume at half). */
  private backlogRoom(): number {
    const sh = this.shared;
    const backlog = total(sh.table, sh.slots, C_PUBLISHED) * this.s.copies - total(sh.table, sh.slots, C_CONSUMED);
    const max = this.s.maxBacklog * this.s.copies;
    if (this.backlogPaused && backlog > max / 2) return 0;
    this.backlogPaused = backlog >= max;
    return this.backlogPaused ? 0 : Math.ceil((max - backlog) / this.s.copies);
  }

  private waitForConsumers(): void {
    const ctl = this.shared.control;
    this.waiting = true;
    Atomics.add(ctl, WAITERS, 1);
    const gen = Atomics.load(ctl, WAKE);
    const resume = (): void => {
      Atomics.sub(ctl, WAITERS, 1);
      this.waiting = false;
      this.schedule();
    };
    if (this.backlogRoom() > 0) return resume();
    const r = waitAsync(ctl, WAKE, gen, 50);
    if (r.async) (r.value as Promise<string>).then(resume);
    else resume();
  }

  private finish(): void {
    if (!this.running) return;
    this.running = false;
    this.onFinished?.();
  }

  // --- frames from the broker: confirms, returns ---------------------------------------------

  method(_ch: number, mid: number, buf: Buffer, s: number): void {
    if (mid === M.basicAck || mid === M.basicNack) {
      const tag = buf.readUInt32BE(s + 4) * 0x100000000 + buf.readUInt32BE(s + 8);
      const multiple = (buf[s + 12]! & 1) === 1;
      if (this.readNow < 0) this.readNow = nowUs();
      const nack = mid === M.basicNack;
      if (multiple) this.confirmUpTo(tag, nack);
      else this.confirmOne(tag, nack);
    } else if (mid === M.basicReturn) {
      this.shared.table[this.counters + C_RETURNED]!++;
    } else if (mid !== M.basicCancelOk) {
      this.shared.table[this.counters + C_ERRORS]!++;
      this.onError?.(`publisher ${this.s.index}: unexpected method ${mid >>> 16}.${mid & 0xffff}`);
    }
  }

  header(): void {}
  body(): void {}

  readDone(): void {
    if (this.readNow < 0) return;
    this.readNow = -1;
    if (this.s.pmessages > 0 && this.sent >= this.s.pmessages && this.outstanding === 0) this.finish();
    else this.schedule();
  }

  private settle(seq: number, nack: boolean): void {
    this.outstanding--;
    this.shared.table[this.counters + (nack ? C_NACKED : C_CONFIRMED)]!++;
    record(this.shared.table, confirmLatencyBase(this.shared.slot), this.readNow - this.sentAt[seq & this.ringMask]!);
  }

  private confirmUpTo(tag: number, nack: boolean): void {
    for (let seq = this.floor + 1; seq <= tag; seq++) {
      const i = seq & this.ringMask;
      if (this.done[i] === 1) this.done[i] = 0;
      else this.settle(seq, nack);
    }
    if (tag > this.floor) this.floor = tag;
  }

  private confirmOne(tag: number, nack: boolean): void {
    if (tag <= this.floor || this.done[tag & this.ringMask] === 1) return;
    this.settle(tag, nack);
    if (tag !== this.floor + 1) {
      this.done[tag & this.ringMask] = 1;
      return;
    }
    this.floor = tag;
    while (this.done[(this.floor + 1) & this.ringMask] === 1) {
      this.done[(this.floor + 1) & this.ringMask] = 0;
      this.floor++;
    }
  }

  get channelNumber(): number {
    return this.channel;
  }
}
