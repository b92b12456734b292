// Creates and removes vhosts and users through the RabbitMQ-compatible management HTTP API,
// for the "non-default vhost and user" scenarios. Private stand-in for test/support/admin.ts.

export interface Admin {
  createVhost(vhost: string): Promise<void>;
  deleteVhost(vhost: string): Promise<void>;
  createUser(user: string, password: string, tags?: string): Promise<void>;
  deleteUser(user: string): Promise<void>;
  setPermissions(vhost: string, user: string, perms?: { configure: string; write: string; read: string }): Promise<void>;
}

export function managementAdmin(managementUrl: string): Admin {
  // fetch() refuses URLs with credentials in them: move them into an Authorization header.
  const url = new URL(managementUrl);
  const auth = 'Basic ' + Buffer.from(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`).toString('base64');
  const base = `${url.protocol}//${url.host}`;

  async function call(method: string, apiPath: string, body?: unknown): Promise<void> {
    let lastError: unknown;
    // The management listener may come up a moment after the AMQP one.
    for (let attempt = 0; attempt < 20; attempt++) {
      try {
        const res = await fetch(base + apiPath, {
          method,
          headers: { authorization: auth, 'content-type': 'application/json' },
          body: body === undefined ? undefined : JSON.stringify(body),
        });
        if (res.ok || (method === 'DELETE' && res.status === 404)) return;
        throw new Error(`${method} ${apiPath} → HTTP ${res.status}: ${await res.text()}`);
      } catch (err) {
        lastError = err;
        const refused = (err as { cause?: { code?: string } }).cause?.code === 'ECONNREFUSED';
        if (!refused) throw err;
        await new Promise((r) => setTimeout(r, 250));
      }
    }
    throw new Error(`management API at ${base} unreachable: ${String(lastError)}`);
  }

  const enc = encodeURIComponent;
  return {
    createVhost: (vhost) => call('PUT', `/api/vhosts/${enc(vhost)}`),
    deleteVhost: (vhost) => call('DELETE', `/api/vhosts/${enc(vhost)}`),
    createUser: (user, password, tags = '') => call('PUT', `/api/users/${enc(user)}`, { password, tags }),
    deleteUser: (user) => call('DELETE', `/api/users/${enc(user)}`),
    setPermissions: (vhost, user, perms = { configure: '.*', write: '.*', read: '.*' }) =>
      call('PUT', `/api/permissions/${enc(vhost)}/${enc(user)}`, perms),
  };
}
