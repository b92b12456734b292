/**
 * RabbitMQ's cluster maintenance calls, answered as a single-copy Warren node can (administrators
 * only, as in RabbitMQ): POST /api/rebalance/queues (there are no replicas whose leadership could
 * move: nothing to do), POST /api/vhosts/{vhost}/start/{node} (a vhost never stops on its own here:
 * it is running once it exists), POST /api/queues/{vhost}/{queue}/actions with `sync` or
 * `cancel_sync` (classic mirroring does not exist: nothing to synchronise), and DELETE
 * /api/reset[/{node}], which clears the management's sampled rates and chart histories (the
 * counters themselves belong to the queues and channels and keep counting).
 */
import { Reply, badRequest, objectNotFound } from '../http.js';
import type { Router } from '../router.js';
import { requireKeys } from '../validate.js';
import { isThisNode } from './nodes.js';
import { queueParam, vhostParam } from './common.js';

export function maintenanceRoutes(r: Router): void {
  r.post('/api/rebalance/queues', 'administrator', () => new Reply(204));
  r.post('/api/vhosts/:vhost/start/:node', 'administrator', (ctx) => {
    const vhost = ctx.params['vhost']!;
    const node = ctx.params['node']!;
    if (!isThisNode(node)) throw badRequest(`Request to node ${node} failed with nodedown`);
    if (!ctx.broker.vhosts.has(vhost)) throw badRequest(`Request to node ${node} failed with {no_such_vhost,<<"${vhost}">>}`);
    return new Reply(204);
  });
  r.post('/api/queues/:vhost/:name/actions', 'administrator', async (ctx) => {
    queueParam(ctx, vhostParam(ctx));
    const body = await ctx.body();
    requireKeys(body, ['action']);
    const action = body['action'];
    if (action !== 'sync' && action !== 'cancel_sync') throw badRequest(['unknown', action]);
    return new Reply(204);
  });
  r.delete('/api/reset', 'administrator', (ctx) => {
    ctx.stats.reset();
    return new Reply(204);
  });
  r.delete('/api/reset/:node', 'administrator', (ctx) => {
    if (!isThisNode(ctx.params['node']!)) throw objectNotFound();
    ctx.stats.reset();
    return new Reply(204);
  });
}
