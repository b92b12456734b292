// Vhosts, users and permissions through the RabbitMQ-compatible management HTTP API. Like
// test/support/admin.ts, plus what the Python scenarios need on top of it: restricted
// permission patterns and separate create/delete steps.

export interface Admin {
  createVhost(vhost: string): Promise<void>;
  deleteVhost(vhost: string): Promise<void>;
  createUser(user: string, password: string, tags?: string): Promise<void>;
  deleteUser(user: string): Promise<void>;
  setPermissions(vhost: string, user: string, perms?: { configure: string; write: string; read: string }): Promise<void>;
  /** Cleanup of durable leftovers (a shared broker outlives the test run). */
  deleteQueue(vhost: string, queue: string): Promise<void>;
  deleteExchange(vhost: string, exchange: string): Promise<void>;
}

/** `managementUrl` may carry credentials (http://user:pass@host:port); guest/guest otherwise. */
export function managementAdmin(managementUrl: string): Admin {
  if (!managementUrl) throw new Error('no management API URL for this broker');
  // fetch() refuses URLs with credentials in them: move them into an Authorization header.
  const url = new URL(managementUrl);
  const user = url.username ? decodeURIComponent(url.username) : 'guest';
  const password = url.password ? decodeURIComponent(url.password) : 'guest';
  const auth = 'Basic ' + Buffer.from(`${user}:${password}`).toString('base64');
  const base = `${url.protocol}//${url.host}`;

  async function call(method: string, apiPath: string, body?: unknown): Promise<void> {
    let res: Response;
    try {
      res = await fetch(base + apiPath, {
        method,
        headers: { authorization: auth, 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    } catch (err) {
      throw new Error(`management API unreachable: ${method} ${base}${apiPath}: ${(err as Error).message}`);
    }
    if (res.ok || (method === 'DELETE' && res.status === 404)) return;
    throw new Error(`management API: ${method} ${apiPath} answered ${res.status} ${(await res.text()).slice(0, 300)}`);
  }

  const enc = encodeURIComponent;
  return {
    createVhost: (vhost) => call('PUT', `/api/vhosts/${enc(vhost)}`, {}),
    deleteVhost: (vhost) => call('DELETE', `/api/vhosts/${enc(vhost)}`),
    createUser: (name, pw, tags = '') => call('PUT', `/api/users/${enc(name)}`, { password: pw, tags }),
    deleteUser: (name) => call('DELETE', `/api/users/${enc(name)}`),
    setPermissions: (vhost, name, perms = { configure: '.*', write: '.*', read: '.*' }) =>
      call('PUT', `/api/permissions/${enc(vhost)}/${enc(name)}`, perms),
    deleteQueue: (vhost, queue) => call('DELETE', `/api/queues/${enc(vhost)}/${enc(queue)}`),
    deleteExchange: (vhost, exchange) => call('DELETE', `/api/exchanges/${enc(vhost)}/${enc(exchange)}`),
  };
}
