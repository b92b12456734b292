/**
 * Commands that change a running node: trace_on/trace_off (the firehose tracer),
 * set_vm_memory_high_watermark and set_disk_free_limit, with rabbitmqctl 3.10.8's messages,
 * argument checks and exit codes. They use Warren's /api/warren/ endpoints.
 */
import { ArgumentError, Exit, apiError, seg } from './client.js';
import { command, nodeName, type CommandContext, type CommandTable } from './command.js';

async function put(ctx: CommandContext, path: string, body: unknown): Promise<void> {
  const res = await ctx.client.request('PUT', path, body);
  if (res.status >= 300) throw apiError(res);
}

const NUMBER = /^[0-9]+(\.[0-9]+)?$/;
const BYTES = /^[0-9]+([kKMG]i?B?|[kKMG]B|[kmg]b)?$/;

export const runtimeCommands: CommandTable = {
  trace_on: command({
    usage: 'trace_on [-p <vhost>]',
    description: 'Starts the firehose tracer for a vhost (copies to amq.rabbitmq.trace)',
    arity: 0,
    banner: (ctx) => `Starting tracing for vhost "${ctx.vhost}" ...`,
    async run(ctx) {
      await put(ctx, `/api/warren/tracing/${seg(ctx.vhost)}`, { enabled: true });
      ctx.out.line(`Trace enabled for vhost ${ctx.vhost}`);
    },
  }),
  trace_off: command({
    usage: 'trace_off [-p <vhost>]',
    description: 'Stops the firehose tracer for a vhost',
    arity: 0,
    banner: (ctx) => `Stopping tracing for vhost "${ctx.vhost}" ...`,
    async run(ctx) {
      await put(ctx, `/api/warren/tracing/${seg(ctx.vhost)}`, { enabled: false });
      ctx.out.line(`Trace disabled for vhost ${ctx.vhost}`);
    },
  }),
  set_vm_memory_high_watermark: command<[string, string | undefined]>({
    usage: 'set_vm_memory_high_watermark <fraction> | absolute <value>',
    description: 'Sets the memory alarm threshold: a fraction of RAM, or absolute bytes (units such as 1GB allowed)',
    arity: [1, 2],
    async run(ctx, [first, second]) {
      if (first === 'absolute') {
        if (second === undefined) throw new ArgumentError('not enough arguments.', Exit.USAGE);
        if (!BYTES.test(second)) throw new ArgumentError('Bad argument.', Exit.DATAERR);
        ctx.out.banner(`Setting memory threshold on ${await nodeName(ctx)} to ${second} bytes ...`);
        await put(ctx, '/api/warren/memory-high-watermark', { absolute: /^[0-9]+$/.test(second) ? Number(second) : second });
        return;
      }
      if (second !== undefined || !NUMBER.test(first)) throw new ArgumentError('Bad argument.', Exit.DATAERR);
      const fraction = Number(first);
      if (fraction > 1) throw new ArgumentError('Bad argument: The threshold should be a fraction between 0.0 and 1.0', Exit.DATAERR);
      ctx.out.banner(`Setting memory threshold on ${await nodeName(ctx)} to ${first} ...`);
      await put(ctx, '/api/warren/memory-high-watermark', { fraction });
    },
  }),
  set_disk_free_limit: command<[string, string | undefined]>({
    usage: 'set_disk_free_limit <disk_limit> | mem_relative <fraction>',
    description: 'Sets the disk alarm threshold: free bytes (units such as 1GB allowed), or a multiple of RAM',
    arity: [1, 2],
    async run(ctx, [first, second]) {
      if (first === 'mem_relative') {
        if (second === undefined) throw new ArgumentError('not enough arguments.', Exit.USAGE);
        if (!NUMBER.test(second)) throw new ArgumentError('Bad argument.', Exit.DATAERR);
        ctx.out.banner(`Setting disk free limit on ${await nodeName(ctx)} to ${second} times the total RAM ...`);
        await put(ctx, '/api/warren/disk-free-limit', { mem_relative: Number(second) });
        return;
      }
      if (second !== undefined || !BYTES.test(first)) throw new ArgumentError('Bad argument.', Exit.DATAERR);
      ctx.out.banner(`Setting disk free limit on ${await nodeName(ctx)} to ${first} bytes ...`);
      await put(ctx, '/api/warren/disk-free-limit', { bytes: /^[0-9]+$/.test(first) ? Number(first) : first });
    },
  }),
};
