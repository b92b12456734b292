import { useSession } from '../session.js';

/** The Admin tab's sub-navigation, as RabbitMQ's right-hand menu: what the user's tags allow. */
export function AdminTabs() {
  const session = useSession();
  const here = location.hash.split('/')[1] ?? '';
  const items: [string, string][] = session.isAdmin
    ? [
        ['users', 'Users'],
        ['vhosts', 'Virtual Hosts'],
        ['policies', 'Policies'],
        ['limits', 'Limits'],
      ]
    : [['policies', 'Policies']];
  return (
    <nav class="subnav" aria-label="Admin">
      <ul>
        {items.map(([page, label]) => (
          <li key={page}>
            <a href={`#/${page}`} aria-current={here === page ? 'page' : undefined}>
              {label}
            </a>
          </li>
        ))}
      </ul>
    </nav>
  );
}
