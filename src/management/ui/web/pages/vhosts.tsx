/** #/vhosts and #/vhosts/<name>: add, delete, permissions, limits. */
import { useState } from 'preact/hooks';
import { del, enc, get, put } from '../api.js';
import { ConfirmButton, Facts, LoadError, Notice, Section, Table, TextField } from '../components.js';
import { byteRate, num, rate } from '../format.js';
import { useAction, useData } from '../hooks.js';
import { go, link } from '../routes.js';
import { AdminTabs } from './admin-tabs.js';
import { VhostLimits } from './policies.js';
import { Permissions } from './permissions.js';

interface VhostInfo {
  name: string;
  description?: string;
  tags?: string[];
  messages?: number;
  messages_ready?: number;
  messages_unacknowledged?: number;
  recv_oct_details?: { rate: number };
  send_oct_details?: { rate: number };
  message_stats?: Record<string, number | { rate: number }>;
  cluster_state?: Record<string, string>;
}

const r = (v: VhostInfo, k: string) => (v.message_stats?.[`${k}_details`] as { rate: number } | undefined)?.rate ?? 0;

export function VhostsPage() {
  const vhosts = useData(() => get<VhostInfo[]>('/vhosts'), []);
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [tags, setTags] = useState('');
  const [message, failed, run] = useAction();
  return (
    <>
      <AdminTabs />
      <h1>Virtual Hosts</h1>
      <LoadError error={vhosts.error} />
      <Table<VhostInfo>
        label="Virtual hosts"
        rows={vhosts.data ?? []}
        rowKey={(v) => v.name}
        columns={[
          { label: 'Name', render: (v) => <a href={link.vhost(v.name)}>{v.name}</a> },
          { label: 'State', render: (v) => Object.values(v.cluster_state ?? {}).join(', ') },
          { label: 'Ready', num: true, render: (v) => num(v.messages_ready) },
          { label: 'Unacked', num: true, render: (v) => num(v.messages_unacknowledged) },
          { label: 'Total', num: true, render: (v) => num(v.messages) },
          { label: 'From client', num: true, render: (v) => byteRate(v.recv_oct_details?.rate) },
          { label: 'To client', num: true, render: (v) => byteRate(v.send_oct_details?.rate) },
          { label: 'publish', num: true, render: (v) => rate(r(v, 'publish')) },
          { label: 'deliver / get', num: true, render: (v) => rate(r(v, 'deliver_get')) },
        ]}
      />
      <Section title="Add a new virtual host" open={false}>
        <form
          onSubmit={(e) => {
            e.preventDefault();
            void run(async () => {
              await put(`/vhosts/${enc(name)}`, { description, tags });
              setName('');
              setDescription('');
              setTags('');
              vhosts.reload();
              return `Virtual host ${name} added.`;
            });
          }}
        >
          <TextField label="Name:" name="name" required value={name} onInput={setName} />
          <TextField label="Description:" value={description} onInput={setDescription} />
          <TextField label="Tags:" value={tags} onInput={setTags} />
          <button type="submit">Add virtual host</button>
        </form>
        <Notice message={message} failed={failed} />
      </Section>
    </>
  );
}

export function VhostPage(props: { name: string }) {
  const vhost = useData(() => get<VhostInfo>(`/vhosts/${enc(props.name)}`), [props.name]);
  const users = useData(() => get<{ name: string }[]>('/users').then((l) => l.map((u) => u.name)), []);
  const [message, failed, run] = useAction();
  const v = vhost.data;
  return (
    <>
      <AdminTabs />
      <h1>
        Virtual Host <span class="object-name">{props.name}</span>
      </h1>
      <LoadError error={vhost.error} />
      {v ? (
        <>
          <Section title="Overview">
            <Facts
              rows={[
                ['Description', v.description ?? ''],
                ['Tags', (v.tags ?? []).join(', ')],
                ['Messages (ready / unacked / total)', `${num(v.messages_ready)} / ${num(v.messages_unacknowledged)} / ${num(v.messages)}`],
              ]}
            />
          </Section>
          <Section title="Permissions">
            <Permissions vhost={props.name} users={users.data ?? []} />
          </Section>
          <Section title="Virtual host limits" open={false}>
            <VhostLimits vhost={props.name} />
          </Section>
          <Section title="Delete this vhost" open={false}>
            <ConfirmButton
              label="Delete this virtual host"
              question={`Delete virtual host ${props.name}? All its queues, exchanges and messages will be lost.`}
              onConfirm={() =>
                void run(async () => {
                  await del(`/vhosts/${enc(props.name)}`);
                  go(link.vhosts());
                })
              }
            />
          </Section>
          <Notice message={message} failed={failed} />
        </>
      ) : null}
    </>
  );
}
