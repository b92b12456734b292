/**
 * Users, permissions and topic permissions (administrators only, as in RabbitMQ):
 * /api/users[/{name}[/permissions|/topic-permissions]], /api/users/without-permissions,
 * /api/users/bulk-delete, /api/permissions[/{vhost}/{user}], /api/topic-permissions[/{vhost}/{user}].
 */
import { randomBytes } from 'node:crypto';
import { hashPassword, HASHING_ALGORITHM } from '../../auth/password.js';
import type { User } from '../../auth/users.js';
import { HASHING_ALGORITHMS } from '../definitions.js';
import { Reply, badRequest, objectNotFound } from '../http.js';
import type { Ctx, Router } from '../router.js';
import { parseTags, requireKeys, requireRegex, requireString } from '../validate.js';
import { permissionJson, topicPermissionJson, userJson } from '../views.js';

export function userRoutes(r: Router): void {
  const json = (ctx: Ctx, u: User) => userJson(u, ctx.broker.users.limits.get(u.name));
  r.get('/api/users', 'administrator', (ctx) => [...ctx.broker.users.users.values()].map((u) => json(ctx, u)));
  r.get('/api/users/without-permissions', 'administrator', (ctx) => {
    const withPermissions = new Set(ctx.broker.users.listPermissions().map((p) => p.user));
    return [...ctx.broker.users.users.values()].filter((u) => !withPermissions.has(u.name)).map((u) => json(ctx, u));
  });
  r.post('/api/users/bulk-delete', 'administrator', async (ctx) => {
    const body = await ctx.body();
    requireKeys(body, ['users']);
    const names = body['users'];
    if (!Array.isArray(names) || !names.every((n) => typeof n === 'string')) throw badRequest('users must be a list of names');
    // In order, stopping at the first that does not exist (those before it are gone), as RabbitMQ.
    for (const name of names) if (!ctx.broker.users.deleteUser(name)) throw badRequest(['no_such_user', name]);
    return new Reply(204);
  });
  r.get('/api/users/:name', 'administrator', (ctx) => json(ctx, userParam(ctx)));
  r.put('/api/users/:name', 'administrator', putUser);
  r.delete('/api/users/:name', 'administrator', (ctx) => {
    if (!ctx.broker.users.deleteUser(ctx.params['name']!)) throw objectNotFound();
    return new Reply(204);
  });
  r.get('/api/users/:name/permissions', 'administrator', (ctx) => {
    const name = userParam(ctx).name;
    return ctx.broker.users.listPermissions().filter((p) => p.user === name).map((p) => permissionJson(p.vhost, p.user, p.permission));
  });
  r.get('/api/users/:name/topic-permissions', 'administrator', (ctx) => {
    const name = userParam(ctx).name;
    return ctx.broker.users.listTopicPermissions().filter((p) => p.user === name).map((p) => topicPermissionJson(p.vhost, p.user, p.permission));
  });

  r.get('/api/permissions', 'administrator', (ctx) =>
    ctx.broker.users.listPermissions().map((p) => permissionJson(p.vhost, p.user, p.permission)));
  r.get('/api/permissions/:vhost/:user', 'administrator', (ctx) => {
    const { vhost, user } = ctx.params as { vhost: string; user: string };
    const p = ctx.broker.users.getPermission(vhost, user);
    if (!p) throw objectNotFound();
    return permissionJson(vhost, user, p);
  });
  r.put('/api/permissions/:vhost/:user', 'administrator', async (ctx) => {
    const { vhost, user } = ctx.params as { vhost: string; user: string };
    const body = await ctx.body();
    requireKeys(body, ['configure', 'write', 'read']);
    const permission = { configure: requireRegex(body, 'configure'), write: requireRegex(body, 'write'), read: requireRegex(body, 'read') };
    if (!ctx.broker.vhosts.has(vhost) || !ctx.broker.users.users.has(user)) throw badRequest('vhost_or_user_not_found');
    const existed = ctx.broker.users.getPermission(vhost, user) !== undefined;
    ctx.broker.users.setPermission(vhost, user, permission);
    return new Reply(existed ? 204 : 201);
  });
  r.delete('/api/permissions/:vhost/:user', 'administrator', (ctx) => {
    if (!ctx.broker.users.clearPermission(ctx.params['vhost']!, ctx.params['user']!)) throw objectNotFound();
    return new Reply(204);
  });

  r.get('/api/topic-permissions', 'administrator', (ctx) =>
    ctx.broker.users.listTopicPermissions().map((p) => topicPermissionJson(p.vhost, p.user, p.permission)));
  r.get('/api/topic-permissions/:vhost/:user', 'administrator', (ctx) => {
    const { vhost, user } = ctx.params as { vhost: string; user: string };
    const list = ctx.broker.users.getTopicPermissions(vhost, user);
    if (list.length === 0) throw objectNotFound();
    return list.map((p) => topicPermissionJson(vhost, user, p));
  });
  r.put('/api/topic-permissions/:vhost/:user', 'administrator', async (ctx) => {
    const { vhost, user } = ctx.params as { vhost: string; user: string };
    const body = await ctx.body();
    requireKeys(body, ['exchange', 'write', 'read']);
    const permission = { exchange: requireString(body, 'exchange'), write: requireRegex(body, 'write'), read: requireRegex(body, 'read') };
    if (!ctx.broker.vhosts.has(vhost) || !ctx.broker.users.users.has(user)) throw badRequest('vhost_or_user_not_found');
    const existed = ctx.broker.users.getTopicPermissions(vhost, user).some((p) => p.exchange === permission.exchange);
    ctx.broker.users.setTopicPermission(vhost, user, permission);
    return new Reply(existed ? 204 : 201);
  });
  r.delete('/api/topic-permissions/:vhost/:user', 'administrator', (ctx) => {
    const { vhost, user } = ctx.params as { vhost: string; user: string };
    const exchange = ctx.query.get('exchange') ?? undefined;
    const existing = ctx.broker.users.getTopicPermissions(vhost, user);
    if (existing.length === 0 || (exchange !== undefined && !existing.some((p) => p.exchange === exchange))) throw objectNotFound();
    ctx.broker.users.clearTopicPermission(vhost, user, exchange);
    return new Reply(204);
  });
}

function userParam(ctx: Ctx): User {
  const user = ctx.broker.users.users.get(ctx.params['name']!);
  if (!user) throw objectNotFound();
  return user;
}

/**
 * PUT /api/users/{name}: `tags` (required), and `password` (hashed here) or `password_hash` (+
 * `hashing_algorithm`). Without either password field the user can no longer log in with a
 * password, on creation and on update alike, as in RabbitMQ.
 */
async function putUser(ctx: Ctx): Promise<Reply> {
  const name = ctx.params['name']!;
  if (name === '') throw badRequest('user name must not be empty');
  const body = await ctx.body();
  const existing = ctx.broker.users.users.get(name);
  if (body['tags'] === undefined) throw badRequest('tags_not_present');
  const tags = parseTags(body['tags']);
  let passwordHash: string;
  let hashingAlgorithm = HASHING_ALGORITHM;
  if (body['password'] !== undefined) {
    passwordHash = hashPassword(requireString(body, 'password'));
  } else if (body['password_hash'] !== undefined) {
    passwordHash = requireString(body, 'password_hash');
    if (body['hashing_algorithm'] !== undefined) hashingAlgorithm = requireString(body, 'hashing_algorithm');
    if (!HASHING_ALGORITHMS.includes(hashingAlgorithm)) throw badRequest(`unsupported hashing_algorithm '${hashingAlgorithm}'`);
    // RabbitMQ's reason for a hash that is not base64 at all.
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(passwordHash)) throw badRequest(['not_base64', passwordHash]);
    if (passwordHash !== '' && Buffer.from(passwordHash, 'base64').length <= 4) throw badRequest('password_hash is not a valid salted hash');
  } else {
    passwordHash = hashPassword(randomBytes(24).toString('base64'));
  }
  ctx.broker.users.putUser({ name, passwordHash, hashingAlgorithm, tags });
  return new Reply(existing ? 204 : 201);
}
