// The rows of the bench table, in order: what is measured, which way is better, and the issue's
// target expressed as "Warren's advantage over RabbitMQ" (higher-better: W/R, lower-better: R/W).

export type Tool = 'amqp-load' | 'warren-perf' | 'bench';

export interface MetricSpec {
  scenario: string;
  tool: Tool;
  metric: string;
  label: string;
  unit: string;
  better: 'higher' | 'lower';
  /** minimum advantage the issue asks for */
  target?: number;
  /** absolute floor for Warren's median (e.g. 300k msg/s on transient 1x1) */
  warrenAtLeast?: number;
  /** one value, no broker (raw-limit, tool ceilings) */
  single?: boolean;
}

const throughput = (scenario: string, tool: Tool, metric: string, target?: number, warrenAtLeast?: number): MetricSpec => ({
  scenario,
  tool,
  metric,
  label: metric === 'confirm_rate' ? 'confirmed' : 'delivered',
  unit: 'msg/s',
  better: 'higher',
  ...(target !== undefined ? { target } : {}),
  ...(warrenAtLeast !== undefined ? { warrenAtLeast } : {}),
});

export const METRICS: MetricSpec[] = [
  throughput('transient-1x1', 'amqp-load', 'consume_rate', 2, 300_000),
  throughput('transient-1x1', 'warren-perf', 'consume_rate', 2, 300_000),
  throughput('ack-1x1', 'amqp-load', 'consume_rate', 2),
  throughput('ack-1x1', 'warren-perf', 'consume_rate', 2),
  throughput('confirm-persistent', 'amqp-load', 'confirm_rate', 1.5),
  throughput('confirm-persistent', 'warren-perf', 'confirm_rate', 1.5),
  throughput('fanout-10', 'amqp-load', 'consume_rate', 2),
  throughput('fanout-10', 'warren-perf', 'consume_rate', 2),
  throughput('topic-routing', 'amqp-load', 'consume_rate', 2),
  throughput('topic-routing', 'warren-perf', 'consume_rate', 2),
  { scenario: 'rpc-latency', tool: 'amqp-load', metric: 'lat_p50_us', label: 'round trip p50', unit: 'µs', better: 'lower' },
  { scenario: 'rpc-latency', tool: 'amqp-load', metric: 'lat_p99_us', label: 'round trip p99', unit: 'µs', better: 'lower', target: 2 },
  { scenario: 'rpc-latency', tool: 'amqp-load', metric: 'calls_per_s', label: 'sequential calls/s', unit: 'calls/s', better: 'higher' },
  throughput('many-queues', 'amqp-load', 'consume_rate'),
  throughput('many-queues', 'warren-perf', 'consume_rate'),
  { scenario: 'connections-churn', tool: 'amqp-load', metric: 'conn_per_s', label: 'open+close cycles/s', unit: '/s', better: 'higher' },
  { scenario: 'startup-empty', tool: 'bench', metric: 'startup_ms', label: 'process start → AMQP handshake', unit: 'ms', better: 'lower', target: 10 },
  { scenario: 'startup-stored', tool: 'bench', metric: 'startup_ms', label: 'start → handshake, N stored msgs', unit: 'ms', better: 'lower', target: 10 },
  { scenario: 'startup-stored', tool: 'bench', metric: 'ready_ms', label: 'start → queue reports all N', unit: 'ms', better: 'lower' },
  { scenario: 'idle-connections', tool: 'bench', metric: 'kib_per_item', label: 'RSS per idle connection', unit: 'KiB', better: 'lower', target: 1 },
  { scenario: 'idle-connections', tool: 'bench', metric: 'rss_mb', label: 'RSS with N idle connections', unit: 'MiB', better: 'lower' },
  { scenario: 'idle-queues', tool: 'bench', metric: 'kib_per_item', label: 'RSS per idle queue', unit: 'KiB', better: 'lower', target: 1 },
  { scenario: 'idle-queues', tool: 'bench', metric: 'rss_mb', label: 'RSS with N idle queues', unit: 'MiB', better: 'lower' },
  ...streamMetrics('stream-1k', '1 KiB'),
  ...streamMetrics('stream-16b', '16 B'),
  ...resourceMetrics(),
  ...clusterMetrics(),
  { scenario: 'raw-limit', tool: 'amqp-load', metric: 'triples_per_s', label: 'publish frame triples/s, no broker', unit: 'msg/s', better: 'higher', single: true },
  { scenario: 'raw-limit', tool: 'amqp-load', metric: 'rtt_p50_us', label: 'loopback 1-byte ping-pong p50', unit: 'µs', better: 'lower', single: true },
  { scenario: 'tool-ceiling', tool: 'warren-perf', metric: 'relay_rate', label: 'pub→null broker→consumer msg/s', unit: 'msg/s', better: 'higher', single: true },
  { scenario: 'tool-ceiling', tool: 'warren-perf', metric: 'publish_rate', label: 'publish only, null broker', unit: 'msg/s', better: 'higher', single: true },
];

/** Stream protocol rows (issue 19): both brokers, the same client (bench/stream-load.ts). */
function streamMetrics(scenario: string, size: string): MetricSpec[] {
  const m = (metric: string, label: string, unit: string, better: 'higher' | 'lower', target?: number): MetricSpec => ({
    scenario, tool: 'bench', metric, label, unit, better, ...(target !== undefined ? { target } : {}),
  });
  return [
    m('confirm_rate', `stream publish ${size}, confirmed`, 'msg/s', 'higher', 2),
    m('consume_rate', `stream consume ${size} backlog from first`, 'msg/s', 'higher', 2),
    m('backlog_mib', `stream ${size}: backlog read`, 'MiB', 'higher'),
    m('consume_peak_rss_mb', `stream ${size}: broker peak RSS while consuming`, 'MiB', 'lower'),
    m('load_average', `stream ${size}: machine load average (1 min) at the start`, '', 'lower'),
    m('publish_broker_cpu_pct', `stream ${size}: broker CPU while publishing`, '% of a core', 'lower'),
    m('publish_client_cpu_pct', `stream ${size}: client CPU while publishing`, '% of a core', 'lower'),
    m('consume_broker_cpu_pct', `stream ${size}: broker CPU while consuming`, '% of a core', 'lower'),
    m('consume_client_cpu_pct', `stream ${size}: client CPU while consuming`, '% of a core', 'lower'),
  ];
}

/** Warren-only rows (issue 15): one value each, with the target in the label. */
function resourceMetrics(): MetricSpec[] {
  const w = (scenario: string, metric: string, label: string, unit: string, better: 'higher' | 'lower'): MetricSpec => ({
    scenario, tool: 'bench', metric, label, unit, better, single: true,
  });
  return [
    w('flood', 'publish_rate', 'transient flood, 4 publishers, 4 queues, no consumer: accepted', 'msg/s', 'higher'),
    w('flood', 'published', 'transient flood: messages accepted in the window', 'msg', 'higher'),
    w('flood', 'peak_rss_mb', 'transient flood: peak RSS (target < 300 MiB)', 'MiB', 'lower'),
    w('flood', 'after_purge_rss_mb', 'RSS ≤ 10 s after purge / delete (target: near idle)', 'MiB', 'lower'),
    w('flood', 'consume_peak_rss_mb', 'peak RSS while no-ack consumers read a persistent backlog', 'MiB', 'lower'),
    w('flood', 'after_consume_rss_mb', 'RSS ≤ 10 s after a persistent backlog is consumed', 'MiB', 'lower'),
    w('flood', 'ack_read_peak_rss_mb', 'peak RSS while consumers acking without prefetch read a transient backlog', 'MiB', 'lower'),
    w('flood', 'after_ack_read_rss_mb', 'RSS ≤ 10 s after that backlog is consumed', 'MiB', 'lower'),
    w('flood', 'idle_rss_mb', 'RSS before the flood', 'MiB', 'lower'),
    w('many-durable-queues', 'one_queue_confirm_rate', '1 durable queue, 4 publishers: confirmed', 'msg/s', 'higher'),
    w('many-durable-queues', 'one_queue_100_clients_confirm_rate', '1 durable queue, 100 publishers + 100 consumers: confirmed', 'msg/s', 'higher'),
    w('many-durable-queues', 'hundred_queues_confirm_rate', '100 busy durable queues: confirmed', 'msg/s', 'higher'),
    w('many-durable-queues', 'hundred_vs_one_pct', '100 queues vs 1 (target ≥ 80 %)', '%', 'higher'),
    w('many-durable-queues', 'hundred_vs_one_same_clients_pct', '100 queues vs 1, same 100+100 clients (target ≥ 80 %)', '%', 'higher'),
    w('many-durable-queues', 'hundred_queues_4_publishers_confirm_rate', '100 busy durable queues, the 4 publishers of the 1-queue run: confirmed', 'msg/s', 'higher'),
    w('many-durable-queues', 'hundred_vs_one_4_publishers_pct', '100 queues vs 1, same 4 publishers (target ≥ 80 %)', '%', 'higher'),
    w('many-durable-queues', 'one_queue_main_us', '1 durable queue, 4 publishers: broker main thread per confirmed message', 'µs/msg', 'lower'),
    w('many-durable-queues', 'one_queue_100_clients_main_us', '1 durable queue, 100 + 100 clients: main thread per message', 'µs/msg', 'lower'),
    w('many-durable-queues', 'hundred_queues_main_us', '100 busy durable queues: main thread per message', 'µs/msg', 'lower'),
    w('many-durable-queues', 'hundred_queues_4_publishers_main_us', '100 busy durable queues, 4 publishers: main thread per message', 'µs/msg', 'lower'),
    w('write-amplification', 'keeping_up', 'bytes written / bytes published, consumer keeping up (≤ 1.2)', '×', 'lower'),
    w('write-amplification', 'backlog', 'bytes written / bytes published, backlog (≤ 1.2)', '×', 'lower'),
    w('connections-heartbeat', 'kib_per_connection', 'RSS per connection with heartbeats (≤ 15)', 'KiB', 'lower'),
    w('connections-heartbeat', 'open_seconds', 'time to open them', 's', 'lower'),
    w('connections-heartbeat', 'p50_us_alone', '1,000 msg/s pair latency p50, alone', 'µs', 'lower'),
    w('connections-heartbeat', 'p99_us_alone', '1,000 msg/s pair latency p99, alone', 'µs', 'lower'),
    w('connections-heartbeat', 'p50_us_with_connections', 'pair latency p50 beside N connections', 'µs', 'lower'),
    w('connections-heartbeat', 'p99_us_with_connections', 'pair latency p99 beside N connections', 'µs', 'lower'),
  ];
}

/** Clustering (issue 20): 3 Warren nodes vs a 3-node RabbitMQ quorum queue, and vs one Warren node. */
function clusterMetrics(): MetricSpec[] {
  return [
    { scenario: 'cluster-confirm', tool: 'warren-perf', metric: 'confirm_rate', label: '3 nodes, 1 KiB persistent, replicated + confirmed (RabbitMQ: quorum queue; Warren: durable classic queue, as confirm-persistent)', unit: 'msg/s', better: 'higher', target: 1 },
    { scenario: 'cluster-confirm', tool: 'warren-perf', metric: 'single_node_confirm_rate', label: 'Warren single node, same shape and queue', unit: 'msg/s', better: 'higher', single: true },
    { scenario: 'cluster-confirm', tool: 'warren-perf', metric: 'confirm_rate_quorum', label: 'Warren 3 nodes, quorum queue', unit: 'msg/s', better: 'higher', single: true },
    { scenario: 'cluster-confirm', tool: 'warren-perf', metric: 'single_node_confirm_rate_quorum', label: 'Warren single node, quorum queue', unit: 'msg/s', better: 'higher', single: true },
    { scenario: 'cluster-confirm', tool: 'warren-perf', metric: 'cluster_vs_single_pct', label: 'Warren 3 nodes vs 1 node (goal ≥ 50 %)', unit: '%', better: 'higher', single: true },
  ];
}

/** Scenario names a user can select, in run order. */
export const SCENARIOS = [
  'transient-1x1',
  'ack-1x1',
  'confirm-persistent',
  'fanout-10',
  'topic-routing',
  'rpc-latency',
  'many-queues',
  'connections-churn',
  'idle-connections',
  'idle-queues',
  'flood',
  'many-durable-queues',
  'write-amplification',
  'connections-heartbeat',
  'stream-1k',
  'stream-16b',
  'cluster-confirm',
  'raw-limit',
  'startup-empty',
  'startup-stored',
] as const;

export type ScenarioName = (typeof SCENARIOS)[number];

/** Scenarios driven by load generators against both running brokers. */
export const LOAD_SCENARIOS: ScenarioName[] = ['transient-1x1', 'ack-1x1', 'confirm-persistent', 'fanout-10', 'topic-routing', 'rpc-latency', 'many-queues', 'connections-churn'];

/** Stream protocol scenarios (issue 19): each broker freshly started with its stream listener. */
export const STREAM_SCENARIOS = ['stream-1k', 'stream-16b'] as const satisfies readonly ScenarioName[];

/** Warren-only resource scenarios (bench/resource-scenarios.ts). */
export const RESOURCE_SCENARIOS = ['flood', 'many-durable-queues', 'write-amplification', 'connections-heartbeat'] as const satisfies readonly ScenarioName[];

/** Clustering scenarios (issue 20): each setup started alone (bench/cluster.ts). */
export const CLUSTER_SCENARIOS = ['cluster-confirm'] as const satisfies readonly ScenarioName[];
