/** #/connections and #/connections/<name>: lists with rates, one connection's page, close with a reason. */
import { useState } from 'preact/hooks';
import { enc, get, request } from '../api.js';
import { Facts, LoadError, Notice, Section, Table, TextField, type Column } from '../components.js';
import { byteRate, bytes, num, time, value } from '../format.js';
import { useAction, useData, useRefresh } from '../hooks.js';
import { usePagedList } from '../paged.js';
import { PagedTable } from '../paged-table.js';
import { go, link } from '../routes.js';
import { channelColumns, type ChannelInfo } from './channels.js';

export interface ConnectionInfo {
  name: string;
  user: string;
  vhost: string;
  state: string;
  ssl: boolean;
  protocol: string;
  channels: number;
  channel_max: number;
  frame_max: number;
  timeout: number;
  auth_mechanism: string;
  peer_host: string;
  peer_port: number;
  host: string;
  port: number;
  connected_at: number;
  client_properties: Record<string, unknown>;
  recv_oct: number;
  send_oct: number;
  recv_oct_details?: { rate: number };
  send_oct_details?: { rate: number };
}

export function clientName(c: ConnectionInfo): string {
  const n = c.client_properties?.['connection_name'];
  return typeof n === 'string' ? n : '';
}

const columns: Column<ConnectionInfo>[] = [
  {
    label: 'Name',
    sort: 'name',
    render: (c) => (
      <>
        <a href={link.connection(c.name)}>{c.name}</a>
        {clientName(c) ? <small class="sub">{clientName(c)}</small> : null}
      </>
    ),
  },
  { label: 'Virtual host', sort: 'vhost', render: (c) => c.vhost },
  { label: 'User name', sort: 'user', render: (c) => c.user },
  { label: 'State', sort: 'state', render: (c) => <span class={`state ${c.state}`}>{c.state}</span> },
  { label: 'TLS', sort: 'ssl', render: (c) => (c.ssl ? 'yes' : 'no') },
  { label: 'Protocol', sort: 'protocol', render: (c) => c.protocol },
  { label: 'Channels', sort: 'channels', num: true, render: (c) => num(c.channels) },
  { label: 'From client', sort: 'recv_oct_details.rate', num: true, render: (c) => byteRate(c.recv_oct_details?.rate) },
  { label: 'To client', sort: 'send_oct_details.rate', num: true, render: (c) => byteRate(c.send_oct_details?.rate) },
];

export function ConnectionsPage() {
  const { vhost } = useRefresh();
  const list = usePagedList<ConnectionInfo>(vhost ? `/vhosts/${enc(vhost)}/connections` : '/connections', { key: 'name', reverse: false });
  return (
    <>
      <h1>Connections</h1>
      <PagedTable list={list} label="Connections" columns={columns} rowKey={(c) => c.name} />
    </>
  );
}

export function ConnectionPage(props: { name: string }) {
  const conn = useData(() => get<ConnectionInfo>(`/connections/${enc(props.name)}`), [props.name]);
  const channels = useData(() => get<ChannelInfo[]>(`/connections/${enc(props.name)}/channels`), [props.name]);
  const c = conn.data;
  return (
    <>
      <h1>
        Connection <span class="object-name">{props.name}</span>
      </h1>
      <LoadError error={conn.error} />
      {c ? (
        <>
          <Section title="Overview">
            <Facts rows={connectionFacts(c)} />
          </Section>
          <Section title="Channels">
            <Table label="Channels" columns={channelColumns.filter((col) => col.label !== 'Virtual host' && col.label !== 'User name')} rows={channels.data ?? []} rowKey={(ch) => ch.name} />
          </Section>
          <Section title="Client properties" open={false}>
            <Facts rows={Object.entries(c.client_properties ?? {}).map(([k, v]) => [k, value(v)])} />
          </Section>
          <CloseConnection name={props.name} then={link.connections()} />
        </>
      ) : null}
    </>
  );
}

/** RabbitMQ's "Close this connection" form: a reason (sent as X-Reason), confirmed, then `then` is shown. */
export function CloseConnection(props: { name: string; then: string }) {
  const [reason, setReason] = useState('Closed via management plugin');
  const [message, failed, run] = useAction();
  return (
    <Section title="Close this connection">
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (!window.confirm('Are you sure? This will close the connection.')) return;
          void run(async () => {
            // RabbitMQ takes the reason given to the client from the X-Reason header.
            await request('DELETE', `/connections/${enc(props.name)}`, undefined, undefined, { 'x-reason': reason });
            go(props.then);
          });
        }}
      >
        <TextField label="Reason:" value={reason} onInput={setReason} />
        <button type="submit" class="danger">
          Force Close
        </button>
      </form>
      <Notice message={message} failed={failed} />
    </Section>
  );
}

/** The facts of a connection's Overview section (AMQP and stream connections alike). */
export function connectionFacts(c: ConnectionInfo): [string, string][] {
  return [
    ['Client-provided name', clientName(c)],
    ['Username', c.user],
    ['Virtual host', c.vhost],
    ['State', c.state],
    ['Protocol', c.protocol],
    ['Authentication', c.auth_mechanism],
    ['TLS', c.ssl ? 'yes' : 'no'],
    ['Connected at', time(c.connected_at)],
    ['Client', `${c.peer_host}:${c.peer_port}`],
    ['Server', `${c.host}:${c.port}`],
    ['Heartbeat', `${c.timeout}s`],
    ['Frame max', `${num(c.frame_max)} bytes`],
    ['Channel limit', `${num(c.channel_max)} channels`],
    ['From client', `${byteRate(c.recv_oct_details?.rate)} (${bytes(c.recv_oct)} total)`],
    ['To client', `${byteRate(c.send_oct_details?.rate)} (${bytes(c.send_oct)} total)`],
  ];
}
