/**
 * Reads the file named by --config / WARREN_CONFIG: RabbitMQ's rabbitmq.conf format when the name
 * ends in `.conf`, otherwise Warren's JSON (keys are the flag names, turned into options by the CLI).
 */
import { readFileSync } from 'node:fs';
import type { BrokerOptions } from '../config.js';
import { parseRabbitmqConf } from './rabbitmq-conf.js';
import type { ConfProblem } from './sysctl.js';

export type ConfigFile =
  | { format: 'rabbitmq.conf'; options: BrokerOptions; warnings: ConfProblem[]; errors: ConfProblem[] }
  | { format: 'json'; values: Record<string, unknown>; errors: ConfProblem[] };

export function readConfigFile(path: string): ConfigFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (e as Error).message;
    throw new Error(`cannot read config file ${path}: ${why}`);
  }
  if (path.endsWith('.conf')) return { format: 'rabbitmq.conf', ...parseRabbitmqConf(text) };
  try {
    const values = JSON.parse(text) as unknown;
    if (typeof values !== 'object' || values === null || Array.isArray(values)) {
      return { format: 'json', values: {}, errors: [{ line: 1, message: 'a JSON config file must hold one object, e.g. {"port": 5673}' }] };
    }
    return { format: 'json', values: values as Record<string, unknown>, errors: [] };
  } catch (e) {
    const hint = /^\s*[a-z_]+(\.[a-z0-9_$]+)*\s*=/m.test(text) ? ' (a rabbitmq.conf file must be named *.conf)' : '';
    return { format: 'json', values: {}, errors: [{ line: 0, message: `${(e as Error).message}${hint}` }] };
  }
}

/** `file:line: message`, the form editors and CI logs link to. */
export function describeProblem(path: string, p: ConfProblem): string {
  return p.line > 0 ? `${path}:${p.line}: ${p.message}` : `${path}: ${p.message}`;
}
