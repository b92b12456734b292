// Creates the vhost, user and permissions a "non-default vhost and user" test
// needs, through the RabbitMQ-compatible management HTTP API, exactly as an
// operator's script would against RabbitMQ.

export interface AdminOptions {
  /** Management API base URL, e.g. http://127.0.0.1:15672 */
  managementUrl: string;
  adminUser?: string;
  adminPassword?: string;
}

export interface VhostUser {
  vhost: string;
  user: string;
  password: string;
}

async function call(options: AdminOptions, method: string, path: string, body?: unknown): Promise<Response> {
  if (!options.managementUrl) {
    throw new Error('no management API: the broker under test was started without one');
  }
  const auth = Buffer.from(`${options.adminUser ?? 'guest'}:${options.adminPassword ?? 'guest'}`).toString('base64');
  const url = options.managementUrl.replace(/\/$/, '') + path;
  let response: Response;
  try {
    response = await fetch(url, {
      method,
      headers: { authorization: `Basic ${auth}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  } catch (error) {
    throw new Error(`management API unreachable: ${method} ${url}: ${(error as Error).message}`);
  }
  return response;
}

async function expectOk(options: AdminOptions, method: string, path: string, body?: unknown): Promise<void> {
  const response = await call(options, method, path, body);
  if (!response.ok) {
    const text = await response.text().catch(() => '');
    throw new Error(`management API: ${method} ${path} answered ${response.status} ${text.slice(0, 300)}`);
  }
}

const segment = encodeURIComponent;

/** PUT /api/vhosts/{vhost}, PUT /api/users/{user}, PUT /api/permissions/{vhost}/{user}. */
export async function createVhostWithUser(options: AdminOptions, target: VhostUser): Promise<void> {
  await expectOk(options, 'PUT', `/api/vhosts/${segment(target.vhost)}`, {});
  await expectOk(options, 'PUT', `/api/users/${segment(target.user)}`, { password: target.password, tags: '' });
  await expectOk(options, 'PUT', `/api/permissions/${segment(target.vhost)}/${segment(target.user)}`, {
    configure: '.*',
    write: '.*',
    read: '.*',
  });
}

/** Best-effort cleanup, so repeated runs against a shared broker leave nothing behind. */
export async function deleteVhostAndUser(options: AdminOptions, target: VhostUser): Promise<void> {
  for (const path of [`/api/vhosts/${segment(target.vhost)}`, `/api/users/${segment(target.user)}`]) {
    try {
      await call(options, 'DELETE', path);
    } catch {
      // Cleanup must never hide the test's own outcome.
    }
  }
}
