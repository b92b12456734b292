/**
 * Replace one short-string property inside raw content-header property bytes, leaving every other
 * byte as the publisher sent it (re-encoding decoded headers could change their wire types).
 */
import { BASIC_PROPERTIES } from './generated.js';

/** Wire size of each property kind, in the spec's order; flag bit 15 is the first property. */
const FIELD_SIZE: Record<string, (raw: Buffer, pos: number) => number> = {
  shortstr: (raw, pos) => 1 + raw[pos]!,
  table: (raw, pos) => 4 + raw.readUInt32BE(pos),
  octet: () => 1,
  timestamp: () => 8,
};
const FLAG_ORDER = BASIC_PROPERTIES.map((p, i) => ({ flag: 1 << (15 - i), size: FIELD_SIZE[p.type]! }));

export function replaceShortstrProperty(raw: Buffer, flag: number, value: string): Buffer {
  const flags = raw.readUInt16BE(0);
  let pos = 2;
  for (const f of FLAG_ORDER) {
    if (f.flag === flag) break;
    if (flags & f.flag) pos += f.size(raw, pos);
  }
  const encoded = Buffer.from(value, 'utf8');
  const oldLen = flags & flag ? 1 + raw[pos]! : 0;
  const out = Buffer.allocUnsafe(raw.length - oldLen + 1 + encoded.length);
  raw.copy(out, 0, 0, pos);
  out[pos] = encoded.length;
  encoded.copy(out, pos + 1);
  raw.copy(out, pos + 1 + encoded.length, pos + oldLen);
  out.writeUInt16BE(flags | flag, 0);
  return out;
}
