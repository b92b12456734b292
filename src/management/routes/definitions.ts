/**
 * /api/definitions[/{vhost}]: export (GET, `?download=name` for a file) and import (POST of the
 * JSON document) in RabbitMQ's format. Administrators only.
 */
import { DefinitionsError, exportDefinitions, importDefinitions } from '../definitions.js';
import { HttpError, Reply, badRequest, notFound } from '../http.js';
import type { Ctx, Router } from '../router.js';

export function definitionRoutes(r: Router): void {
  // /api/all-configuration is the old name, still served by RabbitMQ 3.10.
  for (const path of ['/api/definitions', '/api/all-configuration']) {
    r.get(path, 'administrator', (ctx) => download(ctx, exportDefinitions(ctx.broker)));
    r.post(path, 'administrator', (ctx) => upload(ctx, undefined));
  }
  // A missing vhost: RabbitMQ answers 400 to the export and 404 to the import, both `vhost_not_found`.
  r.get('/api/definitions/:vhost', 'administrator', (ctx) => {
    const vhost = ctx.params['vhost']!;
    if (!ctx.broker.vhosts.has(vhost)) throw badRequest('vhost_not_found');
    return download(ctx, exportDefinitions(ctx.broker, { vhost }));
  });
  r.post('/api/definitions/:vhost', 'administrator', (ctx) => {
    const vhost = ctx.params['vhost']!;
    if (!ctx.broker.vhosts.has(vhost)) throw notFound('vhost_not_found');
    return upload(ctx, vhost);
  });
}

function download(ctx: Ctx, defs: unknown): unknown {
  const name = ctx.query.get('download');
  if (!name) return defs;
  const safe = name.replace(/[^A-Za-z0-9._-]/g, '_');
  return new Reply(200, defs, { 'content-disposition': `attachment; filename=${safe}` });
}

async function upload(ctx: Ctx, vhost: string | undefined): Promise<Reply> {
  const body = await ctx.body().catch((e: unknown) => {
    // RabbitMQ's reason for a definitions file that is not JSON.
    throw e instanceof HttpError && e.reason === 'not_json' ? badRequest('failed_to_parse_json') : e;
  });
  try {
    const options = { ...(vhost === undefined ? {} : { vhost }), actingUser: ctx.user.name };
    ctx.broker.batchDefinitionChanges(() => importDefinitions(ctx.broker, body, options));
  } catch (e) {
    if (e instanceof DefinitionsError) throw badRequest(e.message);
    throw e;
  }
  return new Reply(204);
}
