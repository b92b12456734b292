/**
 * Connections, channels and consumers: list and show them, and close a connection (DELETE, with
 * the reason from the `X-Reason` header). Management users see their own; monitoring and
 * administrator users see all.
 */
import type { Channel } from '../../connection/channel.js';
import type { Connection } from '../../connection/connection.js';
import { closedByManagement } from '../../protocol/errors.js';
import { isAdministrator, isMonitor, seesConnectionOf, visibleVhosts } from '../access.js';
import { Reply, notAuthorised, objectNotFound } from '../http.js';
import type { Ctx, Router } from '../router.js';
import { NODE_NAME, channelJson, channelName, connectionJson, consumerJson, streamSubscriptionJson } from '../views.js';
import { streamConnectionJson } from '../stream-views.js';
import { visibleStreamConnections } from './stream-connections.js';
import { vhostParam } from './common.js';

export function connectionRoutes(r: Router): void {
  // Stream-protocol connections are listed with the AMQP ones, as RabbitMQ lists every protocol's.
  r.get('/api/connections', 'management', (ctx) => [
    ...visibleConnections(ctx).map((c) => connectionJson(ctx.stats, c)),
    ...visibleStreamConnections(ctx).map((c) => streamConnectionJson(ctx.stats, c)),
  ]);
  r.get('/api/vhosts/:vhost/connections', 'management', (ctx) => {
    const vhost = vhostParam(ctx);
    return [
      ...visibleConnections(ctx).filter((c) => c.vhost === vhost).map((c) => connectionJson(ctx.stats, c)),
      ...visibleStreamConnections(ctx).filter((c) => c.vhost === vhost.name).map((c) => streamConnectionJson(ctx.stats, c)),
    ];
  });
  r.get('/api/connections/:name', 'management', (ctx) => {
    const s = visibleStreamConnections(ctx).find((x) => x.name === ctx.params['name']);
    return s ? streamConnectionJson(ctx.stats, s) : connectionJson(ctx.stats, connectionParam(ctx));
  });
  r.delete('/api/connections/:name', 'management', (ctx) => {
    const reason = headerValue(ctx.req.headers['x-reason']) ?? 'Closed via management plugin';
    const s = visibleStreamConnections(ctx).find((x) => x.name === ctx.params['name']);
    if (s) {
      if (!isAdministrator(ctx.user) && s.user !== ctx.user.name) throw notAuthorised('Not administrator user');
      s.forceClose(reason);
      return new Reply(204);
    }
    const c = connectionParam(ctx);
    if (!isAdministrator(ctx.user) && c.username !== ctx.user.name) throw notAuthorised('Not administrator user');
    c.close(closedByManagement(reason));
    return new Reply(204);
  });
  // Tracked connections of one user (RabbitMQ's rabbit_connection_tracking rows): the user, or a monitor.
  r.get('/api/connections/username/:username', 'management', (ctx) => userConnections(ctx).map((c) => ({ name: c.name, vhost: c.vhost, user: c.user, node: NODE_NAME })));
  r.delete('/api/connections/username/:username', 'management', (ctx) => {
    const reason = headerValue(ctx.req.headers['x-reason']) ?? 'Closed via management plugin';
    for (const c of userConnections(ctx)) c.close(reason);
    return new Reply(204);
  });
  r.get('/api/connections/:name/channels', 'management', (ctx) =>
    [...connectionParam(ctx).channels.values()].map((ch) => channelJson(ctx.stats, ch)));

  r.get('/api/channels', 'management', (ctx) => visibleChannels(ctx).map((ch) => channelJson(ctx.stats, ch)));
  r.get('/api/vhosts/:vhost/channels', 'management', (ctx) => {
    const vhost = vhostParam(ctx);
    return visibleChannels(ctx).filter((ch) => ch.connection.vhost === vhost).map((ch) => channelJson(ctx.stats, ch));
  });
  r.get('/api/channels/:name', 'management', (ctx) => {
    const ch = visibleChannels(ctx).find((x) => channelName(x) === ctx.params['name']);
    if (!ch) throw objectNotFound();
    return channelJson(ctx.stats, ch);
  });

  r.get('/api/consumers', 'management', (ctx) => {
    if (isMonitor(ctx.user)) return consumersIn(ctx, () => true);
    const visible = visibleVhosts(ctx.broker, ctx.user);
    return consumersIn(ctx, (vhost) => visible.has(vhost));
  });
  r.get('/api/consumers/:vhost', 'management', (ctx) => {
    const name = vhostParam(ctx).name;
    return consumersIn(ctx, (vhost) => vhost === name);
  });
}

/** A user's AMQP and stream connections, each with a way to close it; 401 for another user's unless a monitor. */
function userConnections(ctx: Ctx): Array<{ name: string; vhost: string; user: string; close(reason: string): void }> {
  const username = ctx.params['username']!;
  if (!seesConnectionOf(ctx.user, username)) throw notAuthorised('Not administrator user');
  return [
    ...[...ctx.broker.connections].filter((c) => c.username === username)
      .map((c) => ({ name: c.name, vhost: c.vhost?.name ?? '', user: c.username, close: (reason: string) => c.close(closedByManagement(reason)) })),
    ...[...ctx.broker.streamConnections].filter((s) => s.user === username)
      .map((s) => ({ name: s.name, vhost: s.vhost, user: s.user, close: (reason: string) => s.forceClose(reason) })),
  ];
}

function visibleConnections(ctx: Ctx): Connection[] {
  return [...ctx.broker.connections].filter((c) => seesConnectionOf(ctx.user, c.username));
}

function visibleChannels(ctx: Ctx): Channel[] {
  return visibleConnections(ctx).flatMap((c) => [...c.channels.values()]);
}

function connectionParam(ctx: Ctx): Connection {
  const c = visibleConnections(ctx).find((x) => x.name === ctx.params['name']);
  if (!c) throw objectNotFound();
  return c;
}

/** Consumers on client channels in the vhosts `include` accepts. */
function consumersIn(ctx: Ctx, include: (vhost: string) => boolean): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const c of ctx.broker.connections) {
    if (!include(c.vhost?.name ?? '')) continue;
    for (const ch of c.channels.values()) {
      for (const consumer of ch.consumers.values()) {
        const json = consumerJson(consumer);
        if (json) out.push(json);
      }
    }
  }
  for (const c of ctx.broker.streamConnections) {
    if (!c.isOpen || !include(c.vhost)) continue;
    for (const s of c.subscriptions.values()) out.push(streamSubscriptionJson(c, s));
  }
  return out;
}

function headerValue(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}
