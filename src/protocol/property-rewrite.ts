/**
 * Replace one short-string property inside raw content-header property bytes, leaving every other
 * byte as the publisher sent it (re-encoding decoded headers could change their wire types).
 */
const FLAG_ORDER: { flag: number; kind: 'shortstr' | 'table' | 'octet' | 'u64' }[] = [
  { flag: 1 << 15, kind: 'shortstr' }, // content-type
  { flag: 1 << 14, kind: 'shortstr' }, // content-encoding
  { flag: 1 << 13, kind: 'table' }, // headers
  { flag: 1 << 12, kind: 'octet' }, // delivery-mode
  { flag: 1 << 11, kind: 'octet' }, // priority
  { flag: 1 << 10, kind: 'shortstr' }, // correlation-id
  { flag: 1 << 9, kind: 'shortstr' }, // reply-to
  { flag: 1 << 8, kind: 'shortstr' }, // expiration
  { flag: 1 << 7, kind: 'shortstr' }, // message-id
  { flag: 1 << 6, kind: 'u64' }, // timestamp
  { flag: 1 << 5, kind: 'shortstr' }, // type
  { flag: 1 << 4, kind: 'shortstr' }, // user-id
  { flag: 1 << 3, kind: 'shortstr' }, // app-id
  { flag: 1 << 2, kind: 'shortstr' }, // cluster-id
];

export const REPLY_TO_FLAG = 1 << 9;

export function replaceShortstrProperty(raw: Buffer, flag: number, value: string): Buffer {
  const flags = raw.readUInt16BE(0);
  let pos = 2;
  for (const f of FLAG_ORDER) {
    if (f.flag === flag) break;
    if (!(flags & f.flag)) continue;
    if (f.kind === 'shortstr') pos += 1 + raw[pos]!;
    else if (f.kind === 'table') pos += 4 + raw.readUInt32BE(pos);
    else if (f.kind === 'octet') pos += 1;
    else pos += 8;
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
