/**
 * /api/auth/attempts/{node} and /source: AMQP login attempts, succeeded and failed, as RabbitMQ 3.10
 * reports them (failed logins are also logged with peer, user and mechanism). /api/auth, which
 * login pages read without credentials to learn whether to offer OAuth 2 (UAA): Warren has basic
 * authentication only. And POST /api/login, RabbitMQ's form login (`username`, `password`,
 * url-encoded), which answers "ok" with the credentials in an `auth` cookie for the UI.
 */
import { authenticate, requireLevel } from '../access.js';
import { Reply, objectNotFound, readBody } from '../http.js';
import type { Router } from '../router.js';
import { isThisNode } from './nodes.js';

export function authAttemptRoutes(r: Router): void {
  r.get('/api/auth', 'public', () => ({ enable_uaa: false, uaa_client_id: '', uaa_location: '' }));
  r.post('/api/login', 'public', async (ctx) => {
    const form = new URLSearchParams((await readBody(ctx.req, 64 * 1024)).toString('utf8'));
    const credentials = Buffer.from(`${form.get('username') ?? ''}:${form.get('password') ?? ''}`).toString('base64');
    requireLevel(authenticate(ctx.broker, `Basic ${credentials}`, ctx.req.socket.remoteAddress ?? ''), 'management');
    return new Reply(200, 'ok', { 'set-cookie': `auth=${credentials}; Version=1` });
  });
  r.get('/api/auth/attempts/:node', 'monitoring', (ctx) => {
    if (!isThisNode(ctx.params['node']!)) throw objectNotFound();
    return [{ protocol: 'amqp091', ...ctx.broker.logins.totals }];
  });
  r.get('/api/auth/attempts/:node/source', 'monitoring', (ctx) => {
    if (!isThisNode(ctx.params['node']!)) throw objectNotFound();
    return ctx.broker.logins.bySource();
  });
}
