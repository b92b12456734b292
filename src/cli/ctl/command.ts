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
