/**
 * RabbitMQ 3.10's rabbitmq_stream_management routes: stream-protocol connections (all, by vhost,
 * one by name, its publishers and consumers), and publishers and consumers across connections (all,
 * by vhost, publishers also by stream). Management users see their own connections; monitoring and
 * administrator users see all.
 */
import type { StreamConnection } from '../../stream/stream-connection.js';
import { seesConnectionOf } from '../access.js';
import { objectNotFound } from '../http.js';
import type { Ctx, Router } from '../router.js';
import { streamConnectionJson, streamConsumerJson, streamPublisherJson } from '../stream-views.js';
import { vhostParam } from './common.js';

export function streamConnectionRoutes(r: Router): void {
  r.get('/api/stream/connections', 'management', (ctx) => visibleStreamConnections(ctx).map((c) => streamConnectionJson(ctx.stats, c)));
  r.get('/api/stream/connections/:vhost', 'management', (ctx) => inVhost(ctx).map((c) => streamConnectionJson(ctx.stats, c)));
  r.get('/api/stream/connections/:vhost/:name', 'management', (ctx) => streamConnectionJson(ctx.stats, connectionParam(ctx)));
  r.get('/api/stream/connections/:vhost/:name/publishers', 'management', (ctx) => publishers([connectionParam(ctx)]));
  r.get('/api/stream/connections/:vhost/:name/consumers', 'management', (ctx) => consumers([connectionParam(ctx)]));
  r.get('/api/stream/publishers', 'management', (ctx) => publishers(visibleStreamConnections(ctx)));
  r.get('/api/stream/publishers/:vhost', 'management', (ctx) => publishers(inVhost(ctx)));
  r.get('/api/stream/publishers/:vhost/:queue', 'management', (ctx) =>
    publishers(inVhost(ctx)).filter((p) => (p['queue'] as { name: string }).name === ctx.params['queue']));
  r.get('/api/stream/consumers', 'management', (ctx) => consumers(visibleStreamConnections(ctx)));
  r.get('/api/stream/consumers/:vhost', 'management', (ctx) => consumers(inVhost(ctx)));
}

/** Open stream connections the user may see (their own; all for monitoring and administrator users). */
export function visibleStreamConnections(ctx: Ctx): StreamConnection[] {
  return [...ctx.broker.streamConnections].filter((c) => c.isOpen && seesConnectionOf(ctx.user, c.user));
}

function inVhost(ctx: Ctx): StreamConnection[] {
  const vhost = vhostParam(ctx).name;
  return visibleStreamConnections(ctx).filter((c) => c.vhost === vhost);
}

function connectionParam(ctx: Ctx): StreamConnection {
  const c = inVhost(ctx).find((x) => x.name === ctx.params['name']);
  if (!c) throw objectNotFound();
  return c;
}

function publishers(list: StreamConnection[]): Record<string, unknown>[] {
  return list.flatMap((c) => [...c.publishers.values()].map((p) => streamPublisherJson(c, p)));
}

function consumers(list: StreamConnection[]): Record<string, unknown>[] {
  return list.flatMap((c) => [...c.subscriptions.values()].map((s) => streamConsumerJson(c, s)));
}
