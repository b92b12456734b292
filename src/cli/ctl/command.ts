/** What every warrenctl command gets and declares. */
import { CtlError, Exit, type ManagementClient } from './client.js';
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

export function usageError(message: string): CtlError {
  return new CtlError(message, Exit.USAGE);
}
