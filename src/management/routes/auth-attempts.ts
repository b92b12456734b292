/**
 * /api/auth/attempts/{node} and /source: AMQP login attempts, succeeded and failed, as RabbitMQ 3.10
 * reports them (failed logins are also logged with peer, user and mechanism).
 */
import { objectNotFound } from '../http.js';
import type { Router } from '../router.js';
import { NODE_NAME } from '../views.js';

export function authAttemptRoutes(r: Router): void {
  r.get('/api/auth/attempts/:node', 'monitoring', (ctx) => {
    if (ctx.params['node'] !== NODE_NAME) throw objectNotFound();
    return [{ protocol: 'amqp091', ...ctx.broker.logins.totals }];
  });
  r.get('/api/auth/attempts/:node/source', 'monitoring', (ctx) => {
    if (ctx.params['node'] !== NODE_NAME) throw objectNotFound();
    return ctx.broker.logins.bySource();
  });
}
