/**
 * AMQP field tables and arrays, with every type RabbitMQ clients send (t b B s u I i l L f d D S x A T F V).
 * Values decode to plain JS values; where JS cannot tell the wire type back (floats vs doubles,
 * decimals, 8/16-bit ints, unsigned ints) a `TypedValue` keeps it so that re-encoding is exact.
 */
export type FieldValue =
  | boolean
  | number
  | bigint
  | string
  | Buffer
  | Date
  | null
  | FieldValue[]
  | FieldTable
  | TypedValue;
export interface FieldTable {
  [key: string]: FieldValue;
}

/** A value whose wire type must survive a decode/encode round trip. */
export class TypedValue {
  constructor(
    /** 'l' and 'd' only where a decode asked for exact types (decoded as plain numbers otherwise). */
    readonly type: 'b' | 'B' | 's' | 'u' | 'i' | 'l' | 'L' | 'f' | 'd' | 'D',
    readonly value: number | bigint | { scale: number; value: number },
  ) {}
  toJSON(): unknown {
    return this.type === 'D' ? decimalToNumber(this.value as { scale: number; value: number }) : this.value;
  }
}

const decimalToNumber = (d: { scale: number; value: number }) => d.value / 10 ** d.scale;

export function isFieldTable(v: unknown): v is FieldTable {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Buffer) &&
    !(v instanceof Date) && !(v instanceof TypedValue);
}

/** Plain-number view of a value (for x-match arguments, TTLs, x-max-length and the like). */
export function numericValue(v: FieldValue | undefined): number | undefined {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (v instanceof TypedValue) return Number(v.toJSON());
  return undefined;
}

export function stringValue(v: FieldValue | undefined): string | undefined {
  if (typeof v === 'string') return v;
  if (v instanceof Buffer) return v.toString('utf8');
  return undefined;
}

/** JSON form for the management API (Buffers as strings, as RabbitMQ shows longstr). */
export function fieldValueToJson(v: FieldValue): unknown {
  if (v instanceof Buffer) return v.toString('utf8');
  if (v instanceof TypedValue) return v.toJSON();
  if (v instanceof Date) return Math.floor(v.getTime() / 1000);
  if (typeof v === 'bigint') return Number(v);
  if (Array.isArray(v)) return v.map(fieldValueToJson);
  if (isFieldTable(v)) return fieldTableToJson(v);
  return v;
}

export function fieldTableToJson(t: FieldTable): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(t)) out[k] = fieldValueToJson(t[k] as FieldValue);
  return out;
}

/** Values from JSON (definitions import, HTTP publish): strings stay strings, integers become long. */
export function fieldTableFromJson(o: unknown): FieldTable {
  const out: FieldTable = {};
  if (!o || typeof o !== 'object') return out;
  for (const [k, v] of Object.entries(o as Record<string, unknown>)) out[k] = fieldValueFromJson(v);
  return out;
}

function fieldValueFromJson(v: unknown): FieldValue {
  if (v === null || v === undefined) return null;
  if (typeof v === 'boolean' || typeof v === 'number' || typeof v === 'string') return v;
  if (Array.isArray(v)) return v.map(fieldValueFromJson);
  if (typeof v === 'object') return fieldTableFromJson(v);
  return String(v);
}

/** RabbitMQ's name for a field value's AMQP type, as its error texts print it ('signedint', 'longstr'...). */
export function amqpTypeName(v: FieldValue): string {
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number') return Number.isInteger(v) ? (v >= -0x80000000 && v <= 0x7fffffff ? 'signedint' : 'long') : 'double';
  if (typeof v === 'bigint') return 'long';
  if (typeof v === 'string') return 'longstr';
  // Only a byte array ('x') decodes to a Buffer; RabbitMQ calls that type binary.
  if (v instanceof Buffer) return 'binary';
  if (v instanceof TypedValue) {
    return ({ b: 'byte', B: 'unsignedbyte', s: 'short', u: 'unsignedshort', i: 'unsignedint', l: 'long', L: 'unsignedlong', f: 'float', d: 'double', D: 'decimal' } as const)[v.type];
  }
  if (Array.isArray(v)) return 'array';
  if (v instanceof Date) return 'timestamp';
  if (v === null) return 'void';
  return 'table';
}

/**
 * A float as RabbitMQ's texts print it (Erlang's `~p`): the shortest digits that read back the same,
 * in fixed or scientific notation, whichever is shorter (100.0, 1.0e3, 1000.5, 0.001, 1.0e-5).
 */
export function erlangFloat(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  if (n === 0) return '0.0';
  if (n < 0) return `-${erlangFloat(-n)}`;
  const [mantissa, exp] = n.toExponential().split('e') as [string, string];
  const digits = mantissa.replace('.', '');
  const place = Number(exp) + 1; // the value is 0.<digits> × 10^place
  const len = digits.length;
  if (place === 0) return `0.${digits}`;
  if (place > 0 && place < len) return `${digits.slice(0, place)}.${digits.slice(place)}`;
  const expText = String(place - 1);
  const expCost = expText.length + 1 + (len === 1 ? 2 : 1);
  const scientific = `${digits[0]}.${len === 1 ? '0' : digits.slice(1)}e${expText}`;
  if (place < 0) return 2 - place <= expCost ? `0.${'0'.repeat(-place)}${digits}` : scientific;
  return place - len + 2 <= expCost ? `${digits}${'0'.repeat(place - len)}.0` : scientific;
}

/** The table with its keys in byte order, as RabbitMQ's sort_field_table leaves a table it changed. */
export function sortedTable(t: FieldTable): FieldTable {
  const out: FieldTable = {};
  for (const k of Object.keys(t).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)))) out[k] = t[k]!;
  return out;
}
