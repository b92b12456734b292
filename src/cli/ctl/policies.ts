/**
 * Policy and limit commands with rabbitmqctl's names, arguments, banners and exit codes:
 * set/clear/list_policies, set/clear/list_operator_policies, set/clear/list_vhost_limits,
 * set/clear/list_user_limits.
 */
import { CtlError, Exit, apiError, seg, type ApiResponse } from './client.js';
import type { Command, CommandContext, CommandTable } from './command.js';
import { listCommand } from './listing.js';

/** The API HTML-escapes policy validation reasons (as RabbitMQ's does); a terminal wants them plain. */
const plain = (s: string) => s.replace(/&lt;/g, '<').replace(/&gt;/g, '>');

/** Refusals of the broker about the content (bad definition, unknown policy) exit 69 as in rabbitmqctl. */
function refused(res: ApiResponse): CtlError {
  const e = apiError(res);
  return res.status === 400 || res.status === 404 ? new CtlError(plain(e.message), Exit.UNAVAILABLE) : e;
}

async function send(ctx: CommandContext, method: 'PUT' | 'DELETE', path: string, body?: unknown, notFound?: string): Promise<void> {
  const res = await ctx.client.request(method, path, body);
  if (res.status >= 200 && res.status < 300) return;
  if (res.status === 404 && notFound !== undefined) throw new CtlError(notFound, Exit.UNAVAILABLE);
  throw refused(res);
}

function parseJson(text: string): Record<string, unknown> {
  try {
    const v: unknown = JSON.parse(text);
    if (typeof v === 'object' && v !== null && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {
    // fall through
  }
  throw new CtlError('JSON decoding error. Reason: badarg', Exit.UNAVAILABLE);
}

function setPolicy(kind: 'policy' | 'operator policy override', base: string): Command {
  return {
    usage: `${base === 'policies' ? 'set_policy' : 'set_operator_policy'} [-p <vhost>] [--priority <priority>] [--apply-to <queues|exchanges|all>] <name> <pattern> <definition>`,
    description: base === 'policies' ? 'Sets or updates a policy' : 'Sets or updates an operator policy',
    minArgs: 3,
    maxArgs: 3,
    async run(ctx) {
      const [name, pattern, definition] = ctx.args as [string, string, string];
      const priorityText = typeof ctx.options['priority'] === 'string' ? ctx.options['priority'] : '0';
      ctx.out.banner(`Setting ${kind} "${name}" for pattern "${pattern}" to "${definition}" with priority "${priorityText}" for vhost "${ctx.vhost}" ...`);
      const priority = Number(priorityText);
      if (!Number.isInteger(priority)) throw new CtlError(`priority must be an integer, got "${priorityText}"`, Exit.USAGE);
      const body = {
        pattern, priority, definition: parseJson(definition),
        'apply-to': typeof ctx.options['apply-to'] === 'string' ? ctx.options['apply-to'] : 'all',
      };
      await send(ctx, 'PUT', `/api/${base}/${seg(ctx.vhost)}/${seg(name)}`, body);
    },
  };
}

function clearPolicy(kind: 'policy' | 'operator policy', base: string): Command {
  return {
    usage: `${base === 'policies' ? 'clear_policy' : 'clear_operator_policy'} [-p <vhost>] <name>`,
    description: base === 'policies' ? 'Clears a policy' : 'Clears an operator policy',
    minArgs: 1,
    maxArgs: 1,
    async run(ctx) {
      const [name] = ctx.args as [string];
      ctx.out.banner(`Clearing ${kind} "${name}" on vhost "${ctx.vhost}" ...`);
      await send(ctx, 'DELETE', `/api/${base}/${seg(ctx.vhost)}/${seg(name)}`, undefined, 'Parameter does not exist');
    },
  };
}

const policyKeys = {
  vhost: (p: Record<string, unknown>) => p['vhost'],
  name: (p: Record<string, unknown>) => p['name'],
  pattern: (p: Record<string, unknown>) => p['pattern'],
  'apply-to': (p: Record<string, unknown>) => p['apply-to'],
  definition: (p: Record<string, unknown>) => JSON.stringify(p['definition']),
  priority: (p: Record<string, unknown>) => p['priority'],
};

const vhostMissing = (ctx: CommandContext) => new CtlError(`Virtual host '${ctx.vhost}' does not exist`, Exit.UNAVAILABLE);

/** Prints one limits document as rabbitmqctl does ({"max-queues":5}); nothing when there are none. */
async function printLimits(ctx: CommandContext, path: string): Promise<void> {
  const res = await ctx.client.request('GET', path);
  if (res.status !== 200) throw refused(res);
  const items = res.body as { value: Record<string, number> }[];
  if (items.length > 0) ctx.out.line(JSON.stringify(items[0]!.value));
}

export const policyCommands: CommandTable = {
  set_policy: setPolicy('policy', 'policies'),
  clear_policy: clearPolicy('policy', 'policies'),
  list_policies: listCommand({
    usage: 'list_policies [-p <vhost>]',
    description: 'Lists the policies of a vhost',
    banner: (ctx) => `Listing policies for vhost "${ctx.vhost}" ...`,
    path: (ctx) => `/api/policies/${seg(ctx.vhost)}`,
    keys: policyKeys,
    defaults: Object.keys(policyKeys),
    fixedColumns: true,
    notFound: vhostMissing,
  }),
  set_operator_policy: setPolicy('operator policy override', 'operator-policies'),
  clear_operator_policy: clearPolicy('operator policy', 'operator-policies'),
  list_operator_policies: listCommand({
    usage: 'list_operator_policies [-p <vhost>]',
    description: 'Lists the operator policies of a vhost',
    banner: (ctx) => `Listing operator policy overrides for vhost "${ctx.vhost}" ...`,
    path: (ctx) => `/api/operator-policies/${seg(ctx.vhost)}`,
    keys: policyKeys,
    defaults: Object.keys(policyKeys),
    fixedColumns: true,
    notFound: vhostMissing,
  }),
  set_vhost_limits: {
    usage: 'set_vhost_limits [-p <vhost>] <definition>',
    description: 'Sets vhost limits ({"max-connections": n, "max-queues": n}; negative = no limit)',
    minArgs: 1,
    maxArgs: 1,
    async run(ctx) {
      const [definition] = ctx.args as [string];
      ctx.out.banner(`Setting vhost limits to "${definition}" for vhost "${ctx.vhost}" ...`);
      for (const [k, value] of Object.entries(parseJson(definition))) {
        await send(ctx, 'PUT', `/api/vhost-limits/${seg(ctx.vhost)}/${seg(k)}`, { value });
      }
    },
  },
  clear_vhost_limits: {
    usage: 'clear_vhost_limits [-p <vhost>]',
    description: 'Clears every limit of a vhost',
    minArgs: 0,
    maxArgs: 0,
    async run(ctx) {
      ctx.out.banner(`Clearing vhost "${ctx.vhost}" limits ...`);
      for (const k of ['max-connections', 'max-queues']) await send(ctx, 'DELETE', `/api/vhost-limits/${seg(ctx.vhost)}/${k}`);
    },
  },
  list_vhost_limits: {
    usage: 'list_vhost_limits [-p <vhost>] [--global]',
    description: "Lists a vhost's limits (--global: every vhost's)",
    minArgs: 0,
    maxArgs: 0,
    async run(ctx) {
      if (ctx.options['global'] === true) {
        ctx.out.banner('Listing limits for all vhosts ...');
        const res = await ctx.client.request('GET', '/api/vhost-limits');
        if (res.status !== 200) throw refused(res);
        const items = res.body as { vhost: string; value: Record<string, number> }[];
        ctx.out.table(['vhost', 'limits'], items.map((i) => [i.vhost, JSON.stringify(i.value)]));
        return;
      }
      ctx.out.banner(`Listing limits for vhost "${ctx.vhost}" ...`);
      await printLimits(ctx, `/api/vhost-limits/${seg(ctx.vhost)}`);
    },
  },
  set_user_limits: {
    usage: 'set_user_limits <username> <definition>',
    description: 'Sets user limits ({"max-connections": n, "max-channels": n}; negative = no limit)',
    minArgs: 2,
    maxArgs: 2,
    async run(ctx) {
      const [user, definition] = ctx.args as [string, string];
      ctx.out.banner(`Setting user limits to "${definition}" for user "${user}" ...`);
      for (const [k, value] of Object.entries(parseJson(definition))) {
        await send(ctx, 'PUT', `/api/user-limits/${seg(user)}/${seg(k)}`, { value });
      }
    },
  },
  clear_user_limits: {
    usage: 'clear_user_limits <username> <limit|all>',
    description: 'Clears one user limit, or all of them',
    minArgs: 2,
    maxArgs: 2,
    async run(ctx) {
      const [user, name] = ctx.args as [string, string];
      ctx.out.banner(name === 'all' ? `Clearing all limits for user "${user}" ...` : `Clearing "${name}" limit for user "${user}" ...`);
      for (const k of name === 'all' ? ['max-connections', 'max-channels'] : [name]) {
        await send(ctx, 'DELETE', `/api/user-limits/${seg(user)}/${seg(k)}`);
      }
    },
  },
  list_user_limits: {
    usage: 'list_user_limits [--user <username>]',
    description: "Lists a user's limits (default: the API user's)",
    minArgs: 0,
    maxArgs: 0,
    async run(ctx) {
      const user = typeof ctx.options['user'] === 'string' ? ctx.options['user'] : ctx.client.username;
      ctx.out.banner(`Listing limits for user "${user}" ...`);
      await printLimits(ctx, `/api/user-limits/${seg(user)}`);
    },
  },
};
