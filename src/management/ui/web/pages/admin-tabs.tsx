/** The Admin tab's sub-navigation, as RabbitMQ's right-hand menu. */
export function AdminTabs() {
  const here = location.hash.split('/')[1] ?? '';
  const items: [string, string][] = [
    ['users', 'Users'],
    ['vhosts', 'Virtual Hosts'],
    ['policies', 'Policies'],
    ['limits', 'Limits'],
  ];
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
