/**
 * RabbitMQ's hash routes, so its users' bookmarks work: `#/queues/%2F/name` and so on. Each
 * segment after the page name is percent-encoded (`/` → `%2F`).
 */

export interface Route {
  page: string;
  args: string[];
}

export function parseHash(hash: string): Route {
  const path = hash.replace(/^#/, '');
  if (path === '' || path === '/') return { page: '', args: [] };
  const parts = path.replace(/^\//, '').split('/');
  const decoded = parts.map((p) => {
    try {
      return decodeURIComponent(p);
    } catch {
      return p;
    }
  });
  return { page: decoded[0] ?? '', args: decoded.slice(1) };
}

const seg = (s: string) => encodeURIComponent(s);

export const link = {
  overview: () => '#/',
  connections: () => '#/connections',
  connection: (name: string) => `#/connections/${seg(name)}`,
  channels: () => '#/channels',
  channel: (name: string) => `#/channels/${seg(name)}`,
  exchanges: () => '#/exchanges',
  exchange: (vhost: string, name: string) => `#/exchanges/${seg(vhost)}/${seg(name)}`,
  queues: () => '#/queues',
  queue: (vhost: string, name: string) => `#/queues/${seg(vhost)}/${seg(name)}`,
  users: () => '#/users',
  user: (name: string) => `#/users/${seg(name)}`,
  vhosts: () => '#/vhosts',
  vhost: (name: string) => `#/vhosts/${seg(name)}`,
  policies: () => '#/policies',
  limits: () => '#/limits',
  streamConnections: () => '#/stream/connections',
  streamConnection: (vhost: string, name: string) => `#/stream/connections/${seg(vhost)}/${seg(name)}`,
};

export function go(hash: string): void {
  window.location.hash = hash;
}
