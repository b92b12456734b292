/**
 * /api/auth/attempts/{node} and /source: AMQP login attempts, succeeded and failed, as RabbitMQ 3.10
 * reports them (failed logins are also logged with peer, user and mechanism). And /api/auth, which
 * login pages read without credentials to learn whether to offer OAuth 2 (UAA): Warren has basic
 * authentication only.
 */
import { objectNotFound } from '../http.js';
import type { Router } from '../router.js';
import { isThisNode } from './nodes.js';

export function authAttemptRoutes(r: Router): void {
  r.get('/api/auth', 'public', () => ({ enable_uaa: false, uaa_client_id: '', uaa_location: '' }));
  r.get('/api/auth/attempts/:node', 'monitoring', (ctx) => {
    if (!isThisNode(ctx.params['node']!)) throw objectNotFound();
    return [{ protocol: 'amqp091', ...ctx.broker.logins.totals }];
  });
  r.get('/api/auth/attempts/:node/source', 'monitoring', (ctx) => {
    if (!isThisNode(ctx.params['node']!)) throw objectNotFound();
    return ctx.broker.logins.bySource();
  });
}
