/** Helpers shared by the store tests (test/store-*.test.ts). */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Message, type Envelope } from '../src/broker/message.js';
import type { MessageList } from '../src/broker/message-list.js';
import type { StoreLogLevel } from '../src/store/index.js';
import { MessageStore, type MessageStoreOptions } from '../src/store/index.js';

/** property flags with only delivery-mode set (bit 12), then the octet: persistent / transient. */
export const PERSISTENT_PROPS = Buffer.from([0x10, 0x00, 0x02]);
export const TRANSIENT_PROPS = Buffer.from([0x10, 0x00, 0x01]);

export function tempDir(prefix = 'warren-store-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export function removeDir(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
}

/** A body that names its id and can be checked for damage: "<id>:<sha of id repeated to size>". */
export function makeBody(id: number, size: number): Buffer {
  const prefix = `${id}:`;
  const seed = createHash('sha256').update(String(id)).digest('hex');
  let filler = '';
  while (filler.length < size - prefix.length) filler += seed;
  return Buffer.from(prefix + filler.slice(0, Math.max(0, size - prefix.length)));
}

/** The id in a body made by makeBody, or -1 if the body is not exactly what makeBody would give. */
export function bodyId(body: Buffer): number {
  const text = body.toString();
  const id = Number(text.slice(0, text.indexOf(':')));
  return Number.isInteger(id) && makeBody(id, body.length).equals(body) ? id : -1;
}

export function message(id: number, options: { persistent?: boolean; size?: number; routingKey?: string } = {}): Message {
  const persistent = options.persistent ?? true;
  return new Message(
    'amq.direct',
    options.routingKey ?? 'rk',
    persistent ? PERSISTENT_PROPS : TRANSIENT_PROPS,
    makeBody(id, options.size ?? 100),
    persistent,
    1_700_000_000_000 + id,
  );
}

export function ids(envelopes: Envelope[]): number[] {
  return envelopes.map((e) => bodyId(e.message.body));
}

/** Shift everything; settle each unless told not to. */
export function drain(list: MessageList, settle = true): Envelope[] {
  const out: Envelope[] = [];
  for (let e = list.shift(); e; e = list.shift()) {
    out.push(e);
    if (settle) list.settle(e);
  }
  return out;
}

export function durable(list: MessageList): Promise<void> {
  return new Promise((resolve) => list.whenDurable(resolve));
}

export interface LogEntry {
  level: StoreLogLevel;
  msg: string;
  fields: Record<string, unknown>;
}

export async function openStore(dir: string, options: MessageStoreOptions = {}) {
  const logs: LogEntry[] = [];
  const store = new MessageStore(dir, {
    logger: (level, msg, fields = {}) => logs.push({ level, msg, fields }),
    ...options,
  });
  const recovered = await store.open();
  return { store, recovered, logs };
}

export function segmentFiles(dir: string): string[] {
  return fs.readdirSync(dir).filter((n) => n.endsWith('.seg')).sort();
}

export function range(from: number, to: number): number[] {
  const out: number[] = [];
  for (let i = from; i < to; i++) out.push(i);
  return out;
}
