/**
 * The one command-line tokenizer of warren's programs (warren, warrenctl, warren-perf, the bench):
 * node:util parseArgs with each program's option table. It hands back the recognised options in the
 * order given (later ones win, aliases stay distinct) and the positional arguments; each program
 * then applies them with its own rules and messages.
 *
 * `unknown: 'positional'` is rabbitmqctl's habit: a word starting with "-" that is no known option
 * is an argument (a regex such as "-foo"), and options may come before or after the command.
 */
import { parseArgs } from 'node:util';

export interface OptionSpec {
  readonly type: 'string' | 'boolean';
  readonly short?: string;
}

export interface GivenOption {
  /** The long name from the table. */
  readonly name: string;
  /** The value of a string option; undefined for a boolean one. */
  readonly value: string | undefined;
  /** As written: "--vhost", "-p". */
  readonly raw: string;
}

export interface CommandLine {
  readonly options: GivenOption[];
  readonly positionals: string[];
}

export interface CommandLineRules {
  /** What a word that looks like an option but is none is: an error (default) or a positional argument. */
  readonly unknown?: 'error' | 'positional';
  /** Positional arguments allowed (default true). */
  readonly positionals?: boolean;
  /** Builds the program's usage error from a message. */
  readonly error: (message: string) => Error;
}

export function parseCommandLine(argv: string[], spec: Record<string, OptionSpec>, rules: CommandLineRules): CommandLine {
  const options: GivenOption[] = [];
  const positionals: string[] = [];
  const { tokens } = parseArgs({ args: argv, options: spec, strict: false, allowPositionals: true, tokens: true });
  // A word the parser split into unknown short options ("-foo") is taken whole, once.
  const takenWhole = new Set<number>();
  for (const t of tokens) {
    if (t.kind === 'option-terminator') continue;
    if (t.kind === 'positional') {
      if (rules.positionals === false) throw rules.error(`unexpected argument "${t.value}"`);
      positionals.push(t.value);
      continue;
    }
    const known = spec[t.name];
    if (!known) {
      if (rules.unknown !== 'positional') throw rules.error(`unknown option ${t.rawName}`);
      if (!takenWhole.has(t.index)) positionals.push(argv[t.index]!);
      takenWhole.add(t.index);
      continue;
    }
    if (known.type === 'boolean' && t.value !== undefined) throw rules.error(`option --${t.name} takes no value`);
    if (known.type === 'string' && t.value === undefined) throw rules.error(`option ${t.rawName} needs a value`);
    options.push({ name: t.name, value: t.value, raw: t.rawName });
  }
  return { options, positionals };
}
