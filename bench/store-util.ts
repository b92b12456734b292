/** Shared bits of the store micro-benchmarks (bench/store-*.ts): arguments, messages, sizes. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Message } from '../src/broker/message.js';

export const PERSISTENT_PROPS = Buffer.from([0x10, 0x00, 0x02]);

/** `--name value` arguments with numeric defaults. */
export function numArgs<T extends Record<string, number>>(defaults: T): T {
  const out: Record<string, number> = { ...defaults };
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i]!.replace(/^--/, '');
    if (!(key in defaults)) throw new Error(`unknown argument ${argv[i]}; known: ${Object.keys(defaults).join(', ')}`);
    out[key] = Number(argv[i + 1]);
  }
  return out as T;
}

export function benchDir(name: string): string {
  const base = process.env.WARREN_BENCH_DIR ?? os.tmpdir();
  return fs.mkdtempSync(path.join(base, `warren-${name}-`));
}

export function persistentMessage(size: number, routingKey = 'bench'): Message {
  const body = Buffer.allocUnsafe(size);
  body.fill(97);
  return new Message('', routingKey, PERSISTENT_PROPS, body, true);
}

/** Bytes of all files under dir (what `du --apparent-size` would say). */
export function dirBytes(dir: string): number {
  let n = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) n += fs.statSync(path.join(entry.parentPath ?? entry.path, entry.name)).size;
  }
  return n;
}

export function mib(bytes: number): number {
  return Math.round((bytes / 1048576) * 10) / 10;
}

export function report(figures: Record<string, unknown>): void {
  process.stdout.write(JSON.stringify(figures) + '\n');
}
