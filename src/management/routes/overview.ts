/**
 * Broker-wide endpoints: /api/overview, /api/whoami, /api/cluster-name, /api/extensions, plus the
 * runtime parameters: operator policies and vhost limits as RabbitMQ lists them, the global
 * parameters (cluster id and name, and any a client sets); Warren has no plugin components, so
 * setting a vhost parameter is refused in RabbitMQ's words.
 */
import type { VirtualHost } from '../../broker/vhost.js';
import { isMonitor, listableVhosts, visibleVhosts } from '../access.js';
import { globalParameters, runtimeParameters } from '../definitions.js';
import { badRequest, objectNotFound, Reply } from '../http.js';
import type { Ctx, Router } from '../router.js';
import { vhostParam } from './common.js';
import { addSamples } from '../samples.js';
import { NODE_NAME, overviewJson } from '../views.js';
import { requireKeys, requireString } from '../validate.js';
import type { JsonValue } from '../../store/definitions.js';

export function overviewRoutes(r: Router): void {
  r.get('/api/overview', 'management', (ctx) => {
    const json = overviewJson(ctx.broker, ctx.stats, isMonitor(ctx.user) ? listableVhosts(ctx.broker, ctx.user) : visibleVhosts(ctx.broker, ctx.user), ctx.managementPort);
    return addSamples(json, ctx.stats.overviewHistory, ctx.query, json['queue_totals'] as Record<string, unknown>);
  });
  r.get('/api/whoami', 'management', (ctx) => ({ name: ctx.user.name, tags: [...ctx.user.tags] }));
  r.get('/api/cluster-name', 'management', (ctx) => ({ name: ctx.broker.options.clusterName ?? NODE_NAME }));
  r.put('/api/cluster-name', 'administrator', async (ctx) => {
    ctx.broker.setClusterName(requireString(await ctx.body(), 'name'));
    return new Reply(204);
  });
  r.get('/api/extensions', 'management', () => []);

  // Runtime parameters of plugins Warren does not have (shovel, federation): they list empty, and setting one says so.
  // Policymakers and administrators only, as RabbitMQ. The vhost parameters Warren has are the ones
  // RabbitMQ keeps operator policies and vhost limits in (components operator_policy, vhost-limits).
  const parameters = (ctx: Ctx, vhosts: Iterable<VirtualHost>) => {
    const component = ctx.params['component'];
    return runtimeParameters(vhosts).filter((p) => component === undefined || p.component === component);
  };
  r.get('/api/parameters', 'policymaker', (ctx) => {
    const visible = visibleVhosts(ctx.broker, ctx.user);
    return parameters(ctx, [...ctx.broker.vhosts.values()].filter((v) => visible.has(v.name)));
  });
  r.get('/api/parameters/:component', 'policymaker', (ctx) => {
    const visible = visibleVhosts(ctx.broker, ctx.user);
    return parameters(ctx, [...ctx.broker.vhosts.values()].filter((v) => visible.has(v.name)));
  });
  r.get('/api/parameters/:component/:vhost', 'policymaker', (ctx) => parameters(ctx, [vhostParam(ctx)]));
  r.get('/api/parameters/:component/:vhost/:name', 'policymaker', (ctx) => {
    const found = parameters(ctx, [vhostParam(ctx)]).find((p) => p.name === ctx.params['name']);
    if (!found) throw objectNotFound();
    return found;
  });
  r.get('/api/global-parameters', 'policymaker', (ctx) => globalParameters(ctx.broker));
  r.get('/api/global-parameters/:name', 'policymaker', (ctx) => {
    const found = globalParameters(ctx.broker).find((p) => p.name === ctx.params['name']);
    if (!found) throw objectNotFound();
    return found;
  });
  // The parameters Warren lists can be deleted as parameters too (clients clearing every listed
  // parameter, such as rabbit-hole's DeleteAllRuntimeParameters, do that); any other is not found.
  r.delete('/api/parameters/:component/:vhost/:name', 'administrator', (ctx) => {
    const vhost = vhostParam(ctx);
    const { component, name } = ctx.params;
    if (component === 'operator_policy' && vhost.clearPolicy('operator_policy', name!)) return new Reply(204);
    if (component === 'vhost-limits' && name === 'limits' && vhost.limits.size > 0) {
      for (const key of [...vhost.limits.keys()]) vhost.setLimit(key, undefined);
      return new Reply(204);
    }
    throw objectNotFound();
  });
  r.delete('/api/global-parameters/:name', 'administrator', (ctx) => {
    if (!ctx.broker.clearGlobalParameter(ctx.params['name']!)) throw objectNotFound();
    return new Reply(204);
  });
  // RabbitMQ's words when the plugin that owns a component is not enabled.
  r.put('/api/parameters/:component/:vhost/:name', 'administrator', (ctx) => {
    throw badRequest(`Validation failed\n\ncomponent ${ctx.params['component']} not found\n`);
  });
  r.put('/api/global-parameters/:name', 'administrator', async (ctx) => {
    const name = ctx.params['name']!;
    const body = await ctx.body();
    requireKeys(body, ['value']);
    const existed = globalParameters(ctx.broker).some((p) => p.name === name);
    ctx.broker.setGlobalParameter(name, body['value'] as JsonValue);
    return new Reply(existed ? 204 : 201);
  });
}
