/** Which page answers which of RabbitMQ's routes; anything else says it is not found. */
import type { Route } from '../routes.js';
import { ChannelPage, ChannelsPage } from './channels.js';
import { ConnectionPage, ConnectionsPage } from './connections.js';
import { ExchangePage } from './exchange.js';
import { ExchangesPage } from './exchanges.js';
import { OverviewPage } from './overview.js';
import { LimitsPage, PoliciesPage } from './policies.js';
import { QueuePage } from './queue.js';
import { QueuesPage } from './queues.js';
import { StreamConnectionPage, StreamConnectionsPage } from './stream-connections.js';
import { UserPage, UsersPage } from './users.js';
import { VhostPage, VhostsPage } from './vhosts.js';

export function PageFor(props: { route: Route }) {
  const { page, args } = props.route;
  const [a, b] = args;
  const n = args.length;
  if (page === '' && n === 0) return <OverviewPage />;
  if (page === 'connections' && n === 0) return <ConnectionsPage />;
  if (page === 'connections' && n === 1) return <ConnectionPage name={a!} key={a} />;
  if (page === 'channels' && n === 0) return <ChannelsPage />;
  if (page === 'channels' && n === 1) return <ChannelPage name={a!} key={a} />;
  if (page === 'exchanges' && n === 0) return <ExchangesPage />;
  if (page === 'exchanges' && n === 2) return <ExchangePage vhost={a!} name={b!} key={`${a}/${b}`} />;
  if (page === 'queues' && n === 0) return <QueuesPage />;
  if (page === 'queues' && n === 2) return <QueuePage vhost={a!} name={b!} key={`${a}/${b}`} />;
  if (page === 'users' && n === 0) return <UsersPage />;
  if (page === 'users' && n === 1) return <UserPage name={a!} key={a} />;
  if (page === 'vhosts' && n === 0) return <VhostsPage />;
  if (page === 'vhosts' && n === 1) return <VhostPage name={a!} key={a} />;
  if (page === 'policies' && n === 0) return <PoliciesPage />;
  if (page === 'limits' && n === 0) return <LimitsPage />;
  if (page === 'stream' && a === 'connections' && n === 1) return <StreamConnectionsPage />;
  if (page === 'stream' && a === 'connections' && n === 3) return <StreamConnectionPage vhost={b!} name={args[2]!} key={`${b}/${args[2]}`} />;
  return <NotFound />;
}

function NotFound() {
  return (
    <section class="not-found">
      <h1>Page not found</h1>
      <p>
        There is no page at <code>{location.hash}</code>. <a href="#/">Go to the overview</a>.
      </p>
    </section>
  );
}
