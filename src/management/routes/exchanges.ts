/**
 * Exchanges: /api/exchanges[/{vhost}[/{name}]] (list, show, declare, delete), their bindings as
 * source or destination, and publishing (POST …/publish), with the user's AMQP permissions.
 */
import { isExchangeType, unknownExchangeTypeText } from '../../broker/exchange/index.js';
import { Message } from '../../broker/message.js';
import { fieldTableFromJson } from '../../protocol/field-table.js';
import { writePropertyFields } from '../../protocol/properties.js';
import { visibleVhosts } from '../access.js';
import { AmqpError, unknownDeliveryMode } from '../../protocol/errors.js';
import { Reply, badRequest, objectNotFound } from '../http.js';
import { payloadFromJson, propertiesFromJson } from '../message-json.js';
import type { Ctx, Router } from '../router.js';
import { optionalBool, optionalObject, optionalString, queryFlag, requireKeys, requireString } from '../validate.js';
import { bindingJson, defaultBinding, exchangeJson } from '../views.js';
import { checkPermission, listedVhostParam, publishError, refusedPlainly, vhostParam } from './common.js';

export function exchangeRoutes(r: Router): void {
  r.get('/api/exchanges', 'management', (ctx) => {
    const visible = visibleVhosts(ctx.broker, ctx.user);
    const out = [];
    for (const v of ctx.broker.vhosts.values()) {
      if (!visible.has(v.name)) continue;
      const totals = ctx.stats.exchangeTotals(v.name);
      for (const ex of v.exchanges.values()) out.push(exchangeJson(ctx.stats, totals, ex));
    }
    return out;
  });
  r.get('/api/exchanges/:vhost', 'management', (ctx) => {
    const vhost = vhostParam(ctx);
    const totals = ctx.stats.exchangeTotals(vhost.name);
    return [...vhost.exchanges.values()].map((ex) => exchangeJson(ctx.stats, totals, ex));
  });
  r.get('/api/exchanges/:vhost/:name', 'management', (ctx) => {
    const vhost = vhostParam(ctx);
    const ex = vhost.exchanges.get(exchangeParam(ctx));
    if (!ex) throw objectNotFound();
    return { ...exchangeJson(ctx.stats, ctx.stats.exchangeTotals(vhost.name), ex), incoming: [], outgoing: [] };
  });
  r.put('/api/exchanges/:vhost/:name', 'management', putExchange);
  r.delete('/api/exchanges/:vhost/:name', 'management', (ctx) => {
    const vhost = vhostParam(ctx);
    const name = exchangeParam(ctx);
    if (!vhost.exchanges.has(name)) throw objectNotFound();
    checkPermission(ctx, vhost.name, 'configure', 'exchange', name);
    refusedPlainly(() => vhost.deleteExchange(name, queryFlag(ctx.query, 'if-unused')));
    return new Reply(204);
  });
  // A missing vhost or exchange lists no bindings (200 []), as RabbitMQ.
  r.get('/api/exchanges/:vhost/:name/bindings/source', 'management', (ctx) => {
    const vhost = listedVhostParam(ctx);
    const name = exchangeParam(ctx);
    const ex = vhost?.exchanges.get(name);
    if (!vhost || !ex) return [];
    if (name === '') return [...vhost.queues.keys()].map((q) => defaultBinding(vhost.name, q));
    return [...ex.allBindings()].map((b) => bindingJson(vhost.name, b));
  });
  r.get('/api/exchanges/:vhost/:name/bindings/destination', 'management', (ctx) => {
    const vhost = listedVhostParam(ctx);
    const name = exchangeParam(ctx);
    if (!vhost) return [];
    return vhost.allBindings().filter((b) => b.destination.kind === 'exchange' && b.destination.name === name).map((b) => bindingJson(vhost.name, b));
  });
  r.post('/api/exchanges/:vhost/:name/publish', 'management', publish);
}

/** The default exchange has no name; in URLs it is `amq.default`, as in RabbitMQ's API. */
export function exchangeParam(ctx: Ctx, param = 'name'): string {
  const name = ctx.params[param]!;
  return name === 'amq.default' ? '' : name;
}

/** PUT /api/exchanges/{vhost}/{name}: 201 when created, 204 when an equivalent one exists. */
async function putExchange(ctx: Ctx): Promise<Reply> {
  const vhost = vhostParam(ctx);
  const name = exchangeParam(ctx);
  const body = await ctx.body();
  const type = optionalString(body, 'type', 'direct');
  const durable = optionalBool(body, 'durable', false);
  const autoDelete = optionalBool(body, 'auto_delete', false);
  const internal = optionalBool(body, 'internal', false);
  const args = fieldTableFromJson(optionalObject(body, 'arguments'));
  if (!isExchangeType(type)) throw badRequest(unknownExchangeTypeText(type));
  checkPermission(ctx, vhost.name, 'configure', 'exchange', name);
  const ae = args['alternate-exchange'];
  if (typeof ae === 'string') {
    checkPermission(ctx, vhost.name, 'write', 'exchange', ae);
    checkPermission(ctx, vhost.name, 'read', 'exchange', name);
  }
  const existed = vhost.exchanges.has(name);
  refusedPlainly(() => vhost.declareExchange({ name, type, passive: false, durable, autoDelete, internal, arguments: args }));
  return new Reply(existed ? 204 : 201);
}

/**
 * POST /api/exchanges/{vhost}/{name}/publish: `routing_key`, `properties`, `payload`,
 * `payload_encoding` ("string" or "base64"); answers `{"routed": bool}`.
 */
async function publish(ctx: Ctx): Promise<unknown> {
  const vhost = vhostParam(ctx);
  const name = exchangeParam(ctx);
  const body = await ctx.body();
  requireKeys(body, ['properties', 'routing_key', 'payload', 'payload_encoding']);
  const routingKey = requireString(body, 'routing_key');
  const properties = propertiesFromJson(body['properties']);
  const payload = payloadFromJson(body['payload'], body['payload_encoding']);
  if (Buffer.byteLength(routingKey) > 255) throw badRequest('routing_key is longer than 255 bytes');
  if (properties.userId !== undefined && properties.userId !== ctx.user.name) {
    throw badRequest(`user_id property set to '${properties.userId}' but authenticated user was '${ctx.user.name}'`);
  }
  checkPermission(ctx, vhost.name, 'write', 'exchange', name, 'publish');
  const exchange = vhost.exchanges.get(name);
  if (!exchange) throw badRequest(`404 NOT_FOUND - no exchange '${name}' in vhost '${vhost.name}'`);
  if (exchange.internal) throw badRequest(`403 ACCESS_REFUSED - cannot publish to internal exchange '${name}' in vhost '${vhost.name}'`);
  if (exchange.type === 'topic') {
    try {
      ctx.broker.users.checkTopic(ctx.user.name, vhost.name, 'write', name, routingKey);
    } catch (e) {
      throw e instanceof AmqpError ? publishError(e) : e;
    }
  }
  // As basic.publish: a delivery_mode other than 1 or 2 is refused (RabbitMQ publishes these on a channel).
  const mode = properties.deliveryMode;
  if (mode !== undefined && mode !== 1 && mode !== 2) throw publishError(unknownDeliveryMode(mode));
  const message = new Message(name, routingKey, writePropertyFields(properties), payload, mode === 2);
  const routed = vhost.publish(exchange, message).routed > 0;
  ctx.stats.httpPublished(vhost.name, name, routed);
  return { routed };
}
