/**
 * Bindings: /api/bindings[/{vhost}], and between one exchange and a queue (`e/{source}/q/{queue}`)
 * or another exchange (`e/{source}/e/{destination}`): list, create (POST), and show or delete one
 * by its properties key. Lists include the default exchange's implicit binding to every queue, as
 * RabbitMQ's do.
 */
import type { Binding, Destination } from '../../broker/exchange/index.js';
import type { VirtualHost } from '../../broker/vhost.js';
import { fieldTableFromJson } from '../../protocol/field-table.js';
import { visibleVhosts } from '../access.js';
import { Reply, objectNotFound } from '../http.js';
import type { Ctx, Router } from '../router.js';
import { optionalObject, optionalString } from '../validate.js';
import { bindingJson, defaultBinding, propertiesKey } from '../views.js';
import { amqp, checkPermission, listedVhostParam, vhostParam } from './common.js';
import { exchangeParam } from './exchanges.js';

export function bindingRoutes(r: Router): void {
  r.get('/api/bindings', 'management', (ctx) => {
    const visible = visibleVhosts(ctx.broker, ctx.user);
    return [...ctx.broker.vhosts.values()].filter((v) => visible.has(v.name)).flatMap(allBindingsJson);
  });
  r.get('/api/bindings/:vhost', 'management', (ctx) => allBindingsJson(vhostParam(ctx)));
  for (const kind of ['q', 'e'] as const) {
    const base = `/api/bindings/:vhost/e/:source/${kind}/:destination`;
    // Missing vhost, exchange or destination: an empty list, as RabbitMQ (tools read "no binding").
    r.get(base, 'management', (ctx) => {
      const vhost = listedVhostParam(ctx);
      if (!vhost) return [];
      const destination: Destination = { kind: kind === 'q' ? 'queue' : 'exchange', name: ctx.params['destination']! };
      return between(vhost, exchangeParam(ctx, 'source'), destination).map((b) => bindingJson(vhost.name, b));
    });
    r.post(base, 'management', (ctx) => createBinding(ctx, kind));
    r.get(`${base}/:props`, 'management', (ctx) => bindingJson(ctx.params['vhost']!, findBinding(ctx, kind)));
    r.delete(`${base}/:props`, 'management', (ctx) => {
      const b = findBinding(ctx, kind);
      const vhost = ctx.broker.vhosts.get(ctx.params['vhost']!)!;
      checkPermission(ctx, vhost.name, 'write', b.destination.kind, b.destination.name);
      checkPermission(ctx, vhost.name, 'read', 'exchange', b.source);
      amqp(() => vhost.unbind(b.source, b.destination, b.routingKey, b.arguments, 0));
      return new Reply(204);
    });
  }
}

function allBindingsJson(v: VirtualHost): Record<string, unknown>[] {
  return [
    ...[...v.queues.keys()].map((q) => defaultBinding(v.name, q)),
    ...v.allBindings().map((b) => bindingJson(v.name, b)),
  ];
}

function endpoints(ctx: Ctx, kind: 'q' | 'e'): { vhost: VirtualHost; destination: Destination } {
  const vhost = vhostParam(ctx);
  const source = exchangeParam(ctx, 'source');
  const destination: Destination = { kind: kind === 'q' ? 'queue' : 'exchange', name: ctx.params['destination']! };
  if (!vhost.exchanges.has(source)) throw objectNotFound();
  const exists = destination.kind === 'queue' ? vhost.queues.has(destination.name) : vhost.exchanges.has(destination.name);
  if (!exists) throw objectNotFound();
  return { vhost, destination };
}

function between(vhost: VirtualHost, source: string, destination: Destination): Binding[] {
  const ex = vhost.exchanges.get(source);
  if (!ex) return [];
  return [...ex.allBindings()].filter((b) => b.destination.kind === destination.kind && b.destination.name === destination.name);
}

function findBinding(ctx: Ctx, kind: 'q' | 'e'): Binding {
  const { vhost, destination } = endpoints(ctx, kind);
  const props = ctx.params['props']!;
  const b = between(vhost, exchangeParam(ctx, 'source'), destination).find((x) => samePropertiesKey(props, propertiesKey(x.routingKey, x.arguments)));
  if (!b) throw objectNotFound();
  return b;
}

/**
 * Whether the path's properties key names this binding. Clients quote the key once more in the URL
 * (rabbitmqadmin, the UI); one that sends it as listed gets a once-decoded key, which RabbitMQ
 * unquotes again: compare both unquoted.
 */
function samePropertiesKey(param: string, key: string): boolean {
  return param === key || unquote(param) === unquote(key);
}

/** mochiweb's unquote: `+` is a space, and a `%` not followed by two hex digits stays as it is. */
function unquote(s: string): string {
  return s.replace(/\+/g, ' ').replace(/(?:%[0-9A-Fa-f]{2})+/g, (run) => {
    try {
      return decodeURIComponent(run);
    } catch {
      return run;
    }
  });
}

/** POST: `routing_key` and `arguments`; 201 with the new binding's location. */
async function createBinding(ctx: Ctx, kind: 'q' | 'e'): Promise<Reply> {
  const vhost = vhostParam(ctx);
  const source = exchangeParam(ctx, 'source');
  const destination: Destination = { kind: kind === 'q' ? 'queue' : 'exchange', name: ctx.params['destination']! };
  const body = await ctx.body();
  const routingKey = optionalString(body, 'routing_key', '');
  const args = fieldTableFromJson(optionalObject(body, 'arguments'));
  checkPermission(ctx, vhost.name, 'write', destination.kind, destination.name);
  checkPermission(ctx, vhost.name, 'read', 'exchange', source);
  if (vhost.exchanges.get(source)?.type === 'topic') {
    amqp(() => ctx.broker.users.checkTopic(ctx.user.name, vhost.name, 'read', source, routingKey));
  }
  amqp(() => vhost.bind(source, destination, routingKey, args, 0));
  // Relative to the POSTed URL, as RabbitMQ's: "<destination>/<properties key>", URL-encoded.
  const location = `${encodeURIComponent(destination.name)}/${encodeURIComponent(propertiesKey(routingKey, args))}`;
  return new Reply(201, undefined, { location });
}
