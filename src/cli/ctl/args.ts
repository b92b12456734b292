/**
 * warrenctl's command line in rabbitmqctl's style: options may come before or after the command,
 * `--name value`, `--name=value` or `-pVALUE`, and everything else (a lone "-", a regex such as
 * "-foo") is a positional argument. Tokenized by the shared parser (src/command-line.ts).
 */
import { parseCommandLine, type OptionSpec } from '../../command-line.js';
import { CtlError, Exit } from './client.js';

export interface ParsedArgs {
  positional: string[];
  /** Options by long name; flags are `true`. */
  options: Record<string, string | true>;
}

const OPTIONS: Record<string, OptionSpec> = {
  vhost: { type: 'string', short: 'p' },
  url: { type: 'string' },
  formatter: { type: 'string' },
  timeout: { type: 'string', short: 't' },
  node: { type: 'string', short: 'n' },
  description: { type: 'string' },
  tags: { type: 'string' },
  'default-queue-type': { type: 'string' },
  priority: { type: 'string' },
  'apply-to': { type: 'string' },
  user: { type: 'string' },
  quiet: { type: 'boolean', short: 'q' },
  silent: { type: 'boolean', short: 's' },
  'no-table-headers': { type: 'boolean' },
  'if-empty': { type: 'boolean', short: 'e' },
  'if-unused': { type: 'boolean', short: 'u' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean' },
  global: { type: 'boolean' },
};

export function parseArgs(argv: string[]): ParsedArgs {
  const line = parseCommandLine(argv, OPTIONS, { unknown: 'positional', error: (m) => new CtlError(m, Exit.USAGE) });
  const options: Record<string, string | true> = {};
  for (const o of line.options) options[o.name] = o.value ?? true;
  return { positional: line.positionals, options };
}
