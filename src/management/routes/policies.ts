/**
 * Policies and operator policies: /api/policies[/{vhost}[/{name}]] (one policy: policymaker) and
 * /api/operator-policies[/{vhost}[/{name}]] (one: administrator), with RabbitMQ's validation reasons.
 * A change applies to the vhost's existing queues and exchanges at once.
 */
import { parsePolicy, policyJson, PolicyValidationError, type PolicyKind } from '../../broker/policies.js';
import { visibleVhosts } from '../access.js';
import { Reply, badRequest, notFound, objectNotFound } from '../http.js';
import type { Ctx, Router } from '../router.js';
import { vhostParam } from './common.js';

export function policyRoutes(r: Router): void {
  routesFor(r, 'policy', '/api/policies', 'policymaker');
  routesFor(r, 'operator_policy', '/api/operator-policies', 'administrator');
}

function routesFor(r: Router, kind: PolicyKind, base: string, access: 'policymaker' | 'administrator'): void {
  // The lists are open to every management user for the vhosts they can access (monitoring tools
  // read them); one policy, and changes, need the policymaker or administrator tag.
  r.get(base, 'management', (ctx) => {
    const visible = visibleVhosts(ctx.broker, ctx.user);
    return [...ctx.broker.vhosts.values()].filter((v) => visible.has(v.name))
      .flatMap((v) => [...v.policies.of(kind).values()].map(policyJson));
  });
  r.get(`${base}/:vhost`, 'management', (ctx) => [...vhostParam(ctx).policies.of(kind).values()].map(policyJson));
  r.get(`${base}/:vhost/:name`, access, (ctx) => {
    const p = vhostParam(ctx).policies.of(kind).get(ctx.params['name']!);
    if (!p) throw objectNotFound();
    return policyJson(p);
  });
  r.put(`${base}/:vhost/:name`, access, async (ctx: Ctx) => {
    if (!ctx.broker.vhosts.has(ctx.params['vhost']!)) throw notFound('vhost_not_found');
    const vhost = vhostParam(ctx);
    const name = ctx.params['name']!;
    const body = await ctx.body();
    let policy;
    try {
      policy = parsePolicy(kind, vhost.name, name, body);
    } catch (e) {
      if (e instanceof PolicyValidationError) throw badRequest(e.message);
      throw e;
    }
    const existed = vhost.policies.of(kind).has(name);
    vhost.setPolicy(kind, policy);
    return new Reply(existed ? 204 : 201);
  });
  r.delete(`${base}/:vhost/:name`, access, (ctx) => {
    if (!vhostParam(ctx).clearPolicy(kind, ctx.params['name']!)) throw objectNotFound();
    return new Reply(204);
  });
}
