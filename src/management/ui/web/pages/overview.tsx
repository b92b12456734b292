/** #/ — totals with charts, global counts, node status, listeners, definitions export/import. */
import { useState } from 'preact/hooks';
import { enc, get, post } from '../api.js';
import { Chart, RangeSelect, rangeQuery, useRange, type Details } from '../chart.js';
import { LoadError, Notice, Section, Table } from '../components.js';
import { bytes, duration, num } from '../format.js';
import { useAction, useData, useRefresh } from '../hooks.js';
import { useSession } from '../session.js';
import { link } from '../routes.js';

type D = Details | undefined;

interface Overview {
  product_name: string;
  product_version: string;
  rabbitmq_version: string;
  node: string;
  cluster_name: string;
  queue_totals?: { messages?: number; messages_ready?: number; messages_unacknowledged?: number; messages_details?: D; messages_ready_details?: D; messages_unacknowledged_details?: D };
  message_stats?: Record<string, number | Details>;
  object_totals?: Record<string, number>;
  listeners?: { protocol: string; ip_address: string; port: number; node: string }[];
}

interface NodeInfo {
  name: string;
  /** Absent for another cluster member (the leader knows only its role and replication state). */
  uptime?: number;
  mem_used?: number;
  mem_limit?: number;
  mem_alarm?: boolean;
  disk_free?: number;
  disk_free_limit?: number;
  disk_free_alarm?: boolean;
  fd_used?: number;
  fd_total?: number;
  sockets_used?: number;
  sockets_total?: number;
  proc_used?: number;
  proc_total?: number;
  run_queue?: number;
  processors?: number;
  /** In a cluster (Warren): every member, with its role and replication state. */
  running?: boolean;
  role?: 'leader' | 'follower' | 'down';
  in_sync?: boolean;
  lag_bytes?: number | null;
}

/** The cluster columns, shown when the node list comes from a cluster (its entries carry a role). */
const CLUSTER_COLUMNS = [
  { label: 'Role', render: (n: NodeInfo) => (n.running === false ? <span class="alarm">down</span> : n.role) },
  { label: 'In sync', render: (n: NodeInfo) => (n.in_sync ? 'yes' : 'no') },
  { label: 'Replication lag', num: true, render: (n: NodeInfo) => (n.role === 'leader' ? '-' : n.lag_bytes === null || n.lag_bytes === undefined ? '?' : bytes(n.lag_bytes)) },
];

/** The message rates RabbitMQ charts; those a broker does not count are left out of the chart. */
export const RATE_SERIES: [string, string][] = [
  ['publish', 'Publish'],
  ['confirm', 'Publisher confirm'],
  ['deliver', 'Deliver (manual ack)'],
  ['deliver_no_ack', 'Deliver (auto ack)'],
  ['deliver_get', 'Deliver / get'],
  ['redeliver', 'Redelivered'],
  ['ack', 'Consumer ack'],
  ['get', 'Get (manual ack)'],
  ['get_no_ack', 'Get (auto ack)'],
  ['return_unroutable', 'Unroutable (return)'],
  ['drop_unroutable', 'Unroutable (drop)'],
];

export function rateSeries(stats: Record<string, unknown> | undefined) {
  return RATE_SERIES.filter(([k]) => stats && (stats[`${k}_details`] as D)?.samples !== undefined).map(([k, label]) => ({
    label,
    details: stats![`${k}_details`] as D,
  }));
}

export function lengthSeries(o: { messages_details?: D; messages_ready_details?: D; messages_unacknowledged_details?: D } | undefined) {
  return [
    { label: 'Ready', details: o?.messages_ready_details },
    { label: 'Unacked', details: o?.messages_unacknowledged_details },
    { label: 'Total', details: o?.messages_details },
  ];
}

export function OverviewPage() {
  const { vhost } = useRefresh();
  const session = useSession();
  const [range, setRange] = useRange();
  const overview = useData(() => get<Overview>(`/overview?${rangeQuery(range)}`), [range.label]);
  const vhostData = useData(
    () => (vhost === '' ? Promise.resolve(undefined) : get<Overview['queue_totals'] & { message_stats?: Record<string, number | Details> }>(`/vhosts/${enc(vhost)}?${rangeQuery(range)}`)),
    [vhost, range.label],
  );
  const nodes = useData(() => (session.isMonitor ? get<NodeInfo[]>('/nodes') : Promise.resolve([])), [session.isMonitor]);
  const o = overview.data;
  const totals = vhost === '' ? o?.queue_totals : vhostData.data;
  const stats = vhost === '' ? o?.message_stats : vhostData.data?.message_stats;
  return (
    <>
      <h1>Overview</h1>
      <LoadError error={overview.error ?? vhostData.error} />
      {o ? (
        <p class="versions">
          {o.product_name} {o.product_version} (RabbitMQ API {o.rabbitmq_version}) · cluster {o.cluster_name} · node {o.node}
        </p>
      ) : null}
      <Section title="Totals">
        <RangeSelect range={range} onChange={setRange} />
        <div class="charts">
          <div>
            <h3>Queued messages {vhost ? `(${vhost})` : ''}</h3>
            <Chart title="Queued messages" range={range} rates={false} series={lengthSeries(totals)} />
          </div>
          <div>
            <h3>Message rates {vhost ? `(${vhost})` : ''}</h3>
            <Chart title="Message rates" range={range} rates series={rateSeries(stats as Record<string, unknown> | undefined)} />
          </div>
        </div>
        <h3>Global counts</h3>
        <ul class="counts">
          {(['connections', 'channels', 'exchanges', 'queues', 'consumers'] as const).map((k) => (
            <li key={k}>
              <a href={k === 'consumers' ? link.queues() : `#/${k}`}>
                <span class="count-label">{k[0]!.toUpperCase() + k.slice(1)}:</span> <strong>{num(o?.object_totals?.[k])}</strong>
              </a>
            </li>
          ))}
        </ul>
      </Section>
      {session.isMonitor ? (
        <Section title="Nodes">
          <LoadError error={nodes.error} />
          <Table<NodeInfo>
            label="Nodes"
            rowKey={(n) => n.name}
            rows={nodes.data ?? []}
            columns={[
              { label: 'Name', render: (n) => n.name },
              ...((nodes.data ?? []).some((n) => n.role !== undefined) ? CLUSTER_COLUMNS : []),
              { label: 'File descriptors', num: true, render: (n) => <Meter used={n.fd_used} total={n.fd_total} format={num} /> },
              { label: 'Socket descriptors', num: true, render: (n) => <Meter used={n.sockets_used} total={n.sockets_total} format={num} /> },
              { label: 'Memory', num: true, render: (n) => <Meter used={n.mem_used} total={n.mem_limit} format={bytes} alarm={n.mem_alarm} limitLabel="high watermark" /> },
              { label: 'Disk space', num: true, render: (n) => <DiskMeter n={n} /> },
              { label: 'Uptime', render: (n) => (n.uptime === undefined ? '?' : duration(n.uptime)) },
              { label: 'Alarms', render: (n) => (n.mem_alarm || n.disk_free_alarm ? <span class="alarm">{[n.mem_alarm ? 'memory' : '', n.disk_free_alarm ? 'disk' : ''].filter(Boolean).join(', ')}</span> : 'none') },
            ]}
          />
        </Section>
      ) : null}
      <Section title="Ports and contexts" open={false}>
        <Table
          label="Listeners"
          rowKey={(l) => `${l.protocol}:${l.port}`}
          rows={o?.listeners ?? []}
          columns={[
            { label: 'Protocol', render: (l) => l.protocol },
            { label: 'Bound to', render: (l) => l.ip_address },
            { label: 'Port', num: true, render: (l) => l.port },
          ]}
        />
      </Section>
      <Definitions />
    </>
  );
}

function Meter(props: { used: number | undefined; total: number | undefined; format: (n: number) => string; alarm?: boolean; limitLabel?: string }) {
  if (props.used === undefined) return <span>?</span>;
  const pct = props.total ? Math.min(100, (props.used / props.total) * 100) : 0;
  return (
    <div class={props.alarm ? 'meter alarm' : 'meter'}>
      <span>{props.format(props.used)}</span>
      {props.total ? (
        <>
          <progress max={100} value={pct} aria-label={`${props.format(props.used)} of ${props.format(props.total)}`} />
          <small>
            {props.total ? `${props.format(props.total)} ${props.limitLabel ?? 'available'}` : ''}
          </small>
        </>
      ) : null}
    </div>
  );
}

function DiskMeter(props: { n: NodeInfo }) {
  const { n } = props;
  // Another cluster member: the leader reports only its role and replication state.
  if (n.disk_free === undefined) return <span>?</span>;
  return (
    <div class={n.disk_free_alarm ? 'meter alarm' : 'meter'}>
      <span>{bytes(n.disk_free)} free</span>
      <small>{bytes(n.disk_free_limit)} low watermark</small>
    </div>
  );
}

/** Export and import of definitions (RabbitMQ's format), as on RabbitMQ's overview. */
function Definitions() {
  const session = useSession();
  const [message, failed, run] = useAction();
  const [file, setFile] = useState<File | undefined>(undefined);
  if (!session.isAdmin) return null;
  const download = () =>
    run(async () => {
      const defs = await get<unknown>('/definitions');
      const blob = new Blob([JSON.stringify(defs, null, 2)], { type: 'application/json' });
      const a = document.createElement('a');
      a.href = URL.createObjectURL(blob);
      a.download = `warren-definitions-${new Date().toISOString().slice(0, 10)}.json`;
      a.click();
      setTimeout(() => URL.revokeObjectURL(a.href), 1000);
    });
  const upload = (e: Event) => {
    e.preventDefault();
    void run(async () => {
      if (!file) throw new Error('Choose a definitions file first');
      let json: unknown;
      try {
        json = JSON.parse(await file.text());
      } catch {
        throw new Error(`${file.name} is not JSON`);
      }
      await post('/definitions', json);
      return 'Your definitions were imported successfully.';
    });
  };
  return (
    <>
      <Section title="Export definitions" open={false}>
        <button type="button" onClick={download}>
          Download broker definitions
        </button>
      </Section>
      <Section title="Import definitions" open={false}>
        <form onSubmit={upload}>
          <div class="field">
            <label for="definitions-file">Definitions file:</label>
            <input id="definitions-file" type="file" accept="application/json,.json" onChange={(e) => setFile(e.currentTarget.files?.[0])} />
          </div>
          <button type="submit">Upload broker definitions</button>
        </form>
      </Section>
      <Notice message={message} failed={failed} />
    </>
  );
}

