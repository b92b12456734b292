/** What every warrenctl command gets and declares. */
import { ArgumentError, Exit, type ManagementClient } from './client.js';
import type { Output } from './output.js';

export interface CommandContext {
  args: string[];
  options: Record<string, string | true>;
  /** -p / --vhost, default "/". */
  vhost: string;
  /** -t / --timeout, seconds. */
  timeoutSeconds: number;
  client: ManagementClient;
  out: Output;
}

export interface Command {
  usage: string;
  description: string;
  /** Positional arguments after the command name. */
  minArgs: number;
  maxArgs: number;
  run(ctx: CommandContext): Promise<void>;
}

export type CommandTable = Record<string, Command>;


/** rabbitmqctl's node name in messages: Warren's, as /api/overview reports it. */
export async function nodeName(ctx: CommandContext): Promise<string> {
  return String(((await ctx.client.get('/api/overview')) as Record<string, unknown>)['node']);
}

/** rabbitmqctl's refusal of an option's value ("-t : abc"), named as it was given. */
export function invalidOption(options: Record<string, string | true>, name: string, short?: string): ArgumentError {
  return new ArgumentError(`Invalid options for this command:\n${short ?? `--${name}`} : ${options[name]}`, Exit.USAGE);
}

export interface CommandSpec<A extends (string | undefined)[]> {
  usage: string;
  description: string;
  /** Positional arguments after the command name: exactly n, or [min, max]. */
  arity: number | readonly [number, number];
  /** Refusals of the command line itself, before anything is printed (throw an ArgumentError). */
  check?: (ctx: CommandContext, args: A) => void;
  /** rabbitmqctl's informational line, printed before the work ("Deleting user "x" ..."). */
  banner?: (ctx: CommandContext, args: A) => string;
  run(ctx: CommandContext, args: A): Promise<void>;
}

/** A command whose arguments are checked, named and announced the way every rabbitmqctl command does it. */
export function command<A extends (string | undefined)[] = string[]>(spec: CommandSpec<A>): Command {
  const [minArgs, maxArgs] = typeof spec.arity === 'number' ? [spec.arity, spec.arity] : spec.arity;
  return {
    usage: spec.usage,
    description: spec.description,
    minArgs,
    maxArgs,
    async run(ctx) {
      const args = ctx.args as A;
      spec.check?.(ctx, args);
      if (spec.banner) ctx.out.banner(spec.banner(ctx, args));
      await spec.run(ctx, args);
    },
  };
}
