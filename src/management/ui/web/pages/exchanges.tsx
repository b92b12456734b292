/** #/exchanges: list (filter, sort, paging) and "Add a new exchange". */
import { useState } from 'preact/hooks';
import { enc, get, put } from '../api.js';
import { KeyValueEditor, Notice, Section, SelectField, TextField, rowsToObject, type Column, type KeyValueRow } from '../components.js';
import { rate } from '../format.js';
import { useAction, useData, useRefresh } from '../hooks.js';
import { usePagedList } from '../paged.js';
import { PagedTable } from '../paged-table.js';
import { link } from '../routes.js';
import { exchangeLabel, exchangePath } from './shared.js';

export interface ExchangeInfo {
  name: string;
  vhost: string;
  type: string;
  durable: boolean;
  auto_delete: boolean;
  internal: boolean;
  arguments: Record<string, unknown>;
  policy?: string | null;
  message_stats?: Record<string, number | { rate: number }>;
}

export function exchangeFeatures(x: ExchangeInfo): string[] {
  const f: string[] = [];
  if (x.durable) f.push('D');
  if (x.auto_delete) f.push('AD');
  if (x.internal) f.push('I');
  if (x.arguments?.['alternate-exchange'] !== undefined) f.push('AE');
  return f;
}

const rateOf = (x: ExchangeInfo, k: string) => (x.message_stats?.[`${k}_details`] as { rate: number } | undefined)?.rate ?? 0;

export function ExchangesPage() {
  const { vhost } = useRefresh();
  const list = usePagedList<ExchangeInfo>(vhost ? `/exchanges/${enc(vhost)}` : '/exchanges', { key: 'name', reverse: false });
  const columns: Column<ExchangeInfo>[] = [
    ...(vhost ? [] : [{ label: 'Virtual host', sort: 'vhost', render: (x: ExchangeInfo) => x.vhost }]),
    { label: 'Name', sort: 'name', render: (x) => <a href={link.exchange(x.vhost, exchangePath(x.name))}>{exchangeLabel(x.name)}</a> },
    { label: 'Type', sort: 'type', render: (x) => x.type },
    { label: 'Features', render: (x) => <Features list={exchangeFeatures(x)} policy={x.policy} /> },
    { label: 'Message rate in', num: true, sort: 'message_stats.publish_in_details.rate', render: (x) => rate(rateOf(x, 'publish_in')) },
    { label: 'Message rate out', num: true, sort: 'message_stats.publish_out_details.rate', render: (x) => rate(rateOf(x, 'publish_out')) },
  ];
  return (
    <>
      <h1>Exchanges</h1>
      <PagedTable list={list} label="Exchanges" columns={columns} rowKey={(x) => `${x.vhost}/${x.name}`} />
      <Section title="Add a new exchange" open={false}>
        <AddExchange onAdded={list.reload} />
      </Section>
    </>
  );
}

export function Features(props: { list: string[]; policy?: string | null | undefined }) {
  return (
    <span class="features">
      {props.list.map((f) => (
        <abbr key={f} title={FEATURE_TITLES[f] ?? f} class="feature">
          {f}
        </abbr>
      ))}
      {props.policy ? <span class="policy">{props.policy}</span> : null}
    </span>
  );
}

const FEATURE_TITLES: Record<string, string> = {
  D: 'durable',
  AD: 'auto-delete',
  I: 'internal',
  AE: 'alternate exchange',
  Excl: 'exclusive',
  TTL: 'message TTL',
  Exp: 'queue expiry (x-expires)',
  Lim: 'max length',
  'Lim B': 'max length in bytes',
  DLX: 'dead letter exchange',
  DLK: 'dead letter routing key',
  Pri: 'max priority',
  SAC: 'single active consumer',
  Args: 'other arguments',
};

export function useVhostNames(): string[] {
  return useData(() => get<{ name: string }[]>('/vhosts?columns=name').then((l) => l.map((v) => v.name)), []).data ?? [];
}

function AddExchange(props: { onAdded: () => void }) {
  const vhosts = useVhostNames();
  const { vhost: current } = useRefresh();
  const [vhost, setVhost] = useState(current || '/');
  const [name, setName] = useState('');
  const [type, setType] = useState('direct');
  const [durable, setDurable] = useState('true');
  const [autoDelete, setAutoDelete] = useState('false');
  const [internal, setInternal] = useState('false');
  const [args, setArgs] = useState<KeyValueRow[]>([]);
  const [message, failed, run] = useAction();
  const submit = (e: Event) => {
    e.preventDefault();
    void run(async () => {
      await put(`/exchanges/${enc(vhost)}/${enc(name)}`, {
        type,
        durable: durable === 'true',
        auto_delete: autoDelete === 'true',
        internal: internal === 'true',
        arguments: rowsToObject(args),
      });
      setName('');
      setArgs([]);
      props.onAdded();
      return `Exchange ${name} added.`;
    });
  };
  return (
    <form onSubmit={submit}>
      <SelectField label="Virtual host:" value={vhost} options={vhosts.length ? vhosts : [vhost]} onChange={setVhost} />
      <TextField label="Name:" name="name" required value={name} onInput={setName} />
      <SelectField label="Type:" value={type} options={['direct', 'fanout', 'headers', 'topic']} onChange={setType} />
      <SelectField label="Durability:" value={durable} options={[{ value: 'true', label: 'Durable' }, { value: 'false', label: 'Transient' }]} onChange={setDurable} />
      <SelectField label="Auto delete:" value={autoDelete} options={[{ value: 'false', label: 'No' }, { value: 'true', label: 'Yes' }]} onChange={setAutoDelete} />
      <SelectField label="Internal:" value={internal} options={[{ value: 'false', label: 'No' }, { value: 'true', label: 'Yes' }]} onChange={setInternal} />
      <KeyValueEditor label="Arguments:" rows={args} onChange={setArgs} hint="Add alternate-exchange to route unroutable messages elsewhere." />
      <button type="submit">Add exchange</button>
      <Notice message={message} failed={failed} />
    </form>
  );
}
