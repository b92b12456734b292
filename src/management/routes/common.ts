/**
 * What several route modules share: turning AMQP errors raised by the broker core into RabbitMQ's
 * HTTP answers, AMQP permission checks for HTTP operations, and looking things up by path params.
 */
import type { Access } from '../../auth/users.js';
import type { Queue } from '../../broker/queue.js';
import type { VirtualHost } from '../../broker/vhost.js';
import { AmqpError } from '../../protocol/errors.js';
import { ReplyCode } from '../../protocol/generated.js';
import { requireVhost } from '../access.js';
import { HttpError, badRequest, notAuthorised, notFound, objectNotFound } from '../http.js';
import type { Ctx } from '../router.js';

/** "NOT_FOUND - no queue 'x'…" → "no queue 'x'…" (RabbitMQ's HTTP reasons carry no code name). */
function detail(e: AmqpError): string {
  return e.message.replace(/^[A-Z_]+ - /, '');
}

export function toHttpError(e: AmqpError): HttpError {
  if (e.replyCode === ReplyCode.NOT_FOUND) return notFound(detail(e));
  if (e.replyCode === ReplyCode.ACCESS_REFUSED) return notAuthorised(e.replyText);
  return badRequest(detail(e));
}

/** Runs a broker operation, answering its AMQP errors the way RabbitMQ's HTTP API does. */
export function amqp<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof AmqpError) throw toHttpError(e);
    throw e;
  }
}

/**
 * How RabbitMQ words a refused permission over HTTP: declares, deletes, bindings and purges are
 * checked before any channel exists and say only "Access refused." (`plain`); getting messages
 * goes through a channel and gives the AMQP text (`amqp`); publishing answers 400 with the AMQP
 * code in front (`publish`, as for every error of a publish: see publishError).
 */
export type Refusal = 'plain' | 'amqp' | 'publish';

/** The user's AMQP permission on a resource, checked as for a client (same regexes). */
export function checkPermission(ctx: Ctx, vhost: string, access: Access, kind: 'queue' | 'exchange', name: string, refusal: Refusal = 'plain'): void {
  try {
    ctx.broker.users.check(ctx.user.name, vhost, access, kind, name);
  } catch (e) {
    if (!(e instanceof AmqpError)) throw e;
    if (refusal === 'plain') throw notAuthorised('Access refused.');
    throw refusal === 'publish' ? publishError(e) : toHttpError(e);
  }
}

/** Declaring or deleting a reserved queue or exchange (amq.*, the default) is refused with "Access refused." over HTTP. */
export function refusedPlainly<T>(fn: () => T): T {
  try {
    return amqp(fn);
  } catch (e) {
    if (e instanceof HttpError && e.status === 401) throw notAuthorised('Access refused.');
    throw e;
  }
}

/** An AMQP error of a publish over HTTP: 400 with the reply code before the text (`404 NOT_FOUND - no exchange …`). */
export function publishError(e: AmqpError): HttpError {
  return badRequest(`${e.replyCode} ${e.message}`);
}

/**
 * The `:vhost` path param, checked to exist and to be accessible to the user. A write into a
 * vhost that does not exist is RabbitMQ's 404 `vhost_not_found`; a read, its generic 404.
 */
export function vhostParam(ctx: Ctx): VirtualHost {
  const name = ctx.params['vhost']!;
  if (!ctx.broker.vhosts.has(name) && (ctx.req.method === 'PUT' || ctx.req.method === 'POST')) throw notFound('vhost_not_found');
  requireVhost(ctx.broker, ctx.user, name);
  return ctx.broker.vhosts.get(name)!;
}

/**
 * The `:vhost` of a bindings listing, which RabbitMQ answers with an empty list rather than 404
 * when the vhost (or the exchange or queue named) does not exist; access is still checked.
 */
export function listedVhostParam(ctx: Ctx): VirtualHost | undefined {
  const vhost = ctx.broker.vhosts.get(ctx.params['vhost']!);
  if (vhost) requireVhost(ctx.broker, ctx.user, vhost.name);
  return vhost;
}

export function queueParam(ctx: Ctx, vhost: VirtualHost, param = 'name'): Queue {
  const q = vhost.queues.get(ctx.params[param]!);
  if (!q) throw objectNotFound();
  return q;
}
