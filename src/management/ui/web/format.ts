/** Numbers as people read them: thousands separators, units for bytes and rates. */

const nf = new Intl.NumberFormat('en-US', { maximumFractionDigits: 1 });
const nf2 = new Intl.NumberFormat('en-US', { maximumFractionDigits: 2 });

export function num(n: number | undefined | null): string {
  return typeof n === 'number' && Number.isFinite(n) ? nf.format(n) : '';
}

export function rate(n: number | undefined | null): string {
  return typeof n === 'number' && Number.isFinite(n) ? `${nf2.format(n)}/s` : '';
}

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

export function bytes(n: number | undefined | null): string {
  if (typeof n !== 'number' || !Number.isFinite(n)) return '';
  let v = n;
  let u = 0;
  while (Math.abs(v) >= 1024 && u < UNITS.length - 1) {
    v /= 1024;
    u++;
  }
  return `${u === 0 ? v : nf.format(v)} ${UNITS[u]}`;
}

export function byteRate(n: number | undefined | null): string {
  const b = bytes(n);
  return b === '' ? '' : `${b}/s`;
}

export function duration(ms: number): string {
  const s = Math.floor(ms / 1000);
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (d > 0) return `${d}d ${h}h`;
  if (h > 0) return `${h}h ${m}m`;
  if (m > 0) return `${m}m ${s % 60}s`;
  return `${s}s`;
}

export function time(t: Date | number): string {
  const d = typeof t === 'number' ? new Date(t) : t;
  const p = (x: number) => String(x).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

export function bool(b: unknown): string {
  return b ? '●' : '○';
}

/** JSON values in tables and detail lists (arguments, client properties). */
export function value(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}
