/**
 * RabbitMQ's "Stream" tab (rabbitmq_stream_management): #/stream/connections lists stream-protocol
 * connections, #/stream/connections/<vhost>/<name> shows one with its publishers and consumers
 * (RabbitMQ's column names), and closes it with a reason.
 */
import { enc, get } from '../api.js';
import { Facts, LoadError, Section, Table, type Column } from '../components.js';
import { byteRate, num, value } from '../format.js';
import { useData, useRefresh } from '../hooks.js';
import { link } from '../routes.js';
import { clientName, CloseConnection, connectionFacts, type ConnectionInfo } from './connections.js';

interface PublisherInfo {
  publisher_id: number;
  reference: string;
  queue: { name: string; vhost: string };
  published: number;
  confirmed: number;
  errored: number;
}

interface ConsumerInfo {
  subscription_id: number;
  queue: { name: string; vhost: string };
  consumed: number;
  offset: number;
  offset_lag: number;
  credits: number;
}

const columns: Column<ConnectionInfo>[] = [
  { label: 'Virtual host', render: (c) => c.vhost },
  {
    label: 'Name',
    render: (c) => (
      <>
        <a href={link.streamConnection(c.vhost, c.name)}>{c.name}</a>
        {clientName(c) ? <small class="sub">{clientName(c)}</small> : null}
      </>
    ),
  },
  { label: 'User name', render: (c) => c.user },
  { label: 'State', render: (c) => <span class={`state ${c.state}`}>{c.state}</span> },
  { label: 'Protocol', render: (c) => c.protocol },
  { label: 'From client', num: true, render: (c) => byteRate(c.recv_oct_details?.rate) },
  { label: 'To client', num: true, render: (c) => byteRate(c.send_oct_details?.rate) },
];

const publisherColumns: Column<PublisherInfo>[] = [
  { label: 'ID', num: true, render: (p) => p.publisher_id },
  { label: 'Reference', render: (p) => p.reference },
  { label: 'Queue', render: (p) => <a href={link.queue(p.queue.vhost, p.queue.name)}>{p.queue.name}</a> },
  { label: 'Messages Published', num: true, render: (p) => num(p.published) },
  { label: 'Messages Confirmed', num: true, render: (p) => num(p.confirmed) },
  { label: 'Messages Errored', num: true, render: (p) => num(p.errored) },
];

const consumerColumns: Column<ConsumerInfo>[] = [
  { label: 'Subscription ID', num: true, render: (s) => s.subscription_id },
  { label: 'Stream', render: (s) => <a href={link.queue(s.queue.vhost, s.queue.name)}>{s.queue.name}</a> },
  { label: 'Messages Consumed', num: true, render: (s) => num(s.consumed) },
  { label: 'Offset', num: true, render: (s) => num(s.offset) },
  { label: 'Offset Lag', num: true, render: (s) => num(s.offset_lag) },
  { label: 'Credits', num: true, render: (s) => num(s.credits) },
];

export function StreamConnectionsPage() {
  const { vhost } = useRefresh();
  const list = useData(() => get<ConnectionInfo[]>(vhost ? `/stream/connections/${enc(vhost)}` : '/stream/connections'), [vhost]);
  return (
    <>
      <h1>Stream Connections</h1>
      <LoadError error={list.error} />
      <Table label="Stream connections" columns={columns} rows={list.data ?? []} rowKey={(c) => c.name} empty="... no connections ..." />
    </>
  );
}

export function StreamConnectionPage(props: { vhost: string; name: string }) {
  const path = `/stream/connections/${enc(props.vhost)}/${enc(props.name)}`;
  const conn = useData(() => get<ConnectionInfo>(path), [path]);
  const publishers = useData(() => get<PublisherInfo[]>(`${path}/publishers`), [path]);
  const consumers = useData(() => get<ConsumerInfo[]>(`${path}/consumers`), [path]);
  const c = conn.data;
  const pubs = publishers.data ?? [];
  const subs = consumers.data ?? [];
  return (
    <>
      <h1>
        Connection <span class="object-name">{props.name}</span>
      </h1>
      <LoadError error={conn.error} />
      {c ? (
        <>
          <Section title="Overview">
            {/* A stream connection has no channels. */}
            <Facts rows={connectionFacts(c).filter(([k]) => k !== 'Channel limit')} />
          </Section>
          <Section title={`Publishers (${pubs.length})`}>
            <Table label="Publishers" columns={publisherColumns} rows={pubs} rowKey={(p) => String(p.publisher_id)} empty="... no publishers ..." />
          </Section>
          <Section title={`Consumers (${subs.length})`}>
            <Table label="Consumers" columns={consumerColumns} rows={subs} rowKey={(s) => String(s.subscription_id)} empty="... no consumers ..." />
          </Section>
          <Section title="Client properties" open={false}>
            <Facts rows={Object.entries(c.client_properties ?? {}).map(([k, v]) => [k, value(v)])} />
          </Section>
          <CloseConnection name={props.name} then={link.streamConnections()} />
        </>
      ) : null}
    </>
  );
}
