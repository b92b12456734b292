/**
 * #/policies (user policies and operator policies) and #/limits (virtual host limits), built on
 * RabbitMQ's API: /api/policies, /api/operator-policies, /api/vhost-limits.
 */
import { useState } from 'preact/hooks';
import { del, enc, get, put } from '../api.js';
import { ConfirmButton, KeyValueEditor, LoadError, Notice, Section, SelectField, Table, TextField, rowsToObject, type KeyValueRow } from '../components.js';
import { num, value } from '../format.js';
import { useAction, useData } from '../hooks.js';
import { useSession } from '../session.js';
import { AdminTabs } from './admin-tabs.js';
import { useVhostNames } from './exchanges.js';

interface PolicyInfo {
  vhost: string;
  name: string;
  pattern: string;
  'apply-to': string;
  definition: Record<string, unknown>;
  priority: number;
}

const APPLY_TO = [
  { value: 'all', label: 'Exchanges and queues' },
  { value: 'exchanges', label: 'Exchanges' },
  { value: 'queues', label: 'Queues' },
];

function PolicyList(props: { kind: 'policies' | 'operator-policies'; title: string; addTitle: string; button: string; canEdit: boolean }) {
  const list = useData(() => get<PolicyInfo[]>(`/${props.kind}`), [props.kind]);
  const vhosts = useVhostNames();
  const [vhost, setVhost] = useState('/');
  const [name, setName] = useState('');
  const [pattern, setPattern] = useState('');
  const [applyTo, setApplyTo] = useState('all');
  const [priority, setPriority] = useState('0');
  const [definition, setDefinition] = useState<KeyValueRow[]>([]);
  const [message, failed, run] = useAction();
  return (
    <>
      <Section title={props.title}>
        <LoadError error={list.error} />
        <Table<PolicyInfo>
          label={props.title}
          empty="... no policies ..."
          rows={list.data ?? []}
          rowKey={(p) => `${p.vhost}|${p.name}`}
          columns={[
            { label: 'Virtual Host', render: (p) => p.vhost },
            { label: 'Name', render: (p) => p.name },
            { label: 'Pattern', render: (p) => p.pattern },
            { label: 'Apply to', render: (p) => p['apply-to'] },
            { label: 'Definition', render: (p) => value(p.definition) },
            { label: 'Priority', num: true, render: (p) => num(p.priority) },
            ...(props.canEdit
              ? [
                  {
                    label: 'Action',
                    render: (p: PolicyInfo) => (
                      <ConfirmButton
                        label="Delete"
                        question={`Delete policy ${p.name}?`}
                        onConfirm={() => void run(async () => { await del(`/${props.kind}/${enc(p.vhost)}/${enc(p.name)}`); list.reload(); })}
                      />
                    ),
                  },
                ]
              : []),
          ]}
        />
      </Section>
      {props.canEdit ? (
        <Section title={props.addTitle} open={false}>
          <form
            onSubmit={(e) => {
              e.preventDefault();
              void run(async () => {
                await put(`/${props.kind}/${enc(vhost)}/${enc(name)}`, { pattern, 'apply-to': applyTo, priority: Number(priority), definition: rowsToObject(definition) });
                list.reload();
                return `Policy ${name} set.`;
              });
            }}
          >
            <SelectField label="Virtual host:" value={vhost} options={vhosts.length ? vhosts : [vhost]} onChange={setVhost} />
            <TextField label="Name:" required value={name} onInput={setName} />
            <TextField label="Pattern:" required value={pattern} onInput={setPattern} placeholder="^amq\." />
            <SelectField label="Apply to:" value={applyTo} options={APPLY_TO} onChange={setApplyTo} />
            <TextField label="Priority:" type="number" value={priority} onInput={setPriority} />
            <KeyValueEditor label="Definition:" rows={definition} onChange={setDefinition} hint="e.g. max-length (Number), message-ttl (Number), dead-letter-exchange (String), overflow (String)" />
            <button type="submit">{props.button}</button>
          </form>
        </Section>
      ) : null}
      <Notice message={message} failed={failed} />
    </>
  );
}

export function PoliciesPage() {
  const session = useSession();
  return (
    <>
      <AdminTabs />
      <h1>Policies</h1>
      <PolicyList kind="policies" title="User policies" addTitle="Add / update a policy" button="Add / update policy" canEdit={session.isPolicymaker} />
      <PolicyList kind="operator-policies" title="Operator policies" addTitle="Add / update an operator policy" button="Add / update operator policy" canEdit={session.isAdmin} />
    </>
  );
}

interface LimitInfo {
  vhost: string;
  value: Record<string, number>;
}

const LIMITS = ['max-connections', 'max-queues'];

/** One vhost's limits (on its page), or all of them (on #/limits). */
export function VhostLimits(props: { vhost?: string }) {
  const path = props.vhost === undefined ? '/vhost-limits' : `/vhost-limits/${enc(props.vhost)}`;
  const list = useData(() => get<LimitInfo[]>(path), [path]);
  const vhosts = useVhostNames();
  const [vhost, setVhost] = useState(props.vhost ?? '/');
  const [limit, setLimit] = useState(LIMITS[0]!);
  const [amount, setAmount] = useState('');
  const [message, failed, run] = useAction();
  const rows = (list.data ?? []).flatMap((l) => Object.entries(l.value).map(([k, v]) => ({ vhost: l.vhost, limit: k, value: v })));
  return (
    <>
      <LoadError error={list.error} />
      <Table
        label="Virtual host limits"
        empty="... no limits ..."
        rows={rows}
        rowKey={(r) => `${r.vhost}|${r.limit}`}
        columns={[
          { label: 'Virtual host', render: (r) => r.vhost },
          { label: 'Limit', render: (r) => r.limit },
          { label: 'Value', num: true, render: (r) => num(r.value) },
          {
            label: 'Action',
            render: (r) => (
              <ConfirmButton label="Clear" question={`Clear ${r.limit} of ${r.vhost}?`} onConfirm={() => void run(async () => { await del(`/vhost-limits/${enc(r.vhost)}/${r.limit}`); list.reload(); })} />
            ),
          },
        ]}
      />
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void run(async () => {
            await put(`/vhost-limits/${enc(props.vhost ?? vhost)}/${limit}`, { value: Number(amount) });
            list.reload();
            return 'Limit set.';
          });
        }}
      >
        {props.vhost === undefined ? <SelectField label="Virtual host:" value={vhost} options={vhosts.length ? vhosts : [vhost]} onChange={setVhost} /> : null}
        <SelectField label="Limit:" value={limit} options={LIMITS} onChange={setLimit} />
        <TextField label="Value:" type="number" required value={amount} onInput={setAmount} />
        <button type="submit">Set / update limit</button>
      </form>
      <Notice message={message} failed={failed} />
    </>
  );
}

export function LimitsPage() {
  return (
    <>
      <AdminTabs />
      <h1>Limits</h1>
      <Section title="Virtual Host Limits">
        <VhostLimits />
      </Section>
    </>
  );
}
