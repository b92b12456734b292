/**
 * Policy and limit commands with rabbitmqctl's names, arguments, banners and exit codes:
 * set/clear/list_policies, set/clear/list_operator_policies, set/clear/list_vhost_limits,
 * set/clear/list_user_limits.
 */
import { CtlError, Exit, apiError, seg, type ApiResponse } from './client.js';
import { command, invalidOption, nodeName, type Command, type CommandContext, type CommandTable } from './command.js';
import { listCommand } from './listing.js';
import { noSuchUser, vhostDoesNotExist } from './refusals.js';

/** The API HTML-escapes policy validation reasons (as RabbitMQ's does); a terminal wants them plain. */
const plain = (s: string) => s.replace(/&lt;/g, '<').replace(/&gt;/g, '>');

/** Refusals of the broker about the content (bad definition, unknown policy) exit 69 as in rabbitmqctl. */
function refused(res: ApiResponse): CtlError {
  const e = apiError(res);
  return res.status === 400 || res.status === 404 ? new CtlError(plain(e.message), Exit.UNAVAILABLE) : e;
}

/** PUT or DELETE; `notFound` is the command's refusal for a 404 (a missing vhost, policy…). */
async function send(ctx: CommandContext, method: 'PUT' | 'DELETE', path: string, body?: unknown, notFound?: () => CtlError): Promise<void> {
  const res = await ctx.client.request(method, path, body);
  if (res.status >= 200 && res.status < 300) return;
  if (res.status === 404 && notFound !== undefined) throw notFound();
  const reason = (res.body as { reason?: unknown } | undefined)?.reason;
  if (Array.isArray(reason) && reason[0] === 'no_such_user') throw noSuchUser(String(reason[1]));
  throw refused(res);
}

const parameterDoesNotExist = () => new CtlError('Parameter does not exist', Exit.UNAVAILABLE);

async function requireUser(ctx: CommandContext, user: string): Promise<void> {
  const res = await ctx.client.request('GET', `/api/users/${seg(user)}`);
  if (res.status === 404) throw noSuchUser(user);
  if (res.status !== 200) throw apiError(res);
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

/** --priority as given (rabbitmqctl echoes the text), default 0. */
const priorityOf = (ctx: CommandContext) => (typeof ctx.options['priority'] === 'string' ? ctx.options['priority'] : '0');

function setPolicy(kind: 'policy' | 'operator policy override', base: string): Command {
  return command<[string, string, string]>({
    usage: `${base === 'policies' ? 'set_policy' : 'set_operator_policy'} [-p <vhost>] [--priority <priority>] [--apply-to <queues|exchanges|all>] <name> <pattern> <definition>`,
    description: base === 'policies' ? 'Sets or updates a policy' : 'Sets or updates an operator policy',
    arity: 3,
    check: (ctx) => {
      if (!/^-?[0-9]+$/.test(priorityOf(ctx))) throw invalidOption(ctx.options, 'priority');
    },
    banner: (ctx, [name, pattern, definition]) =>
      `Setting ${kind} "${name}" for pattern "${pattern}" to "${definition}" with priority "${priorityOf(ctx)}" for vhost "${ctx.vhost}" ...`,
    async run(ctx, [name, pattern, definition]) {
      const body = {
        pattern, priority: Number(priorityOf(ctx)), definition: parseJson(definition),
        'apply-to': typeof ctx.options['apply-to'] === 'string' ? ctx.options['apply-to'] : 'all',
      };
      await send(ctx, 'PUT', `/api/${base}/${seg(ctx.vhost)}/${seg(name)}`, body, () => vhostDoesNotExist(ctx.vhost));
    },
  });
}

function clearPolicy(kind: 'policy' | 'operator policy', base: string): Command {
  return command<[string]>({
    usage: `${base === 'policies' ? 'clear_policy' : 'clear_operator_policy'} [-p <vhost>] <name>`,
    description: base === 'policies' ? 'Clears a policy' : 'Clears an operator policy',
    arity: 1,
    banner: (ctx, [name]) => `Clearing ${kind} "${name}" on vhost "${ctx.vhost}" ...`,
    async run(ctx, [name]) {
      await send(ctx, 'DELETE', `/api/${base}/${seg(ctx.vhost)}/${seg(name)}`, undefined, parameterDoesNotExist);
    },
  });
}

const policyKeys = {
  vhost: (p: Record<string, unknown>) => p['vhost'],
  name: (p: Record<string, unknown>) => p['name'],
  pattern: (p: Record<string, unknown>) => p['pattern'],
  'apply-to': (p: Record<string, unknown>) => p['apply-to'],
  definition: (p: Record<string, unknown>) => JSON.stringify(p['definition']),
  priority: (p: Record<string, unknown>) => p['priority'],
};

const vhostMissing = (ctx: CommandContext) => vhostDoesNotExist(ctx.vhost);

/** One object's limits document ({"max-queues":5}), undefined when it has none; `missing` for a 404. */
async function limitsOf(ctx: CommandContext, path: string, missing: () => CtlError): Promise<string | undefined> {
  const res = await ctx.client.request('GET', path);
  if (res.status === 404) throw missing();
  if (res.status !== 200) throw refused(res);
  const items = res.body as { value: Record<string, number> }[];
  return items.length > 0 ? JSON.stringify(items[0]!.value) : undefined;
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
  set_vhost_limits: command<[string]>({
    usage: 'set_vhost_limits [-p <vhost>] <definition>',
    description: 'Sets vhost limits ({"max-connections": n, "max-queues": n}; negative = no limit)',
    arity: 1,
    banner: (ctx, [definition]) => `Setting vhost limits to "${definition}" for vhost "${ctx.vhost}" ...`,
    async run(ctx, [definition]) {
      for (const [k, value] of Object.entries(parseJson(definition))) {
        await send(ctx, 'PUT', `/api/vhost-limits/${seg(ctx.vhost)}/${seg(k)}`, { value }, () => vhostDoesNotExist(ctx.vhost));
      }
    },
  }),
  clear_vhost_limits: command({
    usage: 'clear_vhost_limits [-p <vhost>]',
    description: 'Clears every limit of a vhost',
    arity: 0,
    banner: (ctx) => `Clearing vhost "${ctx.vhost}" limits ...`,
    async run(ctx) {
      const res = await ctx.client.request('GET', `/api/vhosts/${seg(ctx.vhost)}`);
      if (res.status === 404) throw parameterDoesNotExist();
      for (const k of ['max-connections', 'max-queues']) await send(ctx, 'DELETE', `/api/vhost-limits/${seg(ctx.vhost)}/${k}`, undefined, () => parameterDoesNotExist());
    },
  }),
  list_vhost_limits: command({
    usage: 'list_vhost_limits [-p <vhost>] [--global]',
    description: "Lists a vhost's limits (--global: every vhost's)",
    arity: 0,
    async run(ctx) {
      if (ctx.options['global'] === true) {
        ctx.out.banner('Listing limits for all vhosts ...');
        const res = await ctx.client.request('GET', '/api/vhost-limits');
        if (res.status !== 200) throw refused(res);
        const items = res.body as { vhost: string; value: Record<string, number> }[];
        ctx.out.table(['vhost', 'limits'], items.map((i) => [i.vhost, JSON.stringify(i.value)]), 'table');
        return;
      }
      ctx.out.banner(`Listing limits for vhost "${ctx.vhost}" ...`);
      const limits = await limitsOf(ctx, `/api/vhost-limits/${seg(ctx.vhost)}`, () => vhostDoesNotExist(ctx.vhost));
      // rabbitmqctl 3.10.8: an empty line (JSON: []) without limits, the node's answer in JSON with them.
      if (!ctx.out.json) ctx.out.line(limits ?? '');
      else if (limits === undefined) ctx.out.raw('[]\n');
      else ctx.out.raw(`${JSON.stringify({ node: await nodeName(ctx), result: 'ok', value: limits })}\n`);
    },
  }),
  set_user_limits: command<[string, string]>({
    usage: 'set_user_limits <username> <definition>',
    description: 'Sets user limits ({"max-connections": n, "max-channels": n}; negative = no limit)',
    arity: 2,
    banner: (_ctx, [user, definition]) => `Setting user limits to "${definition}" for user "${user}" ...`,
    async run(ctx, [user, definition]) {
      for (const [k, value] of Object.entries(parseJson(definition))) {
        await send(ctx, 'PUT', `/api/user-limits/${seg(user)}/${seg(k)}`, { value });
      }
    },
  }),
  clear_user_limits: command<[string, string]>({
    usage: 'clear_user_limits <username> <limit|all>',
    description: 'Clears one user limit, or all of them',
    arity: 2,
    banner: (_ctx, [user, name]) => name === 'all' ? `Clearing all limits for user "${user}" ...` : `Clearing "${name}" limit for user "${user}" ...`,
    async run(ctx, [user, name]) {
      await requireUser(ctx, user);
      for (const k of name === 'all' ? ['max-connections', 'max-channels'] : [name]) {
        await send(ctx, 'DELETE', `/api/user-limits/${seg(user)}/${seg(k)}`);
      }
    },
  }),
  list_user_limits: command({
    usage: 'list_user_limits [--user <username>]',
    description: "Lists a user's limits (default: the API user's)",
    arity: 0,
    async run(ctx) {
      const user = typeof ctx.options['user'] === 'string' ? ctx.options['user'] : ctx.client.username;
      ctx.out.banner(`Listing limits for user "${user}" ...`);
      const limits = (await limitsOf(ctx, `/api/user-limits/${seg(user)}`, () => noSuchUser(user))) ?? '{}';
      if (ctx.out.json) ctx.out.raw(`${JSON.stringify({ message: limits })}\n`);
      else ctx.out.line(limits);
    },
  }),
};
