/**
 * The web UI: one static page with a login form and four views (overview, queues, connections,
 * exchanges) that read the same HTTP API as any other client, refreshing every 5 seconds.
 * Credentials stay in sessionStorage and go out as a basic-auth header.
 */
export const INDEX_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Warren management</title>
<link rel="stylesheet" href="/style.css">
</head>
<body>
<header>
  <h1>Warren</h1>
  <nav id="nav" hidden>
    <a href="#overview">Overview</a>
    <a href="#queues">Queues</a>
    <a href="#connections">Connections</a>
    <a href="#exchanges">Exchanges</a>
  </nav>
  <span id="who"></span>
</header>
<main>
  <form id="login" hidden>
    <h2>Log in</h2>
    <label>Username <input name="username" autocomplete="username" required></label>
    <label>Password <input name="password" type="password" autocomplete="current-password"></label>
    <button type="submit">Log in</button>
    <p id="login-error" class="error"></p>
  </form>
  <section id="view"></section>
</main>
<script type="module" src="/app.js"></script>
</body>
</html>
`;

export const STYLE_CSS = `
body { font-family: system-ui, sans-serif; margin: 0; color: #222; }
header { display: flex; align-items: center; gap: 2rem; padding: .5rem 1.5rem; background: #4a3b2a; color: #fff; }
header h1 { font-size: 1.3rem; margin: 0; }
header a { color: #fff; margin-right: 1rem; text-decoration: none; }
header a.active { text-decoration: underline; }
#who { margin-left: auto; font-size: .9rem; }
main { padding: 1rem 1.5rem; }
table { border-collapse: collapse; width: 100%; margin-bottom: 1.5rem; }
th, td { border-bottom: 1px solid #ddd; padding: .35rem .5rem; text-align: left; font-size: .9rem; }
th { background: #f4f1ec; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.error { color: #b00020; }
form#login { max-width: 20rem; display: grid; gap: .6rem; }
.cards { display: flex; gap: 1rem; flex-wrap: wrap; margin-bottom: 1.5rem; }
.card { border: 1px solid #ddd; border-radius: 6px; padding: .6rem 1rem; min-width: 8rem; }
.card b { display: block; font-size: 1.4rem; }
button.small { font-size: .8rem; }
`;

export const APP_JS = `
const $ = (sel) => document.querySelector(sel);
const view = $('#view');
let timer;

function auth() { return sessionStorage.getItem('warren-auth'); }

async function api(path, options = {}) {
  const res = await fetch('/api' + path, { ...options, headers: { authorization: 'Basic ' + auth(), 'content-type': 'application/json', ...(options.headers || {}) } });
  if (res.status === 401) { sessionStorage.removeItem('warren-auth'); showLogin('Not authorised: ' + ((await res.json().catch(() => ({}))).reason || '')); throw new Error('401'); }
  if (!res.ok) throw new Error(res.status + ' ' + (await res.text()));
  return res.status === 204 ? null : res.json();
}

function esc(v) { return String(v ?? '').replace(/[&<>"']/g, (c) => '&#' + c.charCodeAt(0) + ';'); }
function num(v) { return '<td class="num">' + esc(v ?? 0) + '</td>'; }
function rate(d) { return d && typeof d.rate === 'number' ? d.rate.toFixed(1) + '/s' : ''; }
function table(headers, rows) {
  return '<table><thead><tr>' + headers.map((h) => '<th>' + esc(h) + '</th>').join('') + '</tr></thead><tbody>' +
    (rows.length ? rows.join('') : '<tr><td colspan="' + headers.length + '">none</td></tr>') + '</tbody></table>';
}

const views = {
  async overview() {
    const o = await api('/overview');
    const q = o.queue_totals || {}, t = o.object_totals || {}, m = o.message_stats || {};
    const card = (label, value) => '<div class="card">' + esc(label) + '<b>' + esc(value) + '</b></div>';
    return '<h2>Overview</h2><div class="cards">' +
      card('Ready', q.messages_ready) + card('Unacked', q.messages_unacknowledged) + card('Total', q.messages) +
      card('Publish', rate(m.publish_details)) + card('Deliver', rate(m.deliver_get_details)) + card('Ack', rate(m.ack_details)) +
      '</div><div class="cards">' + card('Connections', t.connections) + card('Channels', t.channels) + card('Queues', t.queues) +
      card('Exchanges', t.exchanges) + card('Consumers', t.consumers) + '</div>' +
      '<p>' + esc(o.product_name) + ' ' + esc(o.product_version) + ' on ' + esc(o.node) + ' (RabbitMQ API ' + esc(o.rabbitmq_version) + ')</p>';
  },
  async queues() {
    const qs = await api('/queues');
    return '<h2>Queues</h2>' + table(['Vhost', 'Name', 'Features', 'Ready', 'Unacked', 'Total', 'Consumers', 'Incoming', 'Deliver', ''],
      qs.map((q) => '<tr><td>' + esc(q.vhost) + '</td><td>' + esc(q.name) + '</td><td>' +
        [q.durable ? 'D' : '', q.auto_delete ? 'AD' : '', q.exclusive ? 'Excl' : ''].filter(Boolean).join(' ') + '</td>' +
        num(q.messages_ready) + num(q.messages_unacknowledged) + num(q.messages) + num(q.consumers) +
        num(rate(q.message_stats && q.message_stats.publish_details)) + num(rate(q.message_stats && q.message_stats.deliver_get_details)) +
        '<td><button class="small" data-purge="' + esc(q.vhost) + '|' + esc(q.name) + '">Purge</button> ' +
        '<button class="small" data-delete-queue="' + esc(q.vhost) + '|' + esc(q.name) + '">Delete</button></td></tr>'));
  },
  async connections() {
    const cs = await api('/connections');
    return '<h2>Connections</h2>' + table(['Name', 'User', 'Vhost', 'Client', 'Channels', 'Received', 'Sent', ''],
      cs.map((c) => '<tr><td>' + esc(c.name) + '</td><td>' + esc(c.user) + '</td><td>' + esc(c.vhost) + '</td><td>' +
        esc((c.client_properties || {}).product) + '</td>' + num(c.channels) + num(rate(c.recv_oct_details)) + num(rate(c.send_oct_details)) +
        '<td><button class="small" data-close="' + esc(c.name) + '">Close</button></td></tr>'));
  },
  async exchanges() {
    const xs = await api('/exchanges');
    return '<h2>Exchanges</h2>' + table(['Vhost', 'Name', 'Type', 'Durable', 'Auto-delete', 'Internal', 'Arguments'],
      xs.map((x) => '<tr><td>' + esc(x.vhost) + '</td><td>' + esc(x.name || '(AMQP default)') + '</td><td>' + esc(x.type) +
        '</td><td>' + esc(x.durable) + '</td><td>' + esc(x.auto_delete) + '</td><td>' + esc(x.internal) + '</td><td>' +
        esc(JSON.stringify(x.arguments)) + '</td></tr>'));
  },
};

async function render() {
  clearTimeout(timer);
  if (!auth()) return showLogin('');
  const name = (location.hash || '#overview').slice(1);
  const fn = views[name] || views.overview;
  document.querySelectorAll('nav a').forEach((a) => a.classList.toggle('active', a.getAttribute('href') === '#' + name));
  try {
    view.innerHTML = await fn();
  } catch (e) {
    if (e.message !== '401') view.innerHTML = '<p class="error">' + esc(e.message) + '</p>';
    return;
  }
  timer = setTimeout(render, 5000);
}

function showLogin(message) {
  $('#login').hidden = false;
  $('#nav').hidden = true;
  view.innerHTML = '';
  $('#who').textContent = '';
  $('#login-error').textContent = message;
}

$('#login').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const f = new FormData(ev.target);
  sessionStorage.setItem('warren-auth', btoa(unescape(encodeURIComponent(f.get('username') + ':' + f.get('password')))));
  try {
    const me = await api('/whoami');
    $('#login').hidden = true;
    $('#nav').hidden = false;
    $('#who').textContent = me.name + ' (' + me.tags.join(', ') + ')';
    render();
  } catch (e) {
    if (e.message !== '401') $('#login-error').textContent = e.message;
  }
});

view.addEventListener('click', async (ev) => {
  const b = ev.target.closest('button');
  if (!b) return;
  const enc = encodeURIComponent;
  if (b.dataset.purge) { const [v, q] = b.dataset.purge.split('|'); await api('/queues/' + enc(v) + '/' + enc(q) + '/contents', { method: 'DELETE' }); }
  if (b.dataset.deleteQueue && confirm('Delete queue ' + b.dataset.deleteQueue + '?')) { const [v, q] = b.dataset.deleteQueue.split('|'); await api('/queues/' + enc(v) + '/' + enc(q), { method: 'DELETE' }); }
  if (b.dataset.close && confirm('Close connection ' + b.dataset.close + '?')) await api('/connections/' + enc(b.dataset.close), { method: 'DELETE', headers: { 'x-reason': 'Closed via the Warren web UI' } });
  render();
});

window.addEventListener('hashchange', render);
if (auth()) {
  api('/whoami').then((me) => { $('#nav').hidden = false; $('#who').textContent = me.name; render(); }, () => {});
} else {
  showLogin('');
}
`;
