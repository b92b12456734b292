/** #/users and #/users/<name>: add, tags, password, delete, permissions (administrators only). */
import { useState } from 'preact/hooks';
import { del, enc, get, put } from '../api.js';
import { ConfirmButton, Facts, LoadError, Notice, Section, Table, TextField } from '../components.js';
import { useAction, useData } from '../hooks.js';
import { go, link } from '../routes.js';
import { AdminTabs } from './admin-tabs.js';
import { Permissions } from './permissions.js';

interface UserInfo {
  name: string;
  tags: string[] | string;
  password_hash: string;
}

interface PermissionInfo {
  user: string;
  vhost: string;
}

export const tagList = (u: UserInfo) => (Array.isArray(u.tags) ? u.tags : u.tags.split(',').filter(Boolean));

const TAGS = ['administrator', 'monitoring', 'policymaker', 'management', 'impersonator'];

function TagsField(props: { value: string; onInput: (v: string) => void }) {
  return (
    <>
      <TextField label="Tags:" name="tags" value={props.value} onInput={props.onInput} aria-describedby="tag-help" />
      <p class="hint" id="tag-help">
        Set:{' '}
        {TAGS.map((t) => (
          <button type="button" class="link" key={t} onClick={() => props.onInput(props.value ? `${props.value}, ${t}` : t)}>
            {t}
          </button>
        ))}{' '}
        A user needs one of these tags to use the management UI.
      </p>
    </>
  );
}

export function UsersPage() {
  const users = useData(() => get<UserInfo[]>('/users'), []);
  const perms = useData(() => get<PermissionInfo[]>('/permissions'), []);
  const [name, setName] = useState('');
  const [password, setPassword] = useState('');
  const [tags, setTags] = useState('');
  const [message, failed, run] = useAction();
  const vhostsOf = (u: string) => (perms.data ?? []).filter((p) => p.user === u).map((p) => p.vhost).join(', ') || 'No access';
  return (
    <>
      <AdminTabs />
      <h1>Users</h1>
      <LoadError error={users.error} />
      <Table<UserInfo>
        label="Users"
        rows={users.data ?? []}
        rowKey={(u) => u.name}
        columns={[
          { label: 'Name', render: (u) => <a href={link.user(u.name)}>{u.name}</a> },
          { label: 'Tags', render: (u) => tagList(u).join(', ') },
          { label: 'Can access virtual hosts', render: (u) => vhostsOf(u.name) },
          { label: 'Has password', render: (u) => (u.password_hash ? '●' : '○') },
        ]}
      />
      <Section title="Add a user" open={false}>
        <form
          onSubmit={(e) => {
            e.preventDefault();
            void run(async () => {
              await put(`/users/${enc(name)}`, { password, tags });
              setName('');
              setPassword('');
              setTags('');
              users.reload();
              return `User ${name} added.`;
            });
          }}
        >
          <TextField label="Username:" name="username" required value={name} onInput={setName} autocomplete="off" />
          <TextField label="Password:" name="password" type="password" required value={password} onInput={setPassword} autocomplete="new-password" />
          <TagsField value={tags} onInput={setTags} />
          <button type="submit">Add user</button>
        </form>
        <Notice message={message} failed={failed} />
      </Section>
    </>
  );
}

export function UserPage(props: { name: string }) {
  const user = useData(() => get<UserInfo>(`/users/${enc(props.name)}`), [props.name]);
  const [password, setPassword] = useState('');
  const [tags, setTags] = useState<string | undefined>(undefined);
  const [message, failed, run] = useAction();
  const u = user.data;
  const currentTags = u ? tagList(u).join(', ') : '';
  return (
    <>
      <AdminTabs />
      <h1>
        User <span class="object-name">{props.name}</span>
      </h1>
      <LoadError error={user.error} />
      {u ? (
        <>
          <Section title="Overview">
            <Facts rows={[['Tags', currentTags], ['Can log in with password', u.password_hash ? '●' : '○']]} />
          </Section>
          <Section title="Permissions">
            <Permissions user={props.name} />
          </Section>
          <Section title="Update this user" open={false}>
            <form
              onSubmit={(e) => {
                e.preventDefault();
                void run(async () => {
                  const body: Record<string, unknown> = { tags: tags ?? currentTags };
                  if (password !== '') body['password'] = password;
                  else body['password_hash'] = u.password_hash;
                  await put(`/users/${enc(props.name)}`, body);
                  setPassword('');
                  user.reload();
                  return 'User updated.';
                });
              }}
            >
              <TextField label="Password:" type="password" value={password} onInput={setPassword} autocomplete="new-password" placeholder="(unchanged)" />
              <TagsField value={tags ?? currentTags} onInput={setTags} />
              <button type="submit">Update user</button>
            </form>
          </Section>
          <Section title="Delete this user" open={false}>
            <ConfirmButton
              label="Delete"
              question={`Delete user ${props.name}?`}
              onConfirm={() =>
                void run(async () => {
                  await del(`/users/${enc(props.name)}`);
                  go(link.users());
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
