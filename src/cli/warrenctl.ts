#!/usr/bin/env node
/**
 * `warrenctl`: administer a running Warren broker with rabbitmqctl's command names, arguments,
 * tab-separated output and exit codes.
 *
 * It talks to the broker through the management HTTP API (--url, WARREN_MANAGEMENT_URL, default
 * http://guest:guest@127.0.0.1:15672) rather than a local control socket: the API already
 * authenticates and authorises every operation by user tag, works the same from the broker's host
 * or a remote one, and is the interface every other tool uses, so the CLI exercises exactly what
 * operators' scripts do.
 */
import { ArgumentError, DEFAULT_URL, CtlError, Exit, ManagementClient } from './ctl/client.js';
import { parseArgs } from './ctl/args.js';
import { invalidOption, type Command, type CommandTable } from './ctl/command.js';
import { listingCommands } from './ctl/listing.js';
import { clusterCommands } from './ctl/cluster.js';
import { nodeCommands } from './ctl/node.js';
import { Output, type Formatter } from './ctl/output.js';
import { userCommands } from './ctl/users.js';
import { policyCommands } from './ctl/policies.js';
import { runtimeCommands } from './ctl/runtime.js';
import { diagnosticsCommands } from './ctl/diagnostics.js';
import { VERSION } from '../version.js';

const COMMANDS: CommandTable = { ...userCommands, ...listingCommands, ...policyCommands, ...nodeCommands, ...clusterCommands, ...runtimeCommands, ...diagnosticsCommands };

function usage(): string {
  const width = Math.max(...Object.values(COMMANDS).map((c) => c.usage.length));
  return [
    `warrenctl ${VERSION} - administer a Warren broker (rabbitmqctl's commands, over the management HTTP API)`,
    '',
    'Usage: warrenctl [--url <management url>] [-q] [-s] [--formatter json] [-t <seconds>] <command> [<args>]',
    '',
    'Global options:',
    `  --url <url>           management API, with credentials (default: $WARREN_MANAGEMENT_URL or ${DEFAULT_URL})`,
    '  -p, --vhost <vhost>   virtual host for vhost-scoped commands (default: /)',
    '  -q, --quiet           no informational banner',
    '  -s, --silent          no banner and no table headers',
    '  --no-table-headers    no table headers',
    '  --formatter <f>       table (tab-separated, default) or json',
    '  -t, --timeout <s>     operation timeout in seconds (default 60)',
    '',
    'Commands:',
    ...Object.entries(COMMANDS).map(([, c]) => `  ${c.usage.padEnd(width)}  ${c.description}`),
    '',
    "Run 'warrenctl help <command>' for one command.",
  ].join('\n');
}

async function main(argv: string[]): Promise<number> {
  const { positional, options } = parseArgs(argv);
  if (options['version']) {
    process.stdout.write(`${VERSION}\n`);
    return Exit.OK;
  }
  const [name, ...args] = positional;
  if (!name || name === 'help' || options['help']) {
    const about = name === 'help' ? args[0] : name;
    const cmd = about ? COMMANDS[about] : undefined;
    if (about && !cmd) return unknownCommand(about);
    process.stdout.write(cmd ? `Usage: warrenctl ${cmd.usage}\n\n${cmd.description}\n` : `${usage()}\n`);
    return name || options['help'] ? Exit.OK : Exit.USAGE;
  }
  const command = COMMANDS[name];
  if (!command) return unknownCommand(name);
  try {
    return await run(command, args, options);
  } catch (e) {
    if (!(e instanceof ArgumentError)) throw e;
    // rabbitmqctl's shape: the refusal, the arguments as given, the command's usage.
    process.stderr.write(`Error (argument validation): ${e.message}\nArguments given:\n\t${argv.join(' ')}\n\nUsage\n\nwarrenctl ${command.usage}\n`);
    return e.exitCode;
  }
}

function unknownCommand(name: string): number {
  process.stderr.write(`\nCommand '${name}' not found. \n\n${usage()}\n`);
  return Exit.USAGE;
}

async function run(command: Command, args: string[], options: Record<string, string | true>): Promise<number> {
  if (args.length < command.minArgs) throw new ArgumentError('not enough arguments.', Exit.USAGE);
  if (args.length > command.maxArgs) throw new ArgumentError('too many arguments.', Exit.USAGE);
  const formatter = (options['formatter'] ?? 'table') as string;
  if (formatter !== 'table' && formatter !== 'json') throw new ArgumentError(`unknown formatter '${formatter}' (use table or json)`, Exit.USAGE);
  const timeoutSeconds = options['timeout'] === undefined ? 60 : Number(options['timeout']);
  if (!Number.isFinite(timeoutSeconds) || timeoutSeconds <= 0) throw invalidOption(options, 'timeout', '-t');
  const url = (options['url'] as string | undefined) ?? process.env['WARREN_MANAGEMENT_URL'] ?? DEFAULT_URL;
  const out = new Output({
    formatter: formatter as Formatter,
    quiet: options['quiet'] === true,
    silent: options['silent'] === true,
    noTableHeaders: options['no-table-headers'] === true,
  });
  await command.run({
    args,
    options,
    vhost: typeof options['vhost'] === 'string' ? options['vhost'] : '/',
    timeoutSeconds,
    client: new ManagementClient(url, timeoutSeconds * 1000),
    out,
  });
  return Exit.OK;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    if (e instanceof CtlError) {
      process.stderr.write(e.bare ? `${e.message}\n` : `Error:\n${e.message}\n`);
      process.exitCode = e.exitCode;
      return;
    }
    process.stderr.write(`Error:\n${(e as Error)?.stack ?? String(e)}\n`);
    process.exitCode = Exit.SOFTWARE;
  },
);
