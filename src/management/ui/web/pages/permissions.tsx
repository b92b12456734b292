/** Permissions and topic permissions of a user in vhosts (on the user page and the vhost page). */
import { useState } from 'preact/hooks';
import { del, enc, get, put } from '../api.js';
import { ConfirmButton, Notice, SelectField, Table, TextField } from '../components.js';
import { useAction, useData } from '../hooks.js';
import { link } from '../routes.js';
import { useVhostNames } from './exchanges.js';

interface Permission {
  user: string;
  vhost: string;
  configure: string;
  write: string;
  read: string;
}

interface TopicPermission {
  user: string;
  vhost: string;
  exchange: string;
  write: string;
  read: string;
}

/** `of`: whose permissions are listed ({user} on a user's page, {vhost} on a vhost's page). */
export function Permissions(props: { user?: string; vhost?: string; users?: string[] }) {
  const base = props.user !== undefined ? `/users/${enc(props.user)}` : `/vhosts/${enc(props.vhost ?? '')}`;
  const perms = useData(() => get<Permission[]>(`${base}/permissions`), [base]);
  const topics = useData(() => get<TopicPermission[]>(`${base}/topic-permissions`), [base]);
  const vhosts = useVhostNames();
  const [message, failed, run] = useAction();
  const [vhost, setVhost] = useState(props.vhost ?? '/');
  const [user, setUser] = useState(props.user ?? '');
  const [configure, setConfigure] = useState('.*');
  const [write, setWrite] = useState('.*');
  const [read, setRead] = useState('.*');
  const [exchange, setExchange] = useState('');
  const [twrite, setTwrite] = useState('.*');
  const [tread, setTread] = useState('.*');
  const who = (p: { user: string; vhost: string }) => `/${enc(p.vhost)}/${enc(p.user)}`;
  const otherColumn = props.user !== undefined
    ? { label: 'Virtual host', render: (p: { vhost: string }) => <a href={link.vhost(p.vhost)}>{p.vhost}</a> }
    : { label: 'User', render: (p: { user: string }) => <a href={link.user(p.user)}>{p.user}</a> };
  const chooser = props.user !== undefined
    ? <SelectField label="Virtual Host:" value={vhost} options={vhosts.length ? vhosts : [vhost]} onChange={setVhost} />
    : props.users && props.users.length > 0
      ? <SelectField label="User:" value={user || props.users[0]!} options={props.users} onChange={setUser} />
      : <TextField label="User:" value={user} onInput={setUser} required />;
  const target = () => ({ vhost: props.vhost ?? vhost, user: props.user ?? (user || props.users?.[0] || '') });
  return (
    <>
      <h3>Permissions</h3>
      <Table<Permission>
        label="Permissions"
        empty="... no permissions ..."
        rows={perms.data ?? []}
        rowKey={(p) => `${p.vhost}|${p.user}`}
        columns={[
          otherColumn,
          { label: 'Configure regexp', render: (p) => p.configure },
          { label: 'Write regexp', render: (p) => p.write },
          { label: 'Read regexp', render: (p) => p.read },
          {
            label: 'Action',
            render: (p) => (
              <ConfirmButton label="Clear" question="Clear these permissions?" onConfirm={() => void run(async () => { await del(`/permissions${who(p)}`); perms.reload(); })} />
            ),
          },
        ]}
      />
      <h3>Set permission</h3>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void run(async () => {
            await put(`/permissions${who(target())}`, { configure, write, read });
            perms.reload();
            return 'Permission set.';
          });
        }}
      >
        {chooser}
        <TextField label="Configure regexp:" value={configure} onInput={setConfigure} />
        <TextField label="Write regexp:" value={write} onInput={setWrite} />
        <TextField label="Read regexp:" value={read} onInput={setRead} />
        <button type="submit">Set permission</button>
      </form>
      <h3>Topic permissions</h3>
      <Table<TopicPermission>
        label="Topic permissions"
        empty="... no topic permissions ..."
        rows={topics.data ?? []}
        rowKey={(p) => `${p.vhost}|${p.user}|${p.exchange}`}
        columns={[
          otherColumn,
          { label: 'Exchange', render: (p) => p.exchange },
          { label: 'Write regexp', render: (p) => p.write },
          { label: 'Read regexp', render: (p) => p.read },
          {
            label: 'Action',
            render: (p) => (
              <ConfirmButton
                label="Clear"
                question="Clear these topic permissions?"
                onConfirm={() => void run(async () => { await del(`/topic-permissions${who(p)}`, { exchange: p.exchange }); topics.reload(); })}
              />
            ),
          },
        ]}
      />
      <h3>Set topic permission</h3>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void run(async () => {
            await put(`/topic-permissions${who(target())}`, { exchange, write: twrite, read: tread });
            topics.reload();
            return 'Topic permission set.';
          });
        }}
      >
        {chooser}
        <TextField label="Exchange:" value={exchange} onInput={setExchange} required />
        <TextField label="Topic write regexp:" value={twrite} onInput={setTwrite} />
        <TextField label="Topic read regexp:" value={tread} onInput={setTread} />
        <button type="submit">Set topic permission</button>
      </form>
      <Notice message={message} failed={failed} />
    </>
  );
}
