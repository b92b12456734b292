/**
 * User, vhost and permission commands, with rabbitmqctl's names, arguments, banners and exit codes:
 * add_user, delete_user, change_password, clear_password, authenticate_user, set_user_tags,
 * list_users, add_vhost, delete_vhost, list_vhosts, set/clear/list permissions and topic permissions.
 */
import { checkPassword } from '../../auth/password.js';
import { CtlError, Exit, apiError, seg } from './client.js';
import { command, type CommandContext, type CommandTable } from './command.js';
import { listCommand } from './listing.js';
import { noSuchUser, userDoesNotExist, userNotFound, vhostDoesNotExist, vhostNotFound } from './refusals.js';

interface UserJson {
  name: string;
  password_hash: string;
  hashing_algorithm: string;
  tags: string[];
}

async function getUser(ctx: CommandContext, name: string, missing = userDoesNotExist): Promise<UserJson> {
  const res = await ctx.client.request('GET', `/api/users/${seg(name)}`);
  if (res.status === 404) throw missing(name);
  if (res.status !== 200) throw apiError(res);
  return res.body as UserJson;
}

async function requireVhostExists(ctx: CommandContext, vhost: string): Promise<void> {
  const res = await ctx.client.request('GET', `/api/vhosts/${seg(vhost)}`);
  if (res.status === 404) throw vhostNotFound(vhost);
  if (res.status !== 200) throw apiError(res);
}

/** A 400 from the API about the request's content (bad regex…) keeps rabbitmqctl's code 69. */
async function put(ctx: CommandContext, path: string, body: unknown): Promise<void> {
  const res = await ctx.client.request('PUT', path, body);
  if (res.status >= 200 && res.status < 300) return;
  const e = apiError(res);
  throw res.status === 400 ? new CtlError(e.message, Exit.UNAVAILABLE) : e;
}

export const userCommands: CommandTable = {
  add_user: command<[string, string]>({
    usage: 'add_user <username> <password>',
    description: 'Creates a user (without tags or permissions)',
    arity: 2,
    banner: (_ctx, [name]) => `Adding user "${name}" ...`,
    async run(ctx, [name, password]) {
      const existing = await ctx.client.request('GET', `/api/users/${seg(name)}`);
      if (existing.status === 200) throw new CtlError(`User "${name}" already exists`, Exit.SOFTWARE);
      await put(ctx, `/api/users/${seg(name)}`, { password, tags: [] });
      ctx.out.banner(`Done. Don't forget to grant the user permissions to some virtual hosts! See 'warrenctl help set_permissions' to learn more.`);
    },
  }),
  delete_user: command<[string]>({
    usage: 'delete_user <username>',
    description: 'Removes a user and their permissions',
    arity: 1,
    banner: (_ctx, [name]) => `Deleting user "${name}" ...`,
    async run(ctx, [name]) {
      const res = await ctx.client.request('DELETE', `/api/users/${seg(name)}`);
      if (res.status === 404) throw userDoesNotExist(name);
      if (res.status >= 300) throw apiError(res);
    },
  }),
  change_password: command<[string, string]>({
    usage: 'change_password <username> <new_password>',
    description: "Changes a user's password",
    arity: 2,
    banner: (_ctx, [name]) => `Changing password for user "${name}" ...`,
    async run(ctx, [name, password]) {
      const user = await getUser(ctx, name);
      await put(ctx, `/api/users/${seg(name)}`, { password, tags: user.tags });
    },
  }),
  clear_password: command<[string]>({
    usage: 'clear_password <username>',
    description: "Clears a user's password: they can no longer log in with one",
    arity: 1,
    banner: (_ctx, [name]) => `Clearing password for user "${name}" ...`,
    async run(ctx, [name]) {
      const user = await getUser(ctx, name);
      await put(ctx, `/api/users/${seg(name)}`, { password_hash: '', tags: user.tags });
    },
  }),
  authenticate_user: command<[string, string]>({
    usage: 'authenticate_user <username> <password>',
    description: "Checks a user's credentials against the broker's stored password hash",
    arity: 2,
    banner: (_ctx, [name]) => `Authenticating user "${name}" ...`,
    async run(ctx, [name, password]) {
      const res = await ctx.client.request('GET', `/api/users/${seg(name)}`);
      if (res.status !== 200 && res.status !== 404) throw apiError(res);
      const user = res.body as UserJson;
      if (res.status === 404 || !checkPassword(password, user.password_hash, user.hashing_algorithm)) {
        throw new CtlError(`Error: failed to authenticate user "${name}"\nuser '${name}' - invalid credentials`, Exit.DATAERR);
      }
      ctx.out.line('Success');
    },
  }),
  set_user_tags: command({
    usage: 'set_user_tags <username> [<tag> ...]',
    description: "Sets a user's tags (administrator, monitoring, management, policymaker, …), replacing the current ones",
    arity: [1, Infinity],
    async run(ctx) {
      const [name, ...tags] = ctx.args as [string, ...string[]];
      ctx.out.banner(`Setting tags for user "${name}" to [${tags.join(', ')}] ...`);
      const user = await getUser(ctx, name);
      await put(ctx, `/api/users/${seg(name)}`, { password_hash: user.password_hash, hashing_algorithm: user.hashing_algorithm, tags });
    },
  }),
  list_users: listCommand({
    usage: 'list_users',
    description: 'Lists users and their tags',
    banner: () => 'Listing users ...',
    path: () => '/api/users',
    keys: { user: (u) => u['name'], tags: (u) => u['tags'] },
    defaults: ['user', 'tags'],
    fixedColumns: true,
  }),

  add_vhost: command<[string]>({
    usage: 'add_vhost <vhost> [--description <description>] [--tags <tag,…>]',
    description: 'Creates a virtual host',
    arity: 1,
    banner: (_ctx, [name]) => `Adding vhost "${name}" ...`,
    async run(ctx, [name]) {
      const body: Record<string, unknown> = {};
      if (typeof ctx.options['description'] === 'string') body['description'] = ctx.options['description'];
      if (typeof ctx.options['tags'] === 'string') body['tags'] = ctx.options['tags'];
      const res = await ctx.client.request('PUT', `/api/vhosts/${seg(name)}`, body);
      if (res.status >= 300) throw apiError(res);
      if (res.status === 201) {
        // The HTTP API grants the creating user access to a new vhost; rabbitmqctl add_vhost does not.
        const me = (await ctx.client.get('/api/whoami')) as { name: string };
        await ctx.client.request('DELETE', `/api/permissions/${seg(name)}/${seg(me.name)}`);
      }
    },
  }),
  delete_vhost: command<[string]>({
    usage: 'delete_vhost <vhost>',
    description: 'Deletes a virtual host with all its queues, exchanges, bindings and permissions',
    arity: 1,
    banner: (_ctx, [name]) => `Deleting vhost "${name}" ...`,
    async run(ctx, [name]) {
      const res = await ctx.client.request('DELETE', `/api/vhosts/${seg(name)}`);
      if (res.status === 404) throw vhostDoesNotExist(name);
      if (res.status >= 300) throw apiError(res);
    },
  }),
  list_vhosts: listCommand({
    usage: 'list_vhosts [<column> ...]',
    description: 'Lists virtual hosts (columns: name, description, tags, tracing, default_queue_type, messages, messages_ready, messages_unacknowledged)',
    banner: () => 'Listing vhosts ...',
    path: () => '/api/vhosts',
    keys: {
      name: (v) => v['name'],
      description: (v) => v['description'],
      tags: (v) => v['tags'],
      tracing: (v) => v['tracing'],
      default_queue_type: (v) => v['default_queue_type'],
      messages: (v) => v['messages'],
      messages_ready: (v) => v['messages_ready'],
      messages_unacknowledged: (v) => v['messages_unacknowledged'],
    },
    defaults: ['name'],
  }),

  set_permissions: command<[string, string, string, string]>({
    usage: 'set_permissions [-p <vhost>] <username> <conf> <write> <read>',
    description: "Sets a user's configure, write and read permission patterns in a vhost",
    arity: 4,
    banner: (ctx, [user]) => `Setting permissions for user "${user}" in vhost "${ctx.vhost}" ...`,
    async run(ctx, [user, configure, write, read]) {
      await getUser(ctx, user, userNotFound);
      await requireVhostExists(ctx, ctx.vhost);
      await put(ctx, `/api/permissions/${seg(ctx.vhost)}/${seg(user)}`, { configure, write, read });
    },
  }),
  clear_permissions: command<[string]>({
    usage: 'clear_permissions [-p <vhost>] <username>',
    description: "Removes a user's permissions in a vhost",
    arity: 1,
    banner: (ctx, [user]) => `Clearing permissions for user "${user}" in vhost "${ctx.vhost}" ...`,
    async run(ctx, [user]) {
      await getUser(ctx, user, userNotFound);
      await requireVhostExists(ctx, ctx.vhost);
      const res = await ctx.client.request('DELETE', `/api/permissions/${seg(ctx.vhost)}/${seg(user)}`);
      if (res.status >= 300 && res.status !== 404) throw apiError(res);
    },
  }),
  list_permissions: listCommand({
    usage: 'list_permissions [-p <vhost>]',
    description: 'Lists the permissions of every user in a vhost',
    banner: (ctx) => `Listing permissions for vhost "${ctx.vhost}" ...`,
    path: (ctx) => `/api/vhosts/${seg(ctx.vhost)}/permissions`,
    keys: { user: (p) => p['user'], configure: (p) => p['configure'], write: (p) => p['write'], read: (p) => p['read'] },
    defaults: ['user', 'configure', 'write', 'read'],
    fixedColumns: true,
    notFound: (ctx) => vhostDoesNotExist(ctx.vhost),
  }),
  list_user_permissions: listCommand({
    usage: 'list_user_permissions <username>',
    description: "Lists a user's permissions in every vhost",
    banner: (ctx) => `Listing permissions for user "${ctx.args[0]}" ...`,
    path: (ctx) => `/api/users/${seg(ctx.args[0]!)}/permissions`,
    keys: { vhost: (p) => p['vhost'], configure: (p) => p['configure'], write: (p) => p['write'], read: (p) => p['read'] },
    defaults: ['vhost', 'configure', 'write', 'read'],
    fixedColumns: true,
    args: 1,
    notFound: (ctx) => noSuchUser(ctx.args[0]!),
  }),
  set_topic_permissions: command<[string, string, string, string]>({
    usage: 'set_topic_permissions [-p <vhost>] <username> <exchange> <write> <read>',
    description: "Sets a user's topic permission patterns (routing keys) for a topic exchange",
    arity: 4,
    banner: (ctx, [user, exchange]) => `Setting topic permissions on "${exchange}" for user "${user}" in vhost "${ctx.vhost}" ...`,
    async run(ctx, [user, exchange, write, read]) {
      await getUser(ctx, user, userNotFound);
      await requireVhostExists(ctx, ctx.vhost);
      await put(ctx, `/api/topic-permissions/${seg(ctx.vhost)}/${seg(user)}`, { exchange, write, read });
    },
  }),
  clear_topic_permissions: command<[string, string | undefined]>({
    usage: 'clear_topic_permissions [-p <vhost>] <username> [<exchange>]',
    description: "Removes a user's topic permissions in a vhost (for one exchange, or all)",
    arity: [1, 2],
    banner: (ctx, [user, exchange]) => `Clearing topic permissions${exchange === undefined ? '' : ` on "${exchange}"`} for user "${user}" in vhost "${ctx.vhost}" ...`,
    async run(ctx, [user, exchange]) {
      await getUser(ctx, user, userNotFound);
      await requireVhostExists(ctx, ctx.vhost);
      const query = exchange === undefined ? '' : `?exchange=${encodeURIComponent(exchange)}`;
      const res = await ctx.client.request('DELETE', `/api/topic-permissions/${seg(ctx.vhost)}/${seg(user)}${query}`);
      if (res.status >= 300 && res.status !== 404) throw apiError(res);
    },
  }),
  list_topic_permissions: listCommand({
    usage: 'list_topic_permissions [-p <vhost>]',
    description: 'Lists topic permissions in a vhost',
    banner: (ctx) => `Listing topic permissions for vhost "${ctx.vhost}" ...`,
    path: (ctx) => `/api/vhosts/${seg(ctx.vhost)}/topic-permissions`,
    keys: { user: (p) => p['user'], exchange: (p) => p['exchange'], write: (p) => p['write'], read: (p) => p['read'] },
    defaults: ['user', 'exchange', 'write', 'read'],
    fixedColumns: true,
    notFound: (ctx) => vhostDoesNotExist(ctx.vhost),
  }),
  list_user_topic_permissions: listCommand({
    usage: 'list_user_topic_permissions <username>',
    description: "Lists a user's topic permissions in every vhost",
    banner: (ctx) => `Listing topic permissions for user "${ctx.args[0]}" ...`,
    path: (ctx) => `/api/users/${seg(ctx.args[0]!)}/topic-permissions`,
    keys: { vhost: (p) => p['vhost'], exchange: (p) => p['exchange'], write: (p) => p['write'], read: (p) => p['read'] },
    defaults: ['vhost', 'exchange', 'write', 'read'],
    fixedColumns: true,
    args: 1,
    notFound: (ctx) => noSuchUser(ctx.args[0]!),
  }),
};
