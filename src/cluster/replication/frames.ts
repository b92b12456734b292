/**
 * The replication wire format, both directions, on the cluster listener port. Every frame is
 *
 *   u32 length (big-endian, of what follows)  u8 type  payload (length - 1 bytes)
 *
 * Leader -> follower (a path is u16 length + UTF-8, relative to the data dir; pos is the leader's
 * replication position after the frame, 0 for catch-up frames; numbers are f64 big-endian):
 *   WRITE         pos, path, offset, data (the rest)    bytes at an offset, file created if missing
 *   TRUNCATE      pos, path, size                       file set to size, created if missing
 *   RENAME        pos, path from, path to               a file moved (nothing if from is gone)
 *   REMOVE        pos, path                             a file or a directory tree removed
 *   MKDIR         pos, path                             a directory and its parents made
 *   SNAPSHOT_END  pos                                   catch-up done; live frames follow from pos
 *   PING          pos                                   the leader's position, once a second
 * Follower -> leader:
 *   HELLO         JSON {"node": name, "protocol": 1}
 *   MANIFEST      entries: path, size (f64, -1 = directory), MD5 of the whole file (16 bytes; not
 *                 crc32: a file ending in the crc32 of what precedes it, like the delivered mark,
 *                 has the same crc32 whatever it holds)
 *   MANIFEST_END  (empty)                               the follower's files are all listed
 *   ACK           pos                                   everything up to pos is fdatasynced here
 *
 * A frame is at most MAX_FRAME bytes; file data travels in WRITE frames of at most DATA_CHUNK.
 * Anything malformed (unknown type, short payload, bad path, oversized length) is a
 * ReplicationProtocolError: the connection is closed, nothing is applied from the bad frame.
 */
import { LOCAL_ONLY } from '../../data-dir-changes.js';
import { FrameSplitter } from '../../net/frame-splitter.js';

export const enum FrameType {
  Write = 1,
  Truncate = 2,
  Rename = 3,
  Remove = 4,
  Mkdir = 5,
  SnapshotEnd = 6,
  Ping = 7,
  Hello = 16,
  Manifest = 17,
  ManifestEnd = 18,
  Ack = 19,
}

export const HEADER = 5;
/** Largest data of one WRITE frame. */
export const DATA_CHUNK = 1024 * 1024;
/** Largest frame accepted: a full WRITE with a long path, or a manifest batch. */
export const MAX_FRAME = DATA_CHUNK + 64 * 1024;
/** Bytes of manifest entries per MANIFEST frame. */
export const MANIFEST_BATCH = 256 * 1024;

export class ReplicationProtocolError extends Error {}

export type Op =
  | { type: FrameType.Write; pos: number; path: string; offset: number; data: Buffer }
  | { type: FrameType.Truncate; pos: number; path: string; size: number }
  | { type: FrameType.Rename; pos: number; path: string; to: string }
  | { type: FrameType.Remove; pos: number; path: string }
  | { type: FrameType.Mkdir; pos: number; path: string };

export type Frame =
  | Op
  | { type: FrameType.SnapshotEnd | FrameType.Ping | FrameType.Ack; pos: number }
  | { type: FrameType.Hello; node: string; protocol: number }
  | { type: FrameType.Manifest; entries: ManifestEntry[] }
  | { type: FrameType.ManifestEnd };

export interface ManifestEntry {
  path: string;
  /** -1 for a directory. */
  size: number;
  /** MD5 of the file's bytes (zeros for a directory). */
  digest: Buffer;
}

export const DIGEST_BYTES = 16;

// ---- encoding ----

/** Bytes a path takes in a frame. */
export function pathBytes(path: string): number {
  return 2 + Buffer.byteLength(path);
}

function start(type: FrameType, payload: number): { buf: Buffer; off: number } {
  const buf = Buffer.allocUnsafe(HEADER + payload);
  buf.writeUInt32BE(payload + 1, 0);
  buf[4] = type;
  return { buf, off: HEADER };
}

function putPath(buf: Buffer, off: number, path: string): number {
  const n = buf.write(path, off + 2, 'utf8');
  buf.writeUInt16BE(n, off);
  return off + 2 + n;
}

/** Size of a WRITE frame of `dataLength` bytes (for the position when nothing is recorded). */
export function writeFrameSize(pathLength: number, dataLength: number): number {
  return HEADER + 8 + pathLength + 8 + dataLength;
}

/** A WRITE frame holding `data` (a slice of the buffers, copied once into the frame). */
export function encodeWrite(pos: number, path: string, pathLength: number, offset: number, data: readonly Buffer[], skip: number, length: number): Buffer {
  const { buf } = start(FrameType.Write, 8 + pathLength + 8 + length);
  let off = HEADER;
  buf.writeDoubleBE(pos, off);
  off = putPath(buf, off + 8, path);
  buf.writeDoubleBE(offset, off);
  off += 8;
  let left = length;
  for (const b of data) {
    if (left === 0) break;
    if (skip >= b.length) {
      skip -= b.length;
      continue;
    }
    const n = Math.min(b.length - skip, left);
    b.copy(buf, off, skip, skip + n);
    off += n;
    left -= n;
    skip = 0;
  }
  return buf;
}

export function encodeOp(op: Exclude<Op, { type: FrameType.Write }>): Buffer {
  const pathLen = pathBytes(op.path);
  switch (op.type) {
    case FrameType.Truncate: {
      const { buf, off } = start(op.type, 8 + pathLen + 8);
      buf.writeDoubleBE(op.pos, off);
      buf.writeDoubleBE(op.size, putPath(buf, off + 8, op.path));
      return buf;
    }
    case FrameType.Rename: {
      const { buf, off } = start(op.type, 8 + pathLen + pathBytes(op.to));
      buf.writeDoubleBE(op.pos, off);
      putPath(buf, putPath(buf, off + 8, op.path), op.to);
      return buf;
    }
    case FrameType.Remove:
    case FrameType.Mkdir: {
      const { buf, off } = start(op.type, 8 + pathLen);
      buf.writeDoubleBE(op.pos, off);
      putPath(buf, off + 8, op.path);
      return buf;
    }
  }
}

/** SNAPSHOT_END, PING or ACK. */
export function encodePosition(type: FrameType.SnapshotEnd | FrameType.Ping | FrameType.Ack, pos: number): Buffer {
  const { buf, off } = start(type, 8);
  buf.writeDoubleBE(pos, off);
  return buf;
}

export function encodeHello(node: string): Buffer {
  const json = Buffer.from(JSON.stringify({ node, protocol: 1 }));
  const { buf, off } = start(FrameType.Hello, json.length);
  json.copy(buf, off);
  return buf;
}

export function encodeManifest(entries: readonly ManifestEntry[]): Buffer {
  let size = 0;
  for (const e of entries) size += pathBytes(e.path) + 8 + DIGEST_BYTES;
  const { buf } = start(FrameType.Manifest, size);
  let off = HEADER;
  for (const e of entries) {
    off = putPath(buf, off, e.path);
    buf.writeDoubleBE(e.size, off);
    e.digest.copy(buf, off + 8, 0, DIGEST_BYTES);
    off += 8 + DIGEST_BYTES;
  }
  return buf;
}

export function encodeManifestEnd(): Buffer {
  return start(FrameType.ManifestEnd, 0).buf;
}

// ---- decoding ----

/**
 * Splits a byte stream into decoded frames (net/frame-splitter.ts): a frame split across chunks is
 * gathered into one reassembly buffer kept for the next (up to MAX_FRAME), each byte copied once. So
 * a frame, and a WRITE's data, is valid only during `onFrame`: the follower applies it there (and a
 * socket reading into one fixed buffer reuses the chunk too). Nothing is allocated per frame beyond
 * its decoded fields.
 */
export class FrameReader {
  private readonly splitter = new FrameSplitter(checkFrameLength, { upTo: MAX_FRAME, releaseIdle: false });

  /** Feed bytes; calls `onFrame` for every whole frame. Throws ReplicationProtocolError on garbage. */
  push(chunk: Buffer, onFrame: (frame: Frame) => void): void {
    this.splitter.push(chunk, (buf, start, end) => onFrame(decodeFrame(buf.subarray(start, end))));
  }
}

function checkFrameLength(length: number): void {
  if (length < 1 || length + 4 > MAX_FRAME) throw new ReplicationProtocolError(`bad frame length ${length}`);
}

/** One frame from its type byte onwards. */
export function decodeFrame(b: Buffer): Frame {
  const type = b[0]!;
  const r = new Cursor(b, 1);
  let frame: Frame;
  switch (type) {
    case FrameType.Write: {
      const pos = r.f64();
      const path = r.path();
      const offset = r.count();
      frame = { type, pos, path, offset, data: b.subarray(r.off) };
      r.off = b.length;
      break;
    }
    case FrameType.Truncate:
      frame = { type, pos: r.f64(), path: r.path(), size: r.count() };
      break;
    case FrameType.Rename:
      frame = { type, pos: r.f64(), path: r.path(), to: r.path() };
      break;
    case FrameType.Remove:
    case FrameType.Mkdir:
      frame = { type, pos: r.f64(), path: r.path() };
      break;
    case FrameType.SnapshotEnd:
    case FrameType.Ping:
    case FrameType.Ack:
      frame = { type, pos: r.count() };
      break;
    case FrameType.Hello: {
      let hello: { node?: unknown; protocol?: unknown };
      try {
        hello = JSON.parse(b.subarray(1).toString('utf8')) as typeof hello;
      } catch {
        throw new ReplicationProtocolError('HELLO is not JSON');
      }
      if (typeof hello?.node !== 'string' || hello.node === '' || hello.protocol !== 1) {
        throw new ReplicationProtocolError('HELLO without a node name or with an unknown protocol');
      }
      frame = { type, node: hello.node, protocol: 1 };
      r.off = b.length;
      break;
    }
    case FrameType.Manifest: {
      const entries: ManifestEntry[] = [];
      while (r.off < b.length) {
        const path = r.path();
        const size = r.f64();
        if (!(size === -1 || (Number.isSafeInteger(size) && size >= 0))) throw new ReplicationProtocolError('bad size in MANIFEST');
        entries.push({ path, size, digest: r.bytes(DIGEST_BYTES) });
      }
      frame = { type, entries };
      break;
    }
    case FrameType.ManifestEnd:
      frame = { type };
      break;
    default:
      throw new ReplicationProtocolError(`unknown frame type ${type}`);
  }
  if (r.off !== b.length) throw new ReplicationProtocolError(`frame type ${type} has ${b.length - r.off} bytes too many`);
  return frame;
}

class Cursor {
  constructor(
    private readonly b: Buffer,
    public off: number,
  ) {}

  private need(n: number): void {
    if (this.off + n > this.b.length) throw new ReplicationProtocolError('frame too short');
  }

  f64(): number {
    this.need(8);
    const v = this.b.readDoubleBE(this.off);
    this.off += 8;
    return v;
  }

  /** A non-negative safe integer (offsets, sizes, positions). */
  count(): number {
    const v = this.f64();
    if (!Number.isSafeInteger(v) || v < 0) throw new ReplicationProtocolError(`bad number ${v}`);
    return v;
  }

  bytes(n: number): Buffer {
    this.need(n);
    const v = Buffer.from(this.b.subarray(this.off, this.off + n));
    this.off += n;
    return v;
  }

  path(): string {
    this.need(2);
    const n = this.b.readUInt16BE(this.off);
    this.off += 2;
    this.need(n);
    const p = this.b.toString('utf8', this.off, this.off + n);
    this.off += n;
    if (!isSafeRelativePath(p)) throw new ReplicationProtocolError(`unsafe path ${JSON.stringify(p)}`);
    return p;
  }
}

/** A path inside the data dir that replication may touch: relative, normalized, not node-local. */
export function isSafeRelativePath(p: string): boolean {
  if (p === '' || p.startsWith('/') || p.includes('\0') || p.includes('\\')) return false;
  const parts = p.split('/');
  if (parts.some((s) => s === '' || s === '.' || s === '..')) return false;
  return !LOCAL_ONLY.includes(parts[0]!);
}
