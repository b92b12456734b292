// What the stream CPU tools (stream-consume-cpu.ts, stream-publish-cpu.ts) share: the brokers they
// compare, and the CPU of a broker process per thread and of this process (the bench's client) over
// a phase: divided by the messages moved it is the cost per message, which a shared machine changes
// far less than it changes rates.
import { readdirSync, readFileSync } from 'node:fs';
import type { BrokerProcess } from './broker-process.js';
import { freePort } from './proc.js';
import { startRabbit } from './rabbitmq.js';
import { freshDir } from './startup.js';
import { startWarren } from './warren.js';

const TICKS = 100; // USER_HZ

/** CPU seconds per thread group of a process: its main thread, and the others by name. */
export function threadCpu(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    } catch {
      continue; // the thread ended
    }
    const name = tid === String(pid) ? 'main' : stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')).replace(/[0-9_]+/g, '');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    out.set(name, (out.get(name) ?? 0) + (Number(f[11]) + Number(f[12])) / TICKS);
  }
  return out;
}

export interface PhaseCpu {
  /** The broker's CPU seconds per thread group over the phase (groups under 5 ms left out). */
  threads: (readonly [string, number])[];
  broker: number;
  /** This process's CPU seconds. */
  client: number;
  wall: [number, number];
}

/** Starts measuring; the function returned ends the phase. */
export function phaseCpu(pid: number): () => PhaseCpu {
  const threads0 = threadCpu(pid);
  const client0 = process.cpuUsage();
  const wall0 = Date.now();
  return () => {
    const threads1 = threadCpu(pid);
    const c = process.cpuUsage(client0);
    const threads = [...threads1].map(([name, s]) => [name, s - (threads0.get(name) ?? 0)] as const).filter(([, s]) => s > 0.005);
    return { threads, broker: threads.reduce((sum, [, s]) => sum + s, 0), client: (c.user + c.system) / 1e6, wall: [wall0, Date.now()] };
  };
}

/** "broker 3.1 µs/msg, 140 % [main 90 %, libuv-worker 50 %]; client 1.2 µs/msg, 60 %". */
export function describeCpu(cpu: PhaseCpu, messages: number, seconds: number): string {
  const us = (s: number): string => ((s / messages) * 1e6).toFixed(3);
  const pct = (s: number): string => `${((s / seconds) * 100).toFixed(0)} %`;
  return `broker ${us(cpu.broker)} µs/msg, ${pct(cpu.broker)} [${cpu.threads.map(([n, s]) => `${n} ${pct(s)}`).join(', ')}]; ` +
    `client ${us(cpu.client)} µs/msg, ${pct(cpu.client)}`;
}

/** The command-line options both tools take to choose the brokers. */
export const BROKER_OPTIONS = {
  'rabbit-port': { type: 'string', default: '5744' },
  'no-rabbit': { type: 'boolean', default: false },
  'no-warren': { type: 'boolean', default: false },
  compare: { type: 'string' },
} as const;

export interface BrokerChoice {
  'rabbit-port': string;
  'no-rabbit': boolean;
  'no-warren': boolean;
  compare?: string | undefined;
}

export interface BrokerUnderTest {
  label: string;
  broker: BrokerProcess;
  streamPort: number;
  dir: string;
}

/**
 * Starts the chosen brokers on fresh data dirs (pushed to `dirs`, for the caller to remove):
 * RabbitMQ, this build's Warren and `--compare`'s. `warrenEnvironment(dir)` gives variables a Warren
 * starts with (startWarren passes process.env on).
 */
export async function startBrokers(o: BrokerChoice, dirs: string[], warrenEnvironment: (dir: string) => Record<string, string> = () => ({})): Promise<BrokerUnderTest[]> {
  const out: BrokerUnderTest[] = [];
  if (!o['no-rabbit']) {
    const dir = freshDir('rabbitmq');
    dirs.push(dir);
    const streamPort = await freePort();
    out.push({ label: 'RabbitMQ', broker: await startRabbit(dir, Number(o['rabbit-port']), streamPort), streamPort, dir });
  }
  const warrens: [string, string | undefined][] = o['no-warren'] ? [] : [['Warren', undefined]];
  if (o.compare) warrens.push([`Warren ${o.compare.replace(/\/dist\/src\/cli\/warren\.js$/, '')}`, o.compare]);
  for (const [label, cli] of warrens) {
    const dir = freshDir('warren');
    dirs.push(dir);
    const streamPort = await freePort();
    const env = warrenEnvironment(dir);
    Object.assign(process.env, env);
    const broker = await startWarren(dir, await freePort(), streamPort, cli).finally(() => {
      for (const k of Object.keys(env)) delete process.env[k];
    });
    out.push({ label, broker, streamPort, dir });
  }
  return out;
}
