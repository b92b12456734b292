// `npm run bench -- [flags]`.
import { parseCommandLine, type OptionSpec } from '../src/command-line.js';
import { SCENARIOS, type ScenarioName } from './metrics.js';

const OPTIONS: Record<string, OptionSpec> = {
  help: { type: 'boolean', short: 'h' },
  quick: { type: 'boolean' },
  scenarios: { type: 'string' },
  only: { type: 'string' },
  skip: { type: 'string' },
  tools: { type: 'string' },
  seconds: { type: 'string' },
  warmup: { type: 'string' },
  repeat: { type: 'string' },
  stored: { type: 'string' },
  'idle-connections': { type: 'string' },
  'idle-queues': { type: 'string' },
  'rabbit-port': { type: 'string' },
  'rabbit-cluster-port': { type: 'string' },
  'rabbit-cluster-ports': { type: 'string' },
  out: { type: 'string' },
};

export interface BenchOptions {
  scenarios: ScenarioName[];
  tools: ('amqp-load' | 'warren-perf')[];
  seconds: number;
  warmup: number;
  repeat: number;
  storedMessages: number;
  idleConnections: number;
  idleQueues: number;
  rabbitPort: number;
  /** first AMQP port of the three-node RabbitMQ cluster (cluster-confirm): N, N+1, N+2 */
  rabbitClusterPort: number;
  /** or exactly these three ports (--rabbit-cluster-ports a,b,c) */
  rabbitClusterPorts: number[] | null;
  outDir: string | null;
  quick: boolean;
}

export const BENCH_USAGE = `usage: npm run bench -- [options]

Starts a private RabbitMQ and Warren on loopback (fresh data dirs), runs the scenarios against both,
alternating, and writes bench/results/latest.{json,md}.

  --quick                3 s windows, 1 s warm-up, 1 round, 100k stored msgs, 1000 idle conns/queues
  --scenarios a,b        only these (default: all): ${SCENARIOS.join(', ')}
  --skip a,b             all but these
  --tools a,b            amqp-load, warren-perf (default both)
  --seconds N            measurement window per run (default 10)
  --warmup N             warm-up per run (default 2)
  --repeat N             rounds; brokers alternate first/second each round; medians reported (default 2)
  --stored N             messages stored for startup-stored (default 1000000)
  --idle-connections N   (default 10000)
  --idle-queues N        (default 10000)
  --rabbit-port N        RabbitMQ's AMQP port (default 5692; N+20000 is its distribution port)
  --rabbit-cluster-port N  the 3-node RabbitMQ cluster of cluster-confirm: the first 3 free ports from N (default 5650)
  --rabbit-cluster-ports A,B,C  or exactly these three ports
  --out DIR              results directory (default bench/results; "-" = do not write)
`;

export function parseBenchArgs(argv: string[]): BenchOptions | null {
  const o: BenchOptions = {
    scenarios: [...SCENARIOS],
    tools: ['amqp-load', 'warren-perf'],
    seconds: 10,
    warmup: 2,
    repeat: 2,
    storedMessages: 1_000_000,
    idleConnections: 10_000,
    idleQueues: 10_000,
    rabbitPort: 5692,
    rabbitClusterPort: 5650,
    rabbitClusterPorts: null,
    outDir: null,
    quick: false,
  };
  const explicit = new Set<string>();
  const names = (v: string): ScenarioName[] =>
    v.split(',').map((s) => {
      if (!(SCENARIOS as readonly string[]).includes(s)) throw new Error(`unknown scenario "${s}"; known: ${SCENARIOS.join(', ')}`);
      return s as ScenarioName;
    });
  const line = parseCommandLine(argv, OPTIONS, { positionals: false, error: (m) => new Error(`${m}\n\n${BENCH_USAGE}`) });
  for (const { name, value: given } of line.options) {
    const flag = `--${name}`;
    const value = (): string => given ?? '';
    const count = (): number => {
      const n = Number(value());
      if (!Number.isFinite(n) || n <= 0) throw new Error(`${flag} needs a positive number`);
      return n;
    };
    explicit.add(flag);
    switch (flag) {
      case '--help': return null;
      case '--quick': o.quick = true; break;
      case '--scenarios': case '--only': o.scenarios = names(value()); break;
      case '--skip': { const skip = names(value()); o.scenarios = o.scenarios.filter((s) => !skip.includes(s)); break; }
      case '--tools': o.tools = value().split(',').map((t) => {
        if (t !== 'amqp-load' && t !== 'warren-perf') throw new Error(`unknown tool "${t}"`);
        return t;
      }); break;
      case '--seconds': o.seconds = count(); break;
      case '--warmup': o.warmup = Number(value()); break;
      case '--repeat': o.repeat = Math.round(count()); break;
      case '--stored': o.storedMessages = Math.round(count()); break;
      case '--idle-connections': o.idleConnections = Math.round(count()); break;
      case '--idle-queues': o.idleQueues = Math.round(count()); break;
      case '--rabbit-port': o.rabbitPort = Math.round(count()); break;
      case '--rabbit-cluster-port': o.rabbitClusterPort = Math.round(count()); break;
      case '--rabbit-cluster-ports': {
        const ports = value().split(',').map(Number);
        if (ports.length !== 3 || !ports.every((p) => Number.isInteger(p) && p > 0 && p < 45536)) throw new Error(`${flag} needs three ports, e.g. 5727,5737,5747`);
        o.rabbitClusterPorts = ports;
        break;
      }
      case '--out': o.outDir = value(); break;
    }
  }
  if (o.quick) {
    // quick values unless given explicitly
    if (!explicit.has('--seconds')) o.seconds = 3;
    if (!explicit.has('--warmup')) o.warmup = 1;
    if (!explicit.has('--repeat')) o.repeat = 1;
    if (!explicit.has('--stored')) o.storedMessages = 100_000;
    if (!explicit.has('--idle-connections')) o.idleConnections = 1000;
    if (!explicit.has('--idle-queues')) o.idleQueues = 1000;
  }
  return o;
}
