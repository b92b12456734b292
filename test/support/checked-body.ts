// Message bodies that carry their own sequence number and checksum, so a durability test can tell
// a message that came back intact from one that came back torn, mixed up or as garbage.
//
//   0..4    magic "WCHK"
//   4..12   id (uint64 BE)
//   12..16  payload length (uint32 BE)
//   16..    payload (bytes derived from the id, so two bodies never look alike)
//   last 16 sha256(everything before), truncated
import { createHash } from 'node:crypto';

const MAGIC = Buffer.from('WCHK');
const HEADER = 16;
const DIGEST = 16;

export function checkedBody(id: number, payloadBytes: number): Buffer {
  const body = Buffer.allocUnsafe(HEADER + payloadBytes + DIGEST);
  MAGIC.copy(body, 0);
  body.writeBigUInt64BE(BigInt(id), 4);
  body.writeUInt32BE(payloadBytes, 12);
  // A cheap id-seeded xorshift fill: distinct content per message, no crypto cost per byte.
  let x = (id * 2654435761) >>> 0 || 1;
  for (let i = 0; i < payloadBytes; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    body[HEADER + i] = x & 0xff;
  }
  digest(body, HEADER + payloadBytes).copy(body, HEADER + payloadBytes);
  return body;
}

/** The id of an intact body, or undefined if anything about it is wrong. */
export function checkedId(body: Buffer): number | undefined {
  if (body.length < HEADER + DIGEST || !body.subarray(0, 4).equals(MAGIC)) return undefined;
  const payloadBytes = body.readUInt32BE(12);
  if (body.length !== HEADER + payloadBytes + DIGEST) return undefined;
  if (!digest(body, HEADER + payloadBytes).equals(body.subarray(HEADER + payloadBytes))) return undefined;
  return Number(body.readBigUInt64BE(4));
}

function digest(body: Buffer, end: number): Buffer {
  return createHash('sha256').update(body.subarray(0, end)).digest().subarray(0, DIGEST);
}
