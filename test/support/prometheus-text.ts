/**
 * A small reader for Prometheus's text format (0.0.4), strict enough to catch malformed output:
 * every sample must belong to a family announced by TYPE, labels must parse, values must be numbers.
 */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Scrape {
  types: Map<string, string>;
  help: Map<string, string>;
  samples: Sample[];
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? (\S+)$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)/y;

export function parseExposition(text: string): Scrape {
  const types = new Map<string, string>();
  const help = new Map<string, string>();
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    if (line.startsWith('# TYPE ')) {
      const [name, type] = line.slice(7).split(' ');
      types.set(name!, type!);
      continue;
    }
    if (line.startsWith('# HELP ')) {
      const rest = line.slice(7);
      const sp = rest.indexOf(' ');
      help.set(rest.slice(0, sp), rest.slice(sp + 1));
      continue;
    }
    const m = SAMPLE.exec(line);
    if (!m) throw new Error(`malformed line: ${line}`);
    const labels: Record<string, string> = {};
    if (m[2]) {
      const body = m[2].slice(1, -1);
      LABEL.lastIndex = 0;
      while (LABEL.lastIndex < body.length) {
        const l = LABEL.exec(body);
        if (!l) throw new Error(`malformed labels: ${line}`);
        labels[l[1]!] = l[2]!.replace(/\\n/g, '\n').replace(/\\"/g, '"').replace(/\\\\/g, '\\');
      }
    }
    const value = m[3] === 'NaN' ? NaN : Number(m[3]);
    if (m[3] !== 'NaN' && !Number.isFinite(value) && !/^[+-]Inf$/.test(m[3]!)) throw new Error(`bad value: ${line}`);
    const family = m[1]!.replace(/_(sum|count|bucket)$/, '');
    if (!types.has(m[1]!) && !types.has(family)) throw new Error(`sample before its TYPE: ${line}`);
    samples.push({ name: m[1]!, labels, value });
  }
  return { types, help, samples };
}

/** Samples of one metric whose labels include `match`. */
export function find(s: Scrape, name: string, match: Record<string, string> = {}): Sample[] {
  return s.samples.filter((x) => x.name === name && Object.entries(match).every(([k, v]) => x.labels[k] === v));
}

/** The one value of a metric (summed over matching samples); throws when there is none. */
export function value(s: Scrape, name: string, match: Record<string, string> = {}): number {
  const found = find(s, name, match);
  if (found.length === 0) throw new Error(`no sample ${name} ${JSON.stringify(match)}`);
  return found.reduce((a, x) => a + x.value, 0);
}

export async function scrape(url: string): Promise<Scrape> {
  const res = await fetch(url);
  if (res.status !== 200) throw new Error(`${url}: HTTP ${res.status}`);
  return parseExposition(await res.text());
}
