/**
 * The management UI's shell: login, the header (tabs, refresh interval, vhost, theme, logout) and
 * the hash router. Pages live in ./pages, one file per RabbitMQ route.
 */
import 'uplot/dist/uPlot.min.css';
import './style.css';
import { render } from 'preact';
import { useCallback, useEffect, useMemo, useState } from 'preact/hooks';
import { ApiError, basicAuth, get, hasCredentials, request, setCredentials, whenLoggedOut } from './api.js';
import { SelectField, TextField } from './components.js';
import { time } from './format.js';
import { RefreshContext, type Refresh } from './hooks.js';
import { parseHash, type Route } from './routes.js';
import { PageFor } from './pages/index.js';
import { SessionContext, type Session } from './session.js';

function Login(props: { onLogin: (s: Session) => void }) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | undefined>(undefined);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    const auth = basicAuth(username, password);
    try {
      const who = await request<{ name: string; tags: string[] | string }>('GET', '/whoami', undefined, auth);
      setCredentials(auth);
      setError(undefined);
      setPassword('');
      props.onLogin(sessionOf(who));
    } catch (err) {
      setError(err instanceof ApiError ? err.message : 'Login failed');
    } finally {
      setBusy(false);
    }
  };
  return (
    <main id="login">
      <h1 class="brand">Warren</h1>
      <form onSubmit={submit}>
        {error ? (
          <p class="notice error" role="alert">
            {error}
          </p>
        ) : null}
        <TextField label="Username:" name="username" autocomplete="username" required value={username} onInput={setUsername} />
        <TextField label="Password:" name="password" type="password" autocomplete="current-password" required value={password} onInput={setPassword} />
        <button type="submit" disabled={busy}>
          Login
        </button>
      </form>
    </main>
  );
}

function sessionOf(who: { name: string; tags: string[] | string }): Session {
  const tags = Array.isArray(who.tags) ? who.tags : who.tags.split(',').filter(Boolean);
  return { user: who.name, tags, isAdmin: tags.includes('administrator'), isMonitor: tags.includes('administrator') || tags.includes('monitoring'), isPolicymaker: tags.includes('administrator') || tags.includes('policymaker') };
}

/** The tabs; Admin only for the tags that can use some of it (as RabbitMQ shows it). */
function tabsFor(session: Session): [string, string, string[]][] {
  const tabs: [string, string, string[]][] = [
    ['Overview', '#/', ['']],
    ['Connections', '#/connections', ['connections']],
    ['Channels', '#/channels', ['channels']],
    ['Exchanges', '#/exchanges', ['exchanges']],
    ['Queues', '#/queues', ['queues']],
  ];
  if (session.isAdmin) tabs.push(['Admin', '#/users', ['users', 'vhosts', 'policies', 'limits']]);
  else if (session.isPolicymaker) tabs.push(['Admin', '#/policies', ['policies']]);
  // rabbitmq_stream_management's tab, for monitoring and administrator users, after Admin as RabbitMQ adds it.
  if (session.isMonitor) tabs.push(['Stream', '#/stream/connections', ['stream']]);
  return tabs;
}

const INTERVALS = [
  { value: '5000', label: 'Refresh every 5 seconds' },
  { value: '10000', label: 'Refresh every 10 seconds' },
  { value: '30000', label: 'Refresh every 30 seconds' },
  { value: '', label: 'Do not refresh' },
];

type Theme = 'auto' | 'light' | 'dark';

const systemDark = window.matchMedia('(prefers-color-scheme: dark)');
let chosenTheme: Theme = (localStorage.getItem('warren-theme') as Theme | null) ?? 'auto';

/** `auto` follows the system, also when it changes while the page is open. */
function applyTheme(t: Theme): void {
  chosenTheme = t;
  document.documentElement.dataset['theme'] = t === 'auto' ? (systemDark.matches ? 'dark' : 'light') : t;
}
systemDark.addEventListener('change', () => applyTheme(chosenTheme));
applyTheme(chosenTheme);

function Shell(props: { session: Session; onLogout: () => void }) {
  const [route, setRoute] = useState<Route>(() => parseHash(location.hash));
  const [interval, setIntervalMs] = useState(() => localStorage.getItem('warren-refresh') ?? '5000');
  const [tick, setTick] = useState(0);
  const [refreshedAt, setRefreshedAt] = useState<Date | undefined>(undefined);
  const [vhost, setVhost] = useState(() => localStorage.getItem('warren-vhost') ?? '');
  const [vhosts, setVhosts] = useState<string[]>([]);
  const [theme, setTheme] = useState<Theme>(() => (localStorage.getItem('warren-theme') as Theme | null) ?? 'auto');

  useEffect(() => {
    const onHash = () => setRoute(parseHash(location.hash));
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  }, []);
  useEffect(() => {
    if (interval === '') return;
    const t = setInterval(() => setTick((n) => n + 1), Number(interval));
    return () => clearInterval(t);
  }, [interval]);
  useEffect(() => {
    get<{ name: string }[]>('/vhosts?columns=name').then(
      (list) => setVhosts(list.map((v) => v.name)),
      () => setVhosts([]),
    );
  }, [tick]);
  useEffect(() => applyTheme(theme), [theme]);

  const refreshed = useCallback(() => setRefreshedAt(new Date()), []);
  const refresh: Refresh = useMemo(() => ({ tick, vhost, refreshed }), [tick, vhost, refreshed]);
  const tabs = tabsFor(props.session);
  const current = tabs.find(([, , pages]) => pages.includes(route.page))?.[0];
  const vhostOptions = [{ value: '', label: 'All' }, ...vhosts.map((v) => ({ value: v, label: v }))];
  if (vhost !== '' && vhosts.length > 0 && !vhosts.includes(vhost)) vhostOptions.push({ value: vhost, label: vhost });

  return (
    <SessionContext.Provider value={props.session}>
      <RefreshContext.Provider value={refresh}>
        <header id="header">
          <a class="brand" href="#/">
            Warren
          </a>
          <nav aria-label="Main">
            <ul class="tabs">
              {tabs.map(([label, href]) => (
                <li key={label}>
                  <a href={href} aria-current={label === current ? 'page' : undefined}>
                    {label}
                  </a>
                </li>
              ))}
            </ul>
          </nav>
          <div class="top-controls">
            <span class="refreshed" role="status">
              {refreshedAt ? `Refreshed ${time(refreshedAt)}` : ''}
            </span>
            <SelectField
              label="Refresh interval"
              value={interval}
              options={INTERVALS}
              onChange={(v) => {
                localStorage.setItem('warren-refresh', v);
                setIntervalMs(v);
              }}
            />
            <SelectField
              label="Virtual host"
              value={vhost}
              options={vhostOptions}
              onChange={(v) => {
                localStorage.setItem('warren-vhost', v);
                setVhost(v);
              }}
            />
            <SelectField
              label="Theme"
              value={theme}
              options={[
                { value: 'auto', label: 'System' },
                { value: 'light', label: 'Light' },
                { value: 'dark', label: 'Dark' },
              ]}
              onChange={(v) => {
                localStorage.setItem('warren-theme', v);
                setTheme(v as Theme);
              }}
            />
            <span class="user">User {props.session.user}</span>
            <button type="button" onClick={props.onLogout}>
              Log out
            </button>
          </div>
        </header>
        <main id="main">
          <PageFor route={route} />
        </main>
      </RefreshContext.Provider>
    </SessionContext.Provider>
  );
}

function App() {
  const [session, setSession] = useState<Session | undefined>(undefined);
  const [checking, setChecking] = useState(hasCredentials());
  useEffect(() => {
    whenLoggedOut(() => setSession(undefined));
    if (!hasCredentials()) return;
    get<{ name: string; tags: string[] | string }>('/whoami').then(
      (who) => {
        setSession(sessionOf(who));
        setChecking(false);
      },
      () => {
        setCredentials(undefined);
        setChecking(false);
      },
    );
  }, []);
  if (checking) return null;
  if (!session) return <Login onLogin={setSession} />;
  return (
    <Shell
      session={session}
      onLogout={() => {
        setCredentials(undefined);
        setSession(undefined);
      }}
    />
  );
}

render(<App />, document.getElementById('app')!);
