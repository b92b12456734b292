/**
 * The sysctl-like syntax of rabbitmq.conf (cuttlefish's): one `key = value` per line, keys are
 * dot-separated words, `#` starts a comment that runs to the end of the line, blank lines are
 * ignored, and the value is the rest of the line with surrounding blanks trimmed.
 */

export interface ConfEntry {
  key: string;
  value: string;
  /** 1-based line number in the file, for error messages. */
  line: number;
}

export interface ConfProblem {
  line: number;
  message: string;
}

const KEY = /^[A-Za-z0-9_$-]+(\.[A-Za-z0-9_$@:/+-]+)*$/;

export function parseSysctl(text: string): { entries: ConfEntry[]; errors: ConfProblem[] } {
  const entries: ConfEntry[] = [];
  const errors: ConfProblem[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = i + 1;
    const hash = lines[i]!.indexOf('#');
    const content = (hash >= 0 ? lines[i]!.slice(0, hash) : lines[i]!).trim();
    if (content === '') continue;
    const eq = content.indexOf('=');
    if (eq < 0) {
      // cuttlefish stops at the first syntax error; we report every bad line at once.
      errors.push({ line, message: `Syntax error: expected 'key = value', got '${content}'` });
      continue;
    }
    const key = content.slice(0, eq).trim();
    const value = content.slice(eq + 1).trim();
    if (!KEY.test(key)) {
      errors.push({ line, message: `Syntax error: '${key}' is not a valid key (dot-separated words)` });
      continue;
    }
    if (value === '') {
      errors.push({ line, message: `Syntax error: no value for ${key}` });
      continue;
    }
    entries.push({ key, value, line });
  }
  return { entries, errors };
}
