/**
 * Broker-wide endpoints: /api/overview, /api/whoami, /api/cluster-name, /api/extensions, plus the
 * parameter lists (Warren has no plugin parameters, so they are empty and writes are refused with
 * a clear reason).
 */
import { isMonitor, listableVhosts, visibleVhosts } from '../access.js';
import { badRequest, objectNotFound } from '../http.js';
import type { Router } from '../router.js';
import { addSamples } from '../samples.js';
import { NODE_NAME, overviewJson } from '../views.js';

export function overviewRoutes(r: Router): void {
  r.get('/api/overview', 'management', (ctx) => {
    const json = overviewJson(ctx.broker, ctx.stats, isMonitor(ctx.user) ? listableVhosts(ctx.broker, ctx.user) : visibleVhosts(ctx.broker, ctx.user), ctx.managementPort);
    return addSamples(json, ctx.stats.overviewHistory, ctx.query, json['queue_totals'] as Record<string, unknown>);
  });
  r.get('/api/whoami', 'management', (ctx) => ({ name: ctx.user.name, tags: [...ctx.user.tags] }));
  r.get('/api/cluster-name', 'management', (ctx) => ({ name: ctx.broker.options.clusterName ?? NODE_NAME }));
  r.get('/api/extensions', 'management', () => []);

  // Runtime parameters of plugins Warren does not have (shovel, federation): they list empty, and setting one says so.
  // Policymakers and administrators only, as RabbitMQ.
  for (const path of ['/api/parameters', '/api/parameters/:component', '/api/parameters/:component/:vhost', '/api/global-parameters']) {
    r.get(path, 'policymaker', () => []);
  }
  for (const path of ['/api/parameters/:component/:vhost/:name', '/api/global-parameters/:name']) {
    r.get(path, 'policymaker', () => { throw objectNotFound(); });
    r.delete(path, 'administrator', () => { throw objectNotFound(); });
  }
  // RabbitMQ's words when the plugin that owns a component is not enabled.
  r.put('/api/parameters/:component/:vhost/:name', 'administrator', (ctx) => {
    throw badRequest(`Validation failed\n\ncomponent ${ctx.params['component']} not found\n`);
  });
  r.put('/api/global-parameters/:name', 'administrator', () => { throw badRequest('runtime parameters are not supported by Warren'); });
}
