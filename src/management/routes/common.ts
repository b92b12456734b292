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

/** The user's AMQP permission on a resource, checked as for a client (same regexes, same texts). */
export function checkPermission(ctx: Ctx, vhost: string, access: Access, kind: 'queue' | 'exchange', name: string): void {
  amqp(() => ctx.broker.users.check(ctx.user.name, vhost, access, kind, name));
}

/** The `:vhost` path param, checked to exist and to be accessible to the user. */
export function vhostParam(ctx: Ctx): VirtualHost {
  const name = ctx.params['vhost']!;
  requireVhost(ctx.broker, ctx.user, name);
  return ctx.broker.vhosts.get(name)!;
}

export function queueParam(ctx: Ctx, vhost: VirtualHost, param = 'name'): Queue {
  const q = vhost.queues.get(ctx.params[param]!);
  if (!q) throw objectNotFound();
  return q;
}
