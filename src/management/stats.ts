/**
 * Message rates and cumulative totals for the management API. Counters live on queues, channels
 * and connections (cheap increments on the hot path); this collector samples them every few
 * seconds (RabbitMQ's collect_statistics_interval is 5 s) and turns consecutive samples into
 * per-second rates. When a queue, channel or connection goes away its final counts are folded into
 * its vhost's totals, so vhost and overview totals do not drop when clients disconnect.
 */
import type { ManagedBroker } from './managed-broker.js';
import type { Queue } from '../broker/queue.js';
import type { Channel } from '../connection/channel.js';
import type { Connection } from '../connection/connection.js';
import { GLOBAL_RESOLUTIONS, QUEUE_RESOLUTIONS, SeriesHistory } from './history.js';
import { nodeFigures } from './node-figures.js';

export const DEFAULT_SAMPLE_INTERVAL_MS = 5000;

/** Cumulative counters of one vhost (or of the whole broker). */
export interface Totals {
  publish: number;
  deliver_get: number;
  ack: number;
  redeliver: number;
  recv_oct: number;
  send_oct: number;
  confirm: number;
  get: number;
  get_no_ack: number;
  get_empty: number;
  return_unroutable: number;
  drop_unroutable: number;
  deliver: number;
  deliver_no_ack: number;
  /** Messages queues read back from / appended to their segment files (the overview's disk_reads/disk_writes). */
  disk_reads: number;
  disk_writes: number;
}

/** A channel's message_stats beyond publish/deliver_get/ack, summed from its Prometheus counters. */
export type ChannelTotals = Pick<Totals, 'confirm' | 'get' | 'get_no_ack' | 'get_empty' | 'return_unroutable' | 'drop_unroutable' | 'deliver' | 'deliver_no_ack'>;

/** An exchange's message_stats: published into it by channels, and of those routed to a queue. */
export interface ExchangeTotals {
  publish_in: number;
  publish_out: number;
}

/** A queue's history is dropped when nobody has asked for its samples for this long. */
const QUEUE_HISTORY_IDLE_MS = 10 * 60_000;

const zero = (): Totals => ({
  publish: 0, deliver_get: 0, ack: 0, redeliver: 0, recv_oct: 0, send_oct: 0,
  confirm: 0, get: 0, get_no_ack: 0, get_empty: 0, return_unroutable: 0, drop_unroutable: 0, deliver: 0, deliver_no_ack: 0,
  disk_reads: 0, disk_writes: 0,
});

/** One counter's latest sample and the rate over the interval before it. */
interface Sample {
  time: number;
  value: number;
  rate: number;
  /** The sample (StatsCollector.sampleCount) that last saw the counter: older ones are of objects gone. */
  seen: number;
}

/** When a queue or channel's counters last changed, and the sample that last saw it. */
interface Activity {
  at: number;
  seen: number;
}

/** A queue's counters, in the order of QueueSampling.slots (the suffixes of their sample keys). */
const QUEUE_COUNTERS = [
  'publish', 'deliver_get', 'ack', 'redeliver', 'deliver', 'deliver_no_ack', 'get', 'get_no_ack', 'get_empty',
  'messages', 'messages_ready', 'messages_unacknowledged',
] as const;
const [PUBLISH, DELIVER_GET, ACK, REDELIVER, DELIVER, DELIVER_NO_ACK, GET, GET_NO_ACK, GET_EMPTY, MESSAGES, READY, UNACKED] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11] as const;

/** A channel's counters beside publish/deliver_get/ack/redeliver (ChannelTotals), in slot order after them. */
const CHANNEL_TOTALS = ['confirm', 'get', 'get_no_ack', 'get_empty', 'return_unroutable', 'drop_unroutable', 'deliver', 'deliver_no_ack'] as const;
const CHANNEL_COUNTERS = ['publish', 'deliver_get', 'ack', 'redeliver', ...CHANNEL_TOTALS] as const;
const CONNECTION_COUNTERS = ['recv_oct', 'send_oct'] as const;

/**
 * The samples of one queue, channel or connection, held by its entry as well as by key: with tens
 * of thousands of queues, building a dozen key strings per queue every sample and looking each up
 * stalled the event loop for ~0.5 s every 5 s at 30,000 queues; a sample now updates the object's
 * own entries in place.
 */
interface Sampling {
  /** The key prefix (queueKey, channelKey, connectionKey); a counter's key is it plus the counter's name. */
  readonly base: string;
  /** The counter names of its kind (QUEUE_COUNTERS, ...): slots[i] samples names[i]. */
  readonly names: readonly string[];
  readonly slots: (Sample | undefined)[];
  activity: Activity | undefined;
}

/** Takes a counter's new value into its sample; true when it moved. */
function advance(sample: Sample, value: number, now: number, stamp: number): boolean {
  if (now > sample.time) sample.rate = ((value - sample.value) * 1000) / (now - sample.time);
  const moved = sample.value !== value;
  sample.time = now;
  sample.value = value;
  sample.seen = stamp;
  return moved;
}

export class StatsCollector {
  private readonly samples = new Map<string, Sample>();
  /** Queue and channel keys → when their counters last changed (or they were first seen). */
  private readonly changedAt = new Map<string, Activity>();
  private sampleCount = 0;
  /** Replaced (not cleared) by reset(), which forgets the samples its entries hold. */
  private sampling = new WeakMap<Queue | Channel | Connection, Sampling>();
  private lastSampleAt = 0;
  /** What is known to exist, to notice what went away and fold its final counts in. */
  private readonly knownQueues = new Map<Queue, string>();
  private readonly knownChannels = new Map<Channel, string>();
  private readonly knownConnections = new Map<Connection, string>();
  private readonly retired = new Map<string, Totals>();
  /** Per vhost, per exchange: counts of channels that went away. */
  private readonly retiredExchanges = new Map<string, Map<string, ExchangeTotals>>();
  private timer: NodeJS.Timeout | undefined;
  /** Chart samples: the whole broker, each vhost, and queues somebody is looking at. */
  readonly overviewHistory = new SeriesHistory(GLOBAL_RESOLUTIONS);
  private readonly vhostHistories = new Map<string, SeriesHistory>();
  private readonly queueHistories = new Map<string, SeriesHistory>();

  constructor(
    private readonly broker: ManagedBroker,
    private readonly intervalMs = DEFAULT_SAMPLE_INTERVAL_MS,
  ) {}

  start(): void {
    this.sample();
    this.timer = setInterval(() => {
      // A sample that fails (e.g. EMFILE reading /proc) is skipped: statistics must never stop the broker.
      try {
        this.sample();
      } catch (e) {
        this.broker.log('warn', 'management statistics sample failed', { error: String(e) });
      }
    }, this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Forgets every sample, rate and chart history (DELETE /api/reset); sampling goes on from now. */
  reset(): void {
    this.samples.clear();
    this.changedAt.clear();
    this.sampling = new WeakMap();
    this.overviewHistory.clear();
    this.vhostHistories.clear();
    this.queueHistories.clear();
  }

  /**
   * When a queue or channel went idle: the time its counters last changed, if they did not change
   * over the latest sample interval (RabbitMQ reports `idle_since` once the process has hibernated
   * for want of work); undefined while it is busy or not yet sampled twice.
   */
  idleSince(key: string): number | undefined {
    const at = this.changedAt.get(key)?.at;
    return at !== undefined && at < this.lastSampleAt ? at : undefined;
  }

  /** Per-second rate of a counter or gauge over the last sample interval (0 when unknown). */
  rate(key: string): number {
    return this.samples.get(key)?.rate ?? 0;
  }

  /** `{rate}` as RabbitMQ's `*_details` fields, rounded to one decimal like its API. */
  details(key: string): { rate: number } {
    return { rate: Math.round(this.rate(key) * 10) / 10 };
  }

  vhostHistory(vhost: string): SeriesHistory | undefined {
    return this.vhostHistories.get(vhost);
  }

  /** A queue's history, started on first use (so its charts fill from the first look on). */
  queueHistory(vhost: string, name: string, now = Date.now()): SeriesHistory {
    const key = queueKey(vhost, name);
    let h = this.queueHistories.get(key);
    if (!h) {
      this.queueHistories.set(key, (h = new SeriesHistory(QUEUE_RESOLUTIONS)));
      const q = this.broker.vhosts.get(vhost)?.queues.get(name);
      if (q) h.record(now, queueFields(q));
    }
    h.lastRead = now;
    return h;
  }

  /** Cumulative totals of a vhost: live objects plus those that went away. */
  vhostTotals(vhost: string): Totals {
    this.reap();
    const t = { ...(this.retired.get(vhost) ?? zero()) };
    const v = this.broker.vhosts.get(vhost);
    if (v) {
      for (const q of v.queues.values()) addQueue(t, q);
    }
    for (const c of this.broker.connections) {
      if (c.vhost?.name !== vhost) continue;
      // Known from now on, so a close before the next sample still folds its counts in.
      this.knownConnections.set(c, vhost);
      t.recv_oct += c.stats.recvOct;
      t.send_oct += c.stats.sendOct;
      for (const ch of c.channels.values()) {
        this.knownChannels.set(ch, vhost);
        addChannel(t, ch);
      }
    }
    return t;
  }

  /** publish_in/publish_out of every exchange of a vhost that has any (live channels plus those gone). */
  exchangeTotals(vhost: string): Map<string, ExchangeTotals> {
    this.reap();
    const out = new Map<string, ExchangeTotals>();
    for (const [name, e] of this.retiredExchanges.get(vhost) ?? []) out.set(name, { ...e });
    for (const c of this.broker.connections) {
      if (c.vhost?.name !== vhost) continue;
      for (const ch of c.channels.values()) addExchanges(out, ch);
    }
    return out;
  }

  overviewTotals(): Totals {
    const t = zero();
    for (const name of this.broker.vhosts.keys()) {
      const v = this.vhostTotals(name);
      for (const k of Object.keys(t) as (keyof Totals)[]) t[k] += v[k];
    }
    return t;
  }

  /** Take a sample now (the timer does it every interval; tests call it to get rates at once). */
  sample(now = Date.now()): void {
    this.reap();
    const stamp = ++this.sampleCount;
    /** Samples one counter; true when it moved since the last sample (or is new). */
    const observe = (key: string, value: number): boolean => {
      const prev = this.samples.get(key);
      if (!prev) {
        this.samples.set(key, { time: now, value, rate: 0, seen: stamp });
        return true;
      }
      return advance(prev, value, now, stamp);
    };
    /** observe() for counter `i` of a queue, channel or connection, through its own slots. */
    const observeSlot = (e: Sampling, i: number, value: number): boolean => {
      const prev = e.slots[i];
      if (prev) return advance(prev, value, now, stamp);
      const sample = { time: now, value, rate: 0, seen: stamp };
      e.slots[i] = sample;
      this.samples.set(`${e.base}${e.names[i]}`, sample);
      return true;
    };
    const activityOf = (e: Sampling, moved: boolean): void => {
      const a = e.activity;
      if (!a) this.changedAt.set(e.base, (e.activity = { at: now, seen: stamp }));
      else {
        if (moved) a.at = now;
        a.seen = stamp;
      }
    };
    for (const v of this.broker.vhosts.values()) {
      for (const q of v.queues.values()) {
        this.knownQueues.set(q, v.name);
        const e = this.sampling.get(q) ?? this.track(q, QUEUE_COUNTERS, queueKey(v.name, q.name));
        const s = q.stats;
        let moved = observeSlot(e, PUBLISH, s.published);
        moved = observeSlot(e, DELIVER_GET, s.delivered) || moved;
        moved = observeSlot(e, ACK, s.acked) || moved;
        moved = observeSlot(e, REDELIVER, s.redelivered) || moved;
        // Zero until a queue sees that kind of delivery (most never see some): no rate entry until then
        // (deliveryKinds(), inline: no object per queue per sample).
        const deliver = s.delivered - s.getManualAck - s.getAutoAck - s.deliveredAutoAck;
        if (deliver > 0) observeSlot(e, DELIVER, deliver);
        if (s.deliveredAutoAck > 0) observeSlot(e, DELIVER_NO_ACK, s.deliveredAutoAck);
        if (s.getManualAck > 0) observeSlot(e, GET, s.getManualAck);
        if (s.getAutoAck > 0) observeSlot(e, GET_NO_ACK, s.getAutoAck);
        if (s.getEmpty > 0) observeSlot(e, GET_EMPTY, s.getEmpty);
        moved = observeSlot(e, MESSAGES, q.messageCount + q.unacked) || moved;
        observeSlot(e, READY, q.messageCount);
        observeSlot(e, UNACKED, q.unacked);
        activityOf(e, moved);
        this.queueHistories.get(e.base)?.record(now, queueFields(q));
      }
    }
    for (const [key, h] of this.queueHistories) {
      if (this.samples.get(`${key}messages`)?.seen !== stamp || now - h.lastRead > QUEUE_HISTORY_IDLE_MS) this.queueHistories.delete(key);
    }
    for (const c of this.broker.connections) {
      const vhost = c.vhost?.name ?? '';
      this.knownConnections.set(c, vhost);
      const ce = this.sampling.get(c) ?? this.track(c, CONNECTION_COUNTERS, connectionKey(c));
      observeSlot(ce, 0, c.stats.recvOct);
      observeSlot(ce, 1, c.stats.sendOct);
      for (const ch of c.channels.values()) {
        this.knownChannels.set(ch, vhost);
        const e = this.sampling.get(ch) ?? this.track(ch, CHANNEL_COUNTERS, channelKey(c, ch.id));
        let moved = observeSlot(e, 0, ch.stats.published);
        moved = observeSlot(e, 1, ch.stats.delivered) || moved;
        moved = observeSlot(e, 2, ch.stats.acked) || moved;
        moved = observeSlot(e, 3, channelRedeliveries(ch)) || moved;
        const t = channelTotals(ch);
        for (let i = 0; i < CHANNEL_TOTALS.length; i++) moved = observeSlot(e, 4 + i, t[CHANNEL_TOTALS[i]!]) || moved;
        activityOf(e, moved);
      }
    }
    for (const c of this.broker.streamConnections) {
      observe(`${streamConnectionKey(c)}recv_oct`, c.socket.bytesRead);
      observe(`${streamConnectionKey(c)}send_oct`, c.socket.bytesWritten);
    }
    for (const name of this.broker.vhosts.keys()) {
      const t = this.vhostTotals(name);
      const k = vhostKey(name);
      for (const [field, value] of Object.entries(t)) observe(`${k}${field}`, value);
      let messages = 0;
      let ready = 0;
      let unacked = 0;
      for (const q of this.broker.vhosts.get(name)!.queues.values()) {
        ready += q.messageCount;
        unacked += q.unacked;
      }
      messages = ready + unacked;
      observe(`${k}messages`, messages);
      observe(`${k}messages_ready`, ready);
      observe(`${k}messages_unacknowledged`, unacked);
      for (const [ex, e] of this.exchangeTotals(name)) {
        const ek = exchangeKey(name, ex);
        observe(`${ek}publish_in`, e.publish_in);
        observe(`${ek}publish_out`, e.publish_out);
      }
      let h = this.vhostHistories.get(name);
      if (!h) this.vhostHistories.set(name, (h = new SeriesHistory(GLOBAL_RESOLUTIONS)));
      h.record(now, { ...t, messages, messages_ready: ready, messages_unacknowledged: unacked });
    }
    for (const name of this.vhostHistories.keys()) if (!this.broker.vhosts.has(name)) this.vhostHistories.delete(name);
    for (const [field, value] of Object.entries(nodeFigures(this.broker))) observe(`${NODE_KEY}${field}`, value);
    const o = this.overviewTotals();
    for (const [field, value] of Object.entries(o)) observe(`o\0${field}`, value);
    let ready = 0;
    let unacked = 0;
    for (const v of this.broker.vhosts.values()) {
      for (const q of v.queues.values()) {
        ready += q.messageCount;
        unacked += q.unacked;
      }
    }
    observe('o\0messages', ready + unacked);
    observe('o\0messages_ready', ready);
    observe('o\0messages_unacknowledged', unacked);
    this.overviewHistory.record(now, { ...o, messages: ready + unacked, messages_ready: ready, messages_unacknowledged: unacked });
    // Objects that are gone take their samples with them.
    for (const [key, sample] of this.samples) if (sample.seen !== stamp) this.samples.delete(key);
    for (const [key, a] of this.changedAt) if (a.seen !== stamp) this.changedAt.delete(key);
    this.lastSampleAt = now;
  }

  /** A new entry for an object first sampled (see Sampling). */
  private track(o: Queue | Channel | Connection, names: readonly string[], base: string): Sampling {
    const e: Sampling = { base, names, slots: [], activity: undefined };
    this.sampling.set(o, e);
    return e;
  }

  /**
   * A message published through the API (POST …/publish). RabbitMQ publishes it on an internal
   * channel in confirm mode with mandatory set, so it counts as a publish, a confirm and, when no
   * queue took it, a returned message; and in the exchange's publish_in (publish_out when routed).
   * Counted as a channel that already closed, so the counts go when the exchange or vhost does.
   */
  httpPublished(vhost: string, exchange: string, routed: boolean): void {
    const t = this.retiredOf(vhost);
    t.publish++;
    t.confirm++;
    if (!routed) t.return_unroutable++;
    let exchanges = this.retiredExchanges.get(vhost);
    if (!exchanges) this.retiredExchanges.set(vhost, (exchanges = new Map()));
    let x = exchanges.get(exchange);
    if (!x) exchanges.set(exchange, (x = { publish_in: 0, publish_out: 0 }));
    x.publish_in++;
    if (routed) x.publish_out++;
  }

  /** Fold the final counts of queues, channels and connections that went away into their vhost. */
  private reap(): void {
    for (const [q, vhost] of this.knownQueues) {
      if (this.broker.vhosts.get(vhost)?.queues.get(q.name) === q) continue;
      this.knownQueues.delete(q);
      if (this.broker.vhosts.has(vhost)) addQueue(this.retiredOf(vhost), q);
    }
    for (const [ch, vhost] of this.knownChannels) {
      const c = ch.connection;
      // A closed channel leaves its connection's table (all of them do when the connection goes).
      if (c.channels.get(ch.id) === ch) continue;
      this.knownChannels.delete(ch);
      const v = this.broker.vhosts.get(vhost);
      if (!v) continue;
      addChannel(this.retiredOf(vhost), ch);
      let ex = this.retiredExchanges.get(vhost);
      if (!ex) this.retiredExchanges.set(vhost, (ex = new Map()));
      addExchanges(ex, ch);
    }
    for (const [c, vhost] of this.knownConnections) {
      if (this.broker.connections.has(c)) continue;
      this.knownConnections.delete(c);
      if (!this.broker.vhosts.has(vhost)) continue;
      const t = this.retiredOf(vhost);
      t.recv_oct += c.stats.recvOct;
      t.send_oct += c.stats.sendOct;
    }
    for (const vhost of this.retired.keys()) if (!this.broker.vhosts.has(vhost)) this.retired.delete(vhost);
    // Deleted exchanges (and vhosts) drop their retired counts, so exchange churn holds no memory.
    for (const [vhost, exchanges] of this.retiredExchanges) {
      const v = this.broker.vhosts.get(vhost);
      if (!v) this.retiredExchanges.delete(vhost);
      else for (const name of exchanges.keys()) if (!v.exchanges.has(name)) exchanges.delete(name);
    }
  }

  private retiredOf(vhost: string): Totals {
    let t = this.retired.get(vhost);
    if (!t) this.retired.set(vhost, (t = zero()));
    return t;
  }
}

function queueFields(q: Queue): Record<string, number> {
  return {
    messages: q.messageCount + q.unacked,
    messages_ready: q.messageCount,
    messages_unacknowledged: q.unacked,
    publish: q.stats.published,
    deliver_get: q.stats.delivered,
    ...deliveryKinds(q),
    ack: q.stats.acked,
    redeliver: q.stats.redelivered,
  };
}

/** A queue's deliveries by kind, as RabbitMQ splits its deliver_get (consumers with and without acks, basic.get). */
export function deliveryKinds(q: Queue): { deliver: number; deliver_no_ack: number; get: number; get_no_ack: number; get_empty: number } {
  const s = q.stats;
  return {
    deliver: s.delivered - s.getManualAck - s.getAutoAck - s.deliveredAutoAck,
    deliver_no_ack: s.deliveredAutoAck,
    get: s.getManualAck,
    get_no_ack: s.getAutoAck,
    get_empty: s.getEmpty,
  };
}

/** A channel's confirm/get/return/deliver counts, from the per-exchange and per-queue counters it keeps. */
export function channelTotals(ch: Channel): ChannelTotals {
  const t: ChannelTotals = { confirm: 0, get: 0, get_no_ack: 0, get_empty: 0, return_unroutable: 0, drop_unroutable: 0, deliver: 0, deliver_no_ack: 0 };
  for (const e of ch.counters.exchanges.values()) {
    t.confirm += e.confirmed;
    t.return_unroutable += e.unroutableReturned;
    t.drop_unroutable += e.unroutableDropped;
  }
  for (const q of ch.counters.queues.values()) {
    t.get += q.getManualAck;
    t.get_no_ack += q.getAutoAck;
    t.get_empty += q.getEmpty;
    t.deliver += q.deliveredManualAck;
    t.deliver_no_ack += q.deliveredAutoAck;
  }
  return t;
}

/**
 * A channel's redeliveries, from its per-queue counters. Kept out of ChannelTotals: vhost totals
 * count redeliveries on the queues already.
 */
export function channelRedeliveries(ch: Channel): number {
  let n = 0;
  for (const q of ch.counters.queues.values()) n += q.redelivered;
  return n;
}

function addChannel(t: Totals, ch: Channel): void {
  t.publish += ch.stats.published;
  const c = channelTotals(ch);
  for (const k of Object.keys(c) as (keyof ChannelTotals)[]) t[k] += c[k];
}

function addExchanges(out: Map<string, ExchangeTotals>, ch: Channel): void {
  for (const e of ch.counters.exchanges.values()) {
    let x = out.get(e.exchange);
    if (!x) out.set(e.exchange, (x = { publish_in: 0, publish_out: 0 }));
    x.publish_in += e.published;
    x.publish_out += e.published - e.unroutableReturned - e.unroutableDropped;
  }
}

function addQueue(t: Totals, q: Queue): void {
  t.disk_reads += q.messages.diskReads;
  t.disk_writes += q.messages.diskWrites;
  t.deliver_get += q.stats.delivered;
  t.ack += q.stats.acked;
  t.redeliver += q.stats.redelivered;
}

export const queueKey = (vhost: string, name: string) => `q\0${vhost}\0${name}\0`;
export const exchangeKey = (vhost: string, name: string) => `x\0${vhost}\0${name}\0`;
export const vhostKey = (vhost: string) => `v\0${vhost}\0`;
export const connectionKey = (c: { readonly id: number }) => `c\0${c.id}\0`;
/** Stream-protocol connections have no numeric id; their name ("peer -> local") is unique while open. */
export const streamConnectionKey = (c: { readonly name: string }) => `s\0${c.name}\0`;
export const channelKey = (c: { readonly id: number }, channel: number) => `ch\0${c.id}\0${channel}\0`;
export const OVERVIEW_KEY = 'o\0';
/** This node's sampled figures (nodes' `*_details`, the overview's churn_rates). */
export const NODE_KEY = 'n\0';
