/**
 * Virtual hosts: /api/vhosts[/{name}[/permissions|/topic-permissions]]. Listing follows the
 * user's visibility; reading one, creating and deleting need administrator, as in RabbitMQ.
 */
import { listableVhosts } from '../access.js';
import { Reply, badRequest, objectNotFound } from '../http.js';
import type { Router } from '../router.js';
import { addSamples } from '../samples.js';
import { optionalString, parseTags } from '../validate.js';
import { getVhostMetadata, setVhostMetadata } from '../vhost-metadata.js';
import { permissionJson, topicPermissionJson, vhostJson } from '../views.js';

export function vhostRoutes(r: Router): void {
  r.get('/api/vhosts', 'management', (ctx) => {
    const visible = listableVhosts(ctx.broker, ctx.user);
    return [...ctx.broker.vhosts.values()].filter((v) => visible.has(v.name)).map((v) => vhostJson(ctx.stats, v));
  });
  r.get('/api/vhosts/:vhost', 'administrator', (ctx) => {
    const v = ctx.broker.vhosts.get(ctx.params['vhost']!);
    if (!v) throw objectNotFound();
    const json = vhostJson(ctx.stats, v);
    return addSamples(json, ctx.stats.vhostHistory(v.name), ctx.query, json);
  });
  r.put('/api/vhosts/:vhost', 'administrator', async (ctx) => {
    const name = ctx.params['vhost']!;
    if (name === '') throw badRequest('vhost name must not be empty');
    const body = await ctx.body();
    const existed = ctx.broker.vhosts.has(name);
    // Checked before the vhost exists: a refused PUT creates nothing.
    const description = body['description'] === undefined ? undefined : optionalString(body, 'description', '');
    const tags = body['tags'] === undefined ? undefined : parseTags(body['tags']);
    const vhost = ctx.broker.addVhost(name);
    const current = getVhostMetadata(vhost);
    setVhostMetadata(vhost, { description: description ?? current.description, tags: tags ?? current.tags });
    if (body['tracing'] !== undefined) ctx.broker.setTracing(name, body['tracing'] === true);
    // RabbitMQ gives the administrator who creates a vhost over HTTP full permissions on it.
    if (!existed) ctx.broker.users.setPermission(name, ctx.user.name, { configure: '.*', write: '.*', read: '.*' });
    return new Reply(existed ? 204 : 201);
  });
  r.delete('/api/vhosts/:vhost', 'administrator', (ctx) => {
    if (!ctx.broker.deleteVhost(ctx.params['vhost']!)) throw objectNotFound();
    return new Reply(204);
  });
  r.get('/api/vhosts/:vhost/permissions', 'administrator', (ctx) => {
    const name = ctx.params['vhost']!;
    if (!ctx.broker.vhosts.has(name)) throw objectNotFound();
    return ctx.broker.users.listPermissions().filter((p) => p.vhost === name).map((p) => permissionJson(p.vhost, p.user, p.permission));
  });
  r.get('/api/vhosts/:vhost/topic-permissions', 'administrator', (ctx) => {
    const name = ctx.params['vhost']!;
    if (!ctx.broker.vhosts.has(name)) throw objectNotFound();
    return ctx.broker.users.listTopicPermissions().filter((p) => p.vhost === name).map((p) => topicPermissionJson(p.vhost, p.user, p.permission));
  });
}
