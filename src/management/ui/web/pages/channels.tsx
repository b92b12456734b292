/** #/channels and #/channels/<name>: mode (confirm / tx), prefetch, unacked and unconfirmed, rates. */
import { enc, get } from '../api.js';
import { Facts, LoadError, Section, type Column } from '../components.js';
import { num, rate } from '../format.js';
import { useData, useRefresh } from '../hooks.js';
import { usePagedList } from '../paged.js';
import { PagedTable } from '../paged-table.js';
import { link } from '../routes.js';

export interface ChannelInfo {
  name: string;
  number: number;
  user: string;
  vhost: string;
  state: string;
  confirm: boolean;
  transactional: boolean;
  prefetch_count: number;
  global_prefetch_count: number;
  consumer_count: number;
  messages_unacknowledged: number;
  messages_unconfirmed: number;
  messages_uncommitted: number;
  acks_uncommitted: number;
  connection_details: { name: string; peer_host: string; peer_port: number };
  message_stats?: Record<string, number | { rate: number }>;
}

const r = (ch: ChannelInfo, k: string) => (ch.message_stats?.[`${k}_details`] as { rate: number } | undefined)?.rate;

function mode(ch: ChannelInfo): string {
  return [ch.confirm ? 'C' : '', ch.transactional ? 'T' : ''].join('');
}

export const channelColumns: Column<ChannelInfo>[] = [
  { label: 'Channel', sort: 'name', render: (ch) => <a href={link.channel(ch.name)}>{ch.name}</a> },
  { label: 'Virtual host', sort: 'vhost', render: (ch) => ch.vhost },
  { label: 'User name', sort: 'user', render: (ch) => ch.user },
  { label: 'Mode', render: (ch) => <abbr title="C = confirm, T = transactional">{mode(ch)}</abbr> },
  { label: 'State', sort: 'state', render: (ch) => ch.state },
  { label: 'Unconfirmed', sort: 'messages_unconfirmed', num: true, render: (ch) => num(ch.messages_unconfirmed) },
  { label: 'Prefetch', sort: 'prefetch_count', num: true, render: (ch) => (ch.global_prefetch_count ? `${num(ch.prefetch_count)} / ${num(ch.global_prefetch_count)} (global)` : num(ch.prefetch_count)) },
  { label: 'Unacked', sort: 'messages_unacknowledged', num: true, render: (ch) => num(ch.messages_unacknowledged) },
  { label: 'Publish', sort: 'message_stats.publish_details.rate', num: true, render: (ch) => rate(r(ch, 'publish') ?? 0) },
  { label: 'Confirm', sort: 'message_stats.confirm_details.rate', num: true, render: (ch) => rate(r(ch, 'confirm') ?? 0) },
  { label: 'Deliver / get', sort: 'message_stats.deliver_get_details.rate', num: true, render: (ch) => rate(r(ch, 'deliver_get') ?? 0) },
  { label: 'Ack', sort: 'message_stats.ack_details.rate', num: true, render: (ch) => rate(r(ch, 'ack') ?? 0) },
];

export function ChannelsPage() {
  const { vhost } = useRefresh();
  const list = usePagedList<ChannelInfo>(vhost ? `/vhosts/${enc(vhost)}/channels` : '/channels', { key: 'name', reverse: false });
  return (
    <>
      <h1>Channels</h1>
      <PagedTable list={list} label="Channels" columns={channelColumns} rowKey={(ch) => ch.name} />
    </>
  );
}

export function ChannelPage(props: { name: string }) {
  const ch = useData(() => get<ChannelInfo>(`/channels/${enc(props.name)}`), [props.name]);
  const c = ch.data;
  return (
    <>
      <h1>
        Channel <span class="object-name">{props.name}</span>
      </h1>
      <LoadError error={ch.error} />
      {c ? (
        <Section title="Overview">
          <Facts
            rows={[
              ['Connection', <a href={link.connection(c.connection_details.name)}>{c.connection_details.name}</a>],
              ['Username', c.user],
              ['Virtual host', c.vhost],
              ['State', c.state],
              ['Mode', c.confirm ? 'Confirm' : c.transactional ? 'Transactional' : 'Normal'],
              ['Prefetch count', num(c.prefetch_count)],
              ['Global prefetch count', num(c.global_prefetch_count)],
              ['Consumers', num(c.consumer_count)],
              ['Messages unacknowledged', num(c.messages_unacknowledged)],
              ['Messages unconfirmed', num(c.messages_unconfirmed)],
              ['Messages uncommitted', num(c.messages_uncommitted)],
              ['Acks uncommitted', num(c.acks_uncommitted)],
              ['Publish', rate(r(c, 'publish') ?? 0)],
              ['Deliver / get', rate(r(c, 'deliver_get') ?? 0)],
              ['Ack', rate(r(c, 'ack') ?? 0)],
            ]}
          />
        </Section>
      ) : null}
    </>
  );
}
