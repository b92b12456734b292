/**
 * #/queues: type, features, state, counts and rates; filter (substring or regex), sort and paging
 * done by the broker, 100 a page as RabbitMQ; "Add a new queue".
 */
import { useState } from 'preact/hooks';
import { enc, put } from '../api.js';
import { KeyValueEditor, Notice, Section, SelectField, TextField, rowsToObject, type Column, type KeyValueRow } from '../components.js';
import { duration, num, rate } from '../format.js';
import { useAction, useRefresh } from '../hooks.js';
import { usePagedList } from '../paged.js';
import { PagedTable } from '../paged-table.js';
import { link } from '../routes.js';
import { Features, useVhostNames } from './exchanges.js';

export interface QueueInfo {
  name: string;
  vhost: string;
  type: string;
  state: string;
  durable: boolean;
  auto_delete: boolean;
  exclusive: boolean;
  arguments: Record<string, unknown>;
  policy: string | null;
  operator_policy?: string | null;
  consumers: number;
  messages?: number;
  messages_ready?: number;
  messages_unacknowledged?: number;
  message_stats?: Record<string, number | { rate: number }>;
  /** Warren's: null when nothing is ready / outstanding, and for streams. */
  oldest_ready_message_age_ms?: number | null;
  oldest_unacked_delivery_age_ms?: number | null;
  redelivered_total?: number;
  requeued_total?: number;
}

/** An age in ms as people read it ("3m 12s"); empty when there is none. */
export function age(ms: number | null | undefined): string {
  if (typeof ms !== 'number') return '';
  return ms < 1000 ? `${ms} ms` : duration(ms);
}

const AGES_KEY = 'warren-queue-ages';

const ARGUMENT_FEATURES: [string, string][] = [
  ['x-message-ttl', 'TTL'],
  ['x-expires', 'Exp'],
  ['x-max-length', 'Lim'],
  ['x-max-length-bytes', 'Lim B'],
  ['x-dead-letter-exchange', 'DLX'],
  ['x-dead-letter-routing-key', 'DLK'],
  ['x-max-priority', 'Pri'],
  ['x-single-active-consumer', 'SAC'],
];

export function queueFeatures(q: QueueInfo): string[] {
  const f: string[] = [];
  if (q.durable) f.push('D');
  if (q.auto_delete) f.push('AD');
  if (q.exclusive) f.push('Excl');
  for (const [arg, label] of ARGUMENT_FEATURES) if (q.arguments?.[arg] !== undefined) f.push(label);
  return f;
}

const AGE_COLUMNS: Column<QueueInfo>[] = [
  { label: 'Oldest ready', sort: 'oldest_ready_message_age_ms', num: true, render: (q) => age(q.oldest_ready_message_age_ms) },
  { label: 'Oldest unacked', sort: 'oldest_unacked_delivery_age_ms', num: true, render: (q) => age(q.oldest_unacked_delivery_age_ms) },
  { label: 'Redelivered', sort: 'redelivered_total', num: true, render: (q) => num(q.redelivered_total) },
  { label: 'Requeued', sort: 'requeued_total', num: true, render: (q) => num(q.requeued_total) },
];

export const queueRate = (q: QueueInfo, k: string) => (q.message_stats?.[`${k}_details`] as { rate: number } | undefined)?.rate ?? 0;

export function QueuesPage() {
  const { vhost } = useRefresh();
  // A column option, off by default as RabbitMQ's list is: the waiting times and redeliveries.
  const [showAges, setShowAges] = useState(() => localStorage.getItem(AGES_KEY) === 'true');
  const toggleAges = (on: boolean) => {
    localStorage.setItem(AGES_KEY, String(on));
    setShowAges(on);
  };
  const list = usePagedList<QueueInfo>(vhost ? `/queues/${enc(vhost)}` : '/queues', { key: 'name', reverse: false });
  const columns: Column<QueueInfo>[] = [
    ...(vhost ? [] : [{ label: 'Virtual host', sort: 'vhost', render: (q: QueueInfo) => q.vhost }]),
    { label: 'Name', sort: 'name', render: (q) => <a href={link.queue(q.vhost, q.name)}>{q.name}</a> },
    { label: 'Type', sort: 'type', render: (q) => q.type },
    { label: 'Features', render: (q) => <Features list={queueFeatures(q)} policy={q.policy ?? q.operator_policy} /> },
    { label: 'State', sort: 'state', render: (q) => <span class={`state ${q.state}`}>{q.state}</span> },
    { label: 'Ready', sort: 'messages_ready', num: true, render: (q) => num(q.messages_ready) },
    { label: 'Unacked', sort: 'messages_unacknowledged', num: true, render: (q) => num(q.messages_unacknowledged) },
    { label: 'Total', sort: 'messages', num: true, render: (q) => num(q.messages) },
    { label: 'incoming', sort: 'message_stats.publish_details.rate', num: true, render: (q) => rate(queueRate(q, 'publish')) },
    { label: 'deliver / get', sort: 'message_stats.deliver_get_details.rate', num: true, render: (q) => rate(queueRate(q, 'deliver_get')) },
    { label: 'ack', sort: 'message_stats.ack_details.rate', num: true, render: (q) => rate(queueRate(q, 'ack')) },
    ...(showAges ? AGE_COLUMNS : []),
  ];
  return (
    <>
      <h1>Queues</h1>
      <label class="column-option">
        <input type="checkbox" checked={showAges} onChange={(e) => toggleAges(e.currentTarget.checked)} /> Show message ages and redeliveries
      </label>
      <PagedTable list={list} label="Queues" columns={columns} rowKey={(q) => `${q.vhost}/${q.name}`} />
      <Section title="Add a new queue" open={false}>
        <AddQueue onAdded={list.reload} />
      </Section>
    </>
  );
}

function AddQueue(props: { onAdded: () => void }) {
  const vhosts = useVhostNames();
  const { vhost: current } = useRefresh();
  const [vhost, setVhost] = useState(current || '/');
  const [name, setName] = useState('');
  const [durable, setDurable] = useState('true');
  const [autoDelete, setAutoDelete] = useState('false');
  const [args, setArgs] = useState<KeyValueRow[]>([]);
  const [message, failed, run] = useAction();
  const submit = (e: Event) => {
    e.preventDefault();
    void run(async () => {
      await put(`/queues/${enc(vhost)}/${enc(name)}`, { durable: durable === 'true', auto_delete: autoDelete === 'true', arguments: rowsToObject(args) });
      setName('');
      setArgs([]);
      props.onAdded();
      return `Queue ${name} added.`;
    });
  };
  return (
    <form onSubmit={submit}>
      <SelectField label="Type:" value="classic" options={[{ value: 'classic', label: 'Classic' }]} onChange={() => {}} />
      <SelectField label="Virtual host:" value={vhost} options={vhosts.length ? vhosts : [vhost]} onChange={setVhost} />
      <TextField label="Name:" name="name" required value={name} onInput={setName} />
      <SelectField label="Durability:" value={durable} options={[{ value: 'true', label: 'Durable' }, { value: 'false', label: 'Transient' }]} onChange={setDurable} />
      <SelectField label="Auto delete:" value={autoDelete} options={[{ value: 'false', label: 'No' }, { value: 'true', label: 'Yes' }]} onChange={setAutoDelete} />
      <KeyValueEditor
        label="Arguments:"
        rows={args}
        onChange={setArgs}
        hint="x-message-ttl, x-expires, x-max-length, x-max-length-bytes, x-overflow, x-dead-letter-exchange, x-dead-letter-routing-key, x-max-priority, x-single-active-consumer"
      />
      <button type="submit">Add queue</button>
      <Notice message={message} failed={failed} />
    </form>
  );
}
