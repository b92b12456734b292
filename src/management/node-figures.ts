/**
 * The figures of this node that /api/nodes reports and the statistics collector samples for their
 * `*_details` rates: resident memory, descriptors, sockets, "processes", free disk; the message
 * store's I/O (RabbitMQ's io_* fields: reads, writes and syncs of segment files, average times in
 * ms; Warren never seeks nor reopens); the churn counters (connection_created …, also the
 * overview's churn_rates); and the memory breakdown (/api/nodes/{node}/memory, ?memory=true).
 */
import { readdirSync, readFileSync, statfsSync } from 'node:fs';
import { getHeapSpaceStatistics } from 'node:v8';
import type { ManagedBroker } from './managed-broker.js';
import { queueBytesInMemory } from '../metrics/queue-memory.js';

/** Gauges and counters sampled for rates, by RabbitMQ's field names. */
export function nodeFigures(broker: ManagedBroker): Record<string, number> {
  const fds = fileDescriptors();
  return {
    mem_used: process.memoryUsage.rss(),
    fd_used: fds.fd_used ?? 0,
    // The AMQP listener's socket counts too, as in RabbitMQ.
    sockets_used: broker.connections.size + 1,
    proc_used: processCounts(broker).proc_used,
    disk_free: diskFree(broker.options.dataDir),
    ...ioFigures(broker),
    ...churn(broker),
  };
}

/** connection_created … queue_deleted: the node's totals since start (RabbitMQ's churn_rates). */
export function churn(broker: ManagedBroker): Record<string, number> {
  const c = broker.counters;
  return {
    connection_created: c.connectionsOpened, connection_closed: c.connectionsClosed,
    channel_created: c.channelsOpened, channel_closed: c.channelsClosed,
    queue_declared: c.queuesDeclared, queue_created: c.queuesCreated, queue_deleted: c.queuesDeleted,
  };
}

function ioFigures(broker: ManagedBroker): Record<string, number> {
  const io = broker.ioStats;
  const avg = (ms: number, ops: number) => (ops > 0 ? ms / ops : 0);
  return {
    io_read_count: io?.readOps ?? 0, io_read_bytes: io?.readBytes ?? 0, io_read_avg_time: avg(io?.readMs ?? 0, io?.readOps ?? 0),
    io_write_count: io?.writeOps ?? 0, io_write_bytes: io?.bytesWritten ?? 0, io_write_avg_time: avg(io?.writeMs ?? 0, io?.writeOps ?? 0),
    io_sync_count: io?.fdatasyncs ?? 0, io_sync_avg_time: avg(io?.syncMs ?? 0, io?.fdatasyncs ?? 0),
    io_seek_count: 0, io_seek_avg_time: 0, io_reopen_count: 0,
  };
}

function diskFree(dir: string): number {
  try {
    const s = statfsSync(dir);
    return s.bavail * s.bsize;
  } catch {
    // No data dir: report 0 rather than fail the whole answer.
    return 0;
  }
}

/**
 * RabbitMQ runs a process per connection, channel and queue and reports their number against the
 * Erlang limit; Warren reports the count of those objects against RabbitMQ's default limit, so
 * monitoring that watches the ratio keeps a meaning.
 */
export function processCounts(broker: ManagedBroker): { proc_used: number; proc_total: number } {
  let used = 1 + broker.connections.size;
  for (const c of broker.connections) used += c.channels.size;
  for (const v of broker.vhosts.values()) used += v.queues.size;
  return { proc_used: used, proc_total: 1_048_576 };
}

/** Open and allowed file descriptors from /proc (Linux); omitted elsewhere. */
export function fileDescriptors(): { fd_used?: number; fd_total?: number } {
  try {
    const used = readdirSync('/proc/self/fd').length;
    const limits = readFileSync('/proc/self/limits', 'utf8');
    const m = /^Max open files\s+(\d+)/m.exec(limits);
    return m ? { fd_used: used, fd_total: Number(m[1]) } : { fd_used: used };
  } catch {
    return {};
  }
}


/**
 * The process's memory in RabbitMQ's breakdown keys where the meaning carries over, so tools that
 * read /api/nodes/{node}/memory find them: `code` (V8's code space), `queue_procs` (message bytes
 * queues hold in memory), `binary` (other buffers: socket and frame buffers), `other_proc` (the rest
 * of the JavaScript heap in use), `allocated_unused` (heap reserved but free), `other_system`
 * (native memory outside buffers), `reserved_unallocated` (resident memory beyond all of that).
 * The parts add up to the resident set size, reported as `total.rss` (the strategy, as in RabbitMQ).
 */
export function memoryBreakdown(broker: ManagedBroker): Record<string, unknown> {
  const m = process.memoryUsage();
  const code = getHeapSpaceStatistics().find((s) => s.space_name === 'code_space')?.space_used_size ?? 0;
  let queued = 0;
  for (const vhost of broker.vhosts.values()) for (const q of vhost.queues.values()) queued += queueBytesInMemory(q);
  const queueProcs = Math.min(queued, m.arrayBuffers);
  const allocated = m.heapTotal + m.external;
  return {
    code,
    queue_procs: queueProcs,
    binary: m.arrayBuffers - queueProcs,
    other_proc: Math.max(0, m.heapUsed - code),
    allocated_unused: m.heapTotal - m.heapUsed,
    other_system: Math.max(0, m.external - m.arrayBuffers),
    reserved_unallocated: Math.max(0, m.rss - allocated),
    strategy: 'rss',
    // `erlang` is what the runtime itself accounts for (RabbitMQ: erlang:memory(total)): the heap in use and buffers.
    total: { erlang: m.heapUsed + m.external, rss: m.rss, allocated },
  };
}
