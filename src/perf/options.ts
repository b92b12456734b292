// warren-perf's command line: flag names follow RabbitMQ PerfTest where one exists.
import { parseCommandLine, type OptionSpec } from '../command-line.js';

export type ExchangeType = 'direct' | 'fanout' | 'topic';

export interface PerfOptions {
  uri: string;
  publishers: number;
  consumers: number;
  queues: number;
  /** body bytes; the first 8 carry the publish time when size >= 8 */
  size: number;
  /** publisher confirms window (max unconfirmed per publisher); 0 = no confirms */
  confirm: number;
  prefetch: number;
  autoAck: boolean;
  /** manual ack: 1 = one basic.ack per message, N = one multiple-ack every N deliveries */
  multiAckEvery: number;
  persistent: boolean;
  durable: boolean;
  exchangeType: ExchangeType;
  /** null = the default exchange for direct, `<prefix>.<type>` otherwise */
  exchange: string | null;
  routingKeys: string[];
  bindingKeys: string[];
  /** exact queue name (only with --queues 1) */
  queue: string | null;
  queuePrefix: string;
  /** total publish rate over all publishers, msg/s; 0 = as fast as possible */
  rate: number;
  time: number;
  warmup: number;
  /** after the run, seconds to wait for consumers to receive what was published */
  drain: number;
  /** messages per publisher; 0 = unlimited */
  pmessages: number;
  /** publishers pause while more than this many messages (x queue copies) are unconsumed; 0 = off */
  maxBacklog: number;
  /** connections the consumers share (one channel per consumer); 0 = one connection each */
  consumerConnections: number;
  publisherThreads: number;
  consumerThreads: number;
  /** max messages per socket write */
  batch: number;
  heartbeat: number;
  json: boolean;
  quiet: boolean;
  /** leave queues and exchange in place at the end */
  keep: boolean;
  /** use existing queues/exchange; declare nothing */
  predeclared: boolean;
  /** run against warren-perf's own in-process null broker (measures the tool's ceiling) */
  nullBroker: boolean;
}

export const DEFAULTS: PerfOptions = {
  uri: 'amqp://guest:guest@127.0.0.1:5672/',
  publishers: 1,
  consumers: 1,
  queues: 1,
  size: 16,
  confirm: 0,
  prefetch: 100,
  autoAck: false,
  multiAckEvery: 1,
  persistent: false,
  durable: false,
  exchangeType: 'direct',
  exchange: null,
  routingKeys: [],
  bindingKeys: [],
  queue: null,
  queuePrefix: '',
  rate: 0,
  time: 10,
  warmup: 0,
  drain: 2,
  pmessages: 0,
  maxBacklog: 0,
  consumerConnections: 0,
  publisherThreads: 1,
  consumerThreads: 1,
  batch: 256,
  heartbeat: 0,
  json: false,
  quiet: false,
  keep: false,
  predeclared: false,
  nullBroker: false,
};

export const USAGE = `usage: warren-perf [options]

Load generator for AMQP 0-9-1 brokers (Warren, RabbitMQ, ...). Publishers and consumers run in
separate worker threads on warren-perf's own lean client. Prints one line per second, then a summary.

connection and topology
  --uri URI                  broker (default ${DEFAULTS.uri})
  -x, --publishers N         publisher connections, one channel each (default 1)
  -y, --consumers N          consumers, one channel each (default 1)
      --consumer-connections N  connections the consumers share (default: one per consumer)
      --queues N             queues; consumer i reads queue i mod N (default 1)
  -u, --queue NAME           exact queue name (with --queues 1)
      --queue-prefix P       queue names P-0 .. P-(N-1) (default warren-perf-<pid>)
  -t, --exchange-type T      direct | fanout | topic (default direct)
  -e, --exchange NAME        exchange (default: "" for direct, <prefix>.<type> otherwise)
  -k, --routing-key K        routing key(s), comma-separated, cycled per message
      --routing-keys K,K     same as --routing-key
  -B, --binding-keys K,K     binding keys, spread over the queues (topic default: perf.q<i>.#)
      --durable              durable queues/exchange (implied by --persistent)
      --predeclared          declare nothing, use existing queues/exchange
      --keep                 do not delete queues/exchange at the end

messages
  -s, --size BYTES           body size (default 16; >= 8 for latency)
  -f, --persistent           delivery-mode 2
  -c, --confirm WINDOW       publisher confirms, at most WINDOW unconfirmed per publisher
  -r, --rate MSG/S           total publish rate limit (default: unlimited)
  -C, --pmessages N          stop each publisher after N messages
      --max-backlog N        pause publishers while N messages (x queue copies) are unconsumed
      --batch N              max messages per socket write (default 256)

consumers
  -a, --autoack              no-ack consumers
      --manual-ack           manual acks (default)
  -q, --prefetch N           basic.qos prefetch for manual-ack consumers (default 100)
      --multi-ack-every N    one multiple-ack every N deliveries instead of one ack per message

run
  -z, --time SECONDS         measurement length (default 10)
      --warmup SECONDS       load before the measurement starts, not counted (default 0)
      --drain SECONDS        after stopping publishers, wait up to this long for consumers (default 2)
      --publisher-threads N  worker threads for publishers (default 1)
      --consumer-threads N   worker threads for consumers (default 1)
      --heartbeat SECONDS    heartbeat to negotiate (default 0 = off)
      --null-broker          measure the tool itself against an in-process broker stand-in
      --json                 JSON lines: one per second, then the summary
      --quiet                summary only
  -h, --help                 this text
`;

/** warren-perf's options; short names follow PerfTest's. */
const OPTIONS: Record<string, OptionSpec> = {
  uri: { type: 'string' },
  publishers: { type: 'string', short: 'x' },
  consumers: { type: 'string', short: 'y' },
  'consumer-connections': { type: 'string' },
  queues: { type: 'string' },
  queue: { type: 'string', short: 'u' },
  'queue-prefix': { type: 'string' },
  'exchange-type': { type: 'string', short: 't' },
  exchange: { type: 'string', short: 'e' },
  'routing-key': { type: 'string', short: 'k' },
  'routing-keys': { type: 'string' },
  'binding-keys': { type: 'string', short: 'B' },
  'binding-key': { type: 'string' },
  durable: { type: 'boolean' },
  predeclared: { type: 'boolean' },
  keep: { type: 'boolean' },
  size: { type: 'string', short: 's' },
  persistent: { type: 'boolean', short: 'f' },
  confirm: { type: 'string', short: 'c' },
  rate: { type: 'string', short: 'r' },
  pmessages: { type: 'string', short: 'C' },
  'max-backlog': { type: 'string' },
  batch: { type: 'string' },
  autoack: { type: 'boolean', short: 'a' },
  'manual-ack': { type: 'boolean' },
  prefetch: { type: 'string', short: 'q' },
  'multi-ack-every': { type: 'string' },
  time: { type: 'string', short: 'z' },
  warmup: { type: 'string' },
  drain: { type: 'string' },
  'publisher-threads': { type: 'string' },
  'consumer-threads': { type: 'string' },
  heartbeat: { type: 'string' },
  json: { type: 'boolean' },
  quiet: { type: 'boolean' },
  'null-broker': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
};

export class UsageError extends Error {}

function int(flag: string, v: string, min = 0): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`--${flag} needs an integer >= ${min}, got "${v}"`);
  return n;
}

function num(flag: string, v: string, min = 0): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n < min) throw new UsageError(`--${flag} needs a number >= ${min}, got "${v}"`);
  return n;
}

const list = (v: string): string[] => (v === '' ? [''] : v.split(','));

/** Parses argv (without node and script); returns null for --help. */
export function parseArgs(argv: string[]): PerfOptions | null {
  const o: PerfOptions = { ...DEFAULTS, routingKeys: [], bindingKeys: [] };
  let durableSet = false;
  const line = parseCommandLine(argv, OPTIONS, { positionals: false, error: (m) => new UsageError(m) });
  for (const { name, value } of line.options) {
    const v = value ?? '';
    switch (name) {
      case 'help': return null;
      case 'uri': o.uri = v; break;
      case 'publishers': o.publishers = int(name, v); break;
      case 'consumers': o.consumers = int(name, v); break;
      case 'consumer-connections': o.consumerConnections = int(name, v); break;
      case 'queues': o.queues = int(name, v, 1); break;
      case 'queue': o.queue = v; break;
      case 'queue-prefix': o.queuePrefix = v; break;
      case 'exchange-type':
        if (v !== 'direct' && v !== 'fanout' && v !== 'topic') throw new UsageError(`--exchange-type must be direct, fanout or topic`);
        o.exchangeType = v;
        break;
      case 'exchange': o.exchange = v; break;
      case 'routing-key': case 'routing-keys': o.routingKeys = list(v); break;
      case 'binding-keys': case 'binding-key': o.bindingKeys = list(v); break;
      case 'durable': o.durable = true; durableSet = true; break;
      case 'predeclared': o.predeclared = true; break;
      case 'keep': o.keep = true; break;
      case 'size': o.size = int(name, v); break;
      case 'persistent': o.persistent = true; break;
      case 'confirm': o.confirm = int(name, v); break;
      case 'rate': o.rate = num(name, v); break;
      case 'pmessages': o.pmessages = int(name, v); break;
      case 'max-backlog': o.maxBacklog = int(name, v); break;
      case 'batch': o.batch = int(name, v, 1); break;
      case 'autoack': o.autoAck = true; break;
      case 'manual-ack': o.autoAck = false; break;
      case 'prefetch': o.prefetch = int(name, v); break;
      case 'multi-ack-every': o.multiAckEvery = int(name, v, 1); break;
      case 'time': o.time = num(name, v); break;
      case 'warmup': o.warmup = num(name, v); break;
      case 'drain': o.drain = num(name, v); break;
      case 'publisher-threads': o.publisherThreads = int(name, v, 1); break;
      case 'consumer-threads': o.consumerThreads = int(name, v, 1); break;
      case 'heartbeat': o.heartbeat = int(name, v); break;
      case 'json': o.json = true; break;
      case 'quiet': o.quiet = true; break;
      case 'null-broker': o.nullBroker = true; break;
      default: throw new UsageError(`unknown option --${name}`);
    }
  }
  if (o.persistent && !durableSet) o.durable = true;
  if (o.queue !== null && o.queues !== 1) throw new UsageError('--queue names one queue; use --queue-prefix with --queues N');
  if (o.exchangeType !== 'direct' && o.exchange === '') throw new UsageError(`the default exchange is a direct exchange; give --exchange for ${o.exchangeType}`);
  if (!o.autoAck && o.prefetch > 0 && o.multiAckEvery > o.prefetch) {
    throw new UsageError('--multi-ack-every must not exceed --prefetch (the consumer would stall)');
  }
  if (o.publishers === 0 && o.consumers === 0) throw new UsageError('nothing to do: no publishers and no consumers');
  return o;
}
