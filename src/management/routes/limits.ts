/**
 * Vhost limits (/api/vhost-limits[/{vhost}[/{name}]]) and user limits
 * (/api/user-limits[/{user}[/{name}]]) with RabbitMQ's JSON and 400 reasons: read by management
 * users, set by administrators.
 */
import { checkLimit, limitsJson } from '../../broker/limits.js';
import { listableVhosts } from '../access.js';
import { Reply, badRequest, notAuthorised, objectNotFound } from '../http.js';
import type { Router } from '../router.js';
import { requireKeys } from '../validate.js';
import { vhostParam } from './common.js';

export function limitRoutes(r: Router): void {
  // Reading limits is open to management users for the vhosts they see (monitoring users see all),
  // as RabbitMQ; setting them needs administrator.
  r.get('/api/vhost-limits', 'management', (ctx) => {
    const visible = listableVhosts(ctx.broker, ctx.user);
    return [...ctx.broker.vhosts.values()].filter((v) => v.limits.size > 0 && visible.has(v.name)).map((v) => ({ vhost: v.name, value: limitsJson(v.limits) }));
  });
  r.get('/api/vhost-limits/:vhost', 'management', (ctx) => {
    const v = ctx.broker.vhosts.get(ctx.params['vhost']!);
    if (!v) throw objectNotFound();
    if (!listableVhosts(ctx.broker, ctx.user).has(v.name)) throw notAuthorised('User not authorised to access virtual host');
    return v.limits.size > 0 ? [{ vhost: v.name, value: limitsJson(v.limits) }] : [];
  });
  r.put('/api/vhost-limits/:vhost/:name', 'administrator', async (ctx) => {
    const v = vhostParam(ctx);
    const body = await ctx.body();
    requireKeys(body, ['value']);
    const problem = checkLimit('vhost', ctx.params['name']!, body['value']);
    if (problem !== undefined) throw badRequest(problem);
    v.setLimit(ctx.params['name']!, body['value'] as number);
    return new Reply(204);
  });
  r.delete('/api/vhost-limits/:vhost/:name', 'administrator', (ctx) => {
    const v = vhostParam(ctx);
    v.setLimit(ctx.params['name']!, undefined);
    return new Reply(204);
  });

  r.get('/api/user-limits', 'management', (ctx) =>
    [...ctx.broker.users.limits.entries()].map(([user, limits]) => ({ user, value: limitsJson(limits) })));
  r.get('/api/user-limits/:user', 'management', (ctx) => {
    const name = ctx.params['user']!;
    if (!ctx.broker.users.users.has(name)) throw objectNotFound();
    const limits = ctx.broker.users.limits.get(name);
    return limits ? [{ user: name, value: limitsJson(limits) }] : [];
  });
  r.put('/api/user-limits/:user/:name', 'administrator', async (ctx) => {
    const user = ctx.params['user']!;
    const body = await ctx.body();
    requireKeys(body, ['value']);
    if (!ctx.broker.users.users.has(user)) throw badRequest(['no_such_user', user]);
    const problem = checkLimit('user', ctx.params['name']!, body['value']);
    if (problem !== undefined) throw badRequest(problem);
    ctx.broker.users.setLimit(user, ctx.params['name']!, body['value'] as number);
    return new Reply(204);
  });
  r.delete('/api/user-limits/:user/:name', 'administrator', (ctx) => {
    ctx.broker.users.clearLimit(ctx.params['user']!, ctx.params['name']!);
    return new Reply(204);
  });
}
