// A broker stand-in for measuring warren-perf itself: it answers the setup methods, relays every
// publish straight to a consumer (no queues, no prefetch, no routing beyond "queue named by the
// routing key, else round-robin"), confirms each read's publishes with one multiple-ack, and
// ignores acks. It runs in its own worker thread; it does so little that the tool is what's measured.
import net from 'node:net';
import { parentPort } from 'node:worker_threads';
import { FrameParser } from './frame-parser.js';
import { id } from './methods.js';
import { FRAME_METHOD, FrameWriter, PayloadReader, method } from './wire.js';

const OUT_CHUNK = 64 * 1024;

/** Bytes queued for one socket, written once per read of whichever connection produced them. */
class Output {
  private buf = Buffer.allocUnsafe(OUT_CHUNK);
  private len = 0;
  constructor(readonly socket: net.Socket) {}

  room(n: number): Buffer {
    if (this.len + n > this.buf.length) {
      this.flush();
      if (n > this.buf.length) this.buf = Buffer.allocUnsafe(n);
    }
    return this.buf;
  }
  get at(): number {
    return this.len;
  }
  advance(n: number): void {
    this.len += n;
  }
  append(src: Buffer): void {
    src.copy(this.room(src.length), this.len);
    this.len += src.length;
  }
  flush(): void {
    if (this.len === 0) return;
    this.socket.write(this.buf.subarray(0, this.len));
    this.buf = Buffer.allocUnsafe(OUT_CHUNK);
    this.len = 0;
  }
}

interface Consumer {
  out: Output;
  conn: NullConnection;
  ch: number;
  tag: Buffer;
  queue: string;
  deliveryTag: number;
}

const consumersByQueue = new Map<string, Consumer[]>();
const allConsumers: Consumer[] = [];
let roundRobin = 0;
let queueCounter = 0;

class NullConnection {
  readonly out: Output;
  private readonly parser = new FrameParser((t, ch, b, s, e) => this.frame(t, ch, b, s, e));
  private headerSeen = false;
  private readonly confirmSeq = new Map<number, number>();
  private readonly confirmDirty = new Set<number>();
  /** where the content frames of the publish in progress on a channel go (null = dropped) */
  private readonly target = new Map<number, Consumer | null>();
  private readonly touched = new Set<Output>();
  readonly consumers: Consumer[] = [];

  constructor(readonly socket: net.Socket) {
    this.out = new Output(socket);
    socket.setNoDelay(true);
    socket.on('data', (d: Buffer) => this.onData(d));
    socket.on('error', () => this.gone());
    socket.on('close', () => this.gone());
  }

  private gone(): void {
    for (const c of this.consumers) removeConsumer(c);
    this.consumers.length = 0;
  }

  private onData(d: Buffer): void {
    let start = 0;
    if (!this.headerSeen) {
      // the 8-byte protocol header comes in the first read in practice
      this.headerSeen = true;
      start = 8;
      this.send(
        method(10, 10)
          .octet(0)
          .octet(9)
          .table({ product: 'warren-perf null broker', capabilities: { publisher_confirms: true, 'basic.nack': true, consumer_cancel_notify: true } })
          .longstr('PLAIN')
          .longstr('en_US')
          .frame(FRAME_METHOD, 0),
      );
    }
    try {
      this.parser.feed(d, start, d.length);
    } catch {
      this.socket.destroy();
      return;
    }
    for (const ch of this.confirmDirty) {
      this.send(method(60, 80).longlong(this.confirmSeq.get(ch)!).octet(1).frame(FRAME_METHOD, ch));
    }
    this.confirmDirty.clear();
    this.out.flush();
    for (const o of this.touched) {
      o.flush();
      // relay backpressure: stop reading publishes while a consumer socket is backed up
      if (o.socket.writableLength > 1024 * 1024 && !this.socket.isPaused()) {
        this.socket.pause();
        o.socket.once('drain', () => this.socket.resume());
      }
    }
    this.touched.clear();
  }

  private send(frame: Buffer): void {
    this.out.append(frame);
  }

  private frame(type: number, ch: number, buf: Buffer, s: number, e: number): void {
    if (type === 1) return this.method(ch, buf.readUInt32BE(s), buf, s, e);
    if (type === 2 || type === 3) {
      const c = this.target.get(ch);
      if (!c) return;
      if (type === 2) this.deliverMethod(c);
      // copy the frame as it came, on the consumer's channel
      const n = e - s + 8;
      const dst = c.out.room(n);
      const at = c.out.at;
      buf.copy(dst, at, s - 7, e + 1);
      dst[at + 1] = c.ch >>> 8;
      dst[at + 2] = c.ch & 0xff;
      c.out.advance(n);
      this.touched.add(c.out);
    }
  }

  private deliverMethod(c: Consumer): void {
    const size = 4 + 1 + c.tag.length + 8 + 3;
    const dst = c.out.room(size + 8);
    let p = c.out.at;
    dst[p] = 1;
    dst.writeUInt16BE(c.ch, p + 1);
    dst.writeUInt32BE(size, p + 3);
    dst.writeUInt32BE(id(60, 60), p + 7);
    dst[p + 11] = c.tag.length;
    c.tag.copy(dst, p + 12);
    p += 12 + c.tag.length;
    const tag = ++c.deliveryTag;
    dst.writeUInt32BE(Math.floor(tag / 0x100000000), p);
    dst.writeUInt32BE(tag >>> 0, p + 4);
    dst[p + 8] = 0; // redelivered
    dst[p + 9] = 0; // exchange ""
    dst[p + 10] = 0; // routing key ""
    dst[p + 11] = 0xce;
    c.out.advance(size + 8);
  }

  private method(ch: number, mid: number, buf: Buffer, s: number, e: number): void {
    const r = new PayloadReader(buf, s + 4);
    const reply = (w: FrameWriter): void => this.send(w.frame(FRAME_METHOD, ch));
    switch (mid) {
      case id(60, 40): {
        r.short();
        const exchange = r.shortstr();
        const key = r.shortstr();
        const seq = this.confirmSeq.get(ch);
        if (seq !== undefined) {
          this.confirmSeq.set(ch, seq + 1);
          this.confirmDirty.add(ch);
        }
        this.target.set(ch, pick(exchange, key));
        return;
      }
      case id(60, 80):
      case id(60, 120):
      case id(60, 90):
        return; // acks, nacks, rejects: nothing is kept, nothing to settle
      case id(10, 11):
        return reply(method(10, 30).short(2047).long(131072).short(0));
      case id(10, 31):
        return;
      case id(10, 40):
        return reply(method(10, 41).shortstr(''));
      case id(10, 50):
        reply(method(10, 51));
        this.out.flush();
        this.socket.end();
        return;
      case id(10, 51):
        this.socket.end();
        return;
      case id(20, 10):
        return reply(method(20, 11).longstr(''));
      case id(20, 40):
        this.dropChannel(ch);
        return reply(method(20, 41));
      case id(20, 41):
        return;
      case id(40, 10):
        return reply(method(40, 11));
      case id(40, 20):
        return reply(method(40, 21));
      case id(50, 10): {
        r.short();
        const q = r.shortstr() || `null.gen-${++queueCounter}`;
        return reply(method(50, 11).shortstr(q).long(0).long(0));
      }
      case id(50, 20):
        return reply(method(50, 21));
      case id(50, 30):
        return reply(method(50, 31).long(0));
      case id(50, 40):
        return reply(method(50, 41).long(0));
      case id(50, 50):
        return reply(method(50, 51));
      case id(60, 10):
        return reply(method(60, 11));
      case id(60, 20): {
        r.short();
        const queue = r.shortstr();
        const tag = r.shortstr() || `null.ctag-${ch}`;
        const c: Consumer = { out: this.out, conn: this, ch, tag: Buffer.from(tag), queue, deliveryTag: 0 };
        addConsumer(c);
        this.consumers.push(c);
        return reply(method(60, 21).shortstr(tag));
      }
      case id(60, 30): {
        const tag = r.shortstr();
        this.dropChannel(ch);
        return reply(method(60, 31).shortstr(tag));
      }
      case id(85, 10):
        this.confirmSeq.set(ch, 0);
        return reply(method(85, 11));
      default:
        void e;
        this.send(method(10, 50).short(540).shortstr('not implemented by the null broker').short(mid >>> 16).short(mid & 0xffff).frame(FRAME_METHOD, 0));
    }
  }

  private dropChannel(ch: number): void {
    for (let i = this.consumers.length - 1; i >= 0; i--) {
      if (this.consumers[i]!.ch === ch) {
        removeConsumer(this.consumers[i]!);
        this.consumers.splice(i, 1);
      }
    }
  }
}

function addConsumer(c: Consumer): void {
  allConsumers.push(c);
  const list = consumersByQueue.get(c.queue) ?? [];
  list.push(c);
  consumersByQueue.set(c.queue, list);
}

function removeConsumer(c: Consumer): void {
  const i = allConsumers.indexOf(c);
  if (i >= 0) allConsumers.splice(i, 1);
  const list = consumersByQueue.get(c.queue);
  if (list) {
    const j = list.indexOf(c);
    if (j >= 0) list.splice(j, 1);
    if (list.length === 0) consumersByQueue.delete(c.queue);
  }
}

/** The consumer of the queue named by the routing key (default exchange), else the next one. */
function pick(exchange: string, key: string): Consumer | null {
  if (exchange === '') {
    const list = consumersByQueue.get(key);
    if (list && list.length > 0) return list[roundRobin++ % list.length]!;
  }
  if (allConsumers.length === 0) return null;
  return allConsumers[roundRobin++ % allConsumers.length]!;
}

const server = net.createServer((s) => new NullConnection(s));
server.listen(0, '127.0.0.1', () => {
  const addr = server.address() as net.AddressInfo;
  parentPort!.postMessage({ port: addr.port });
});
parentPort!.on('message', (m: { cmd: string }) => {
  if (m.cmd === 'close') {
    server.close();
    parentPort!.close();
    process.exit(0);
  }
});
