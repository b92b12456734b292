/**
 * Command-line parsing in rabbitmqctl's style: options may come before or after the command,
 * `--name value` or `--name=value`, and everything else is a positional argument.
 */
import { CtlError, Exit } from './client.js';

export interface ParsedArgs {
  positional: string[];
  /** Options by long name; flags are `true`. */
  options: Record<string, string | true>;
}

/** Options that take a value, with their short aliases. */
const VALUE_OPTIONS: Record<string, string> = {
  p: 'vhost', vhost: 'vhost',
  url: 'url',
  formatter: 'formatter',
  t: 'timeout', timeout: 'timeout',
  n: 'node', node: 'node',
  description: 'description',
  tags: 'tags',
  'default-queue-type': 'default-queue-type',
  priority: 'priority',
  'apply-to': 'apply-to',
  user: 'user',
};

/** Options without a value. */
const FLAGS: Record<string, string> = {
  q: 'quiet', quiet: 'quiet',
  s: 'silent', silent: 'silent',
  'no-table-headers': 'no-table-headers',
  e: 'if-empty', 'if-empty': 'if-empty',
  u: 'if-unused', 'if-unused': 'if-unused',
  h: 'help', help: 'help',
  version: 'version',
  global: 'global',
};

export function parseArgs(argv: string[]): ParsedArgs {
  const positional: string[] = [];
  const options: Record<string, string | true> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      positional.push(...argv.slice(i + 1));
      break;
    }
    // A lone "-" is a value (stdin/stdout for definitions); negative-looking regexes are not options.
    if (!arg.startsWith('-') || arg === '-') {
      positional.push(arg);
      continue;
    }
    const long = arg.startsWith('--');
    let name = arg.slice(long ? 2 : 1);
    let value: string | undefined;
    const eq = name.indexOf('=');
    if (long && eq >= 0) {
      value = name.slice(eq + 1);
      name = name.slice(0, eq);
    }
    if (!long && name.length > 1 && !(name in VALUE_OPTIONS) && !(name in FLAGS)) {
      // "-pVHOST" style.
      if (name[0]! in VALUE_OPTIONS) {
        value = name.slice(1);
        name = name[0]!;
      }
    }
    if (name in FLAGS) {
      if (value !== undefined) throw new CtlError(`option --${name} takes no value`, Exit.USAGE);
      options[FLAGS[name]!] = true;
      continue;
    }
    if (name in VALUE_OPTIONS) {
      if (value === undefined) {
        if (i + 1 >= argv.length) throw new CtlError(`option ${arg} needs a value`, Exit.USAGE);
        value = argv[++i]!;
      }
      options[VALUE_OPTIONS[name]!] = value;
      continue;
    }
    // Anything else starting with "-" is taken as an argument (e.g. a regex such as "-foo").
    positional.push(arg);
  }
  return { positional, options };
}
