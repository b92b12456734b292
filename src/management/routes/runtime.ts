/**
 * Warren's own endpoints for what rabbitmqctl changes on a running node without the HTTP API having
 * an equivalent: firehose tracing for any vhost name (trace_on/trace_off), the memory high watermark
 * (set_vm_memory_high_watermark) and the disk free limit (set_disk_free_limit). warrenctl talks to
 * these; they are under /api/warren/ so they never clash with RabbitMQ's paths.
 */
import { informationUnit } from '../../conf/values.js';
import { Reply, badRequest } from '../http.js';
import type { Router } from '../router.js';

export function runtimeRoutes(r: Router): void {
  // Like RabbitMQ, a vhost that does not exist (yet) may be named: tracing starts when it is created.
  r.put('/api/warren/tracing/:vhost', 'administrator', async (ctx) => {
    const body = await ctx.body();
    if (typeof body['enabled'] !== 'boolean') throw badRequest("'enabled' must be true or false");
    ctx.broker.setTracing(ctx.params['vhost']!, body['enabled']);
    return new Reply(204);
  });
  r.put('/api/warren/memory-high-watermark', 'administrator', async (ctx) => {
    const body = await ctx.body();
    if (body['fraction'] !== undefined) {
      const f = body['fraction'];
      if (typeof f !== 'number' || !(f >= 0 && f <= 1)) throw badRequest('The threshold should be a fraction between 0.0 and 1.0');
      ctx.broker.setMemoryHighWatermark({ fraction: f });
    } else if (body['absolute'] !== undefined) {
      ctx.broker.setMemoryHighWatermark({ bytes: bytesOf(body['absolute']) });
    } else throw badRequest("give 'fraction' (0.0 to 1.0) or 'absolute' (bytes, or a value with a unit such as 1GB)");
    return new Reply(204);
  });
  r.put('/api/warren/disk-free-limit', 'administrator', async (ctx) => {
    const body = await ctx.body();
    if (body['mem_relative'] !== undefined) {
      const f = body['mem_relative'];
      if (typeof f !== 'number' || !(f >= 0)) throw badRequest("'mem_relative' must be a non-negative number");
      ctx.broker.setDiskFreeLimit({ memRelative: f });
    } else if (body['bytes'] !== undefined) {
      ctx.broker.setDiskFreeLimit({ bytes: bytesOf(body['bytes']) });
    } else throw badRequest("give 'bytes' (or a value with a unit such as 1GB) or 'mem_relative'");
    return new Reply(204);
  });
}

function bytesOf(v: unknown): number {
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return v;
  if (typeof v === 'string') {
    try {
      return informationUnit(v);
    } catch {
      // answered below
    }
  }
  throw badRequest(`'${String(v)}' is not a number of bytes (e.g. 1024, 500MB, 2GB, 1GiB)`);
}
