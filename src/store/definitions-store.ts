/**
 * The broker's definitions (vhosts, users, permissions, durable exchanges, queues, bindings,
 * policies...) as one RabbitMQ-format JSON file in the data dir. Saves are atomic: the new
 * document is written to a temporary file, fsynced, renamed over the old one, and the directory
 * fsynced, so after a crash the file is the old version or the new one, never a mix. Sync calls:
 * definitions change rarely and a save must be done before the declare is answered.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Definitions } from './definitions.js';
import type { DataDirChanges } from '../data-dir-changes.js';
import { writeFileDurably } from './durable-file.js';

export const DEFINITIONS_FILE = 'definitions.json';

export class DefinitionsStore {
  readonly file: string;
  /** The file's text as last loaded or saved: an unchanged document is not written again. */
  private onDisk: string | undefined;

  constructor(
    readonly dataDir: string,
    fileName = DEFINITIONS_FILE,
    /** Replication's change feed (cluster leader only). */
    private readonly changes?: DataDirChanges,
  ) {
    this.file = path.join(dataDir, fileName);
  }

  /** The saved definitions, or undefined if none were ever saved. Throws if the file is damaged. */
  load(): Definitions | undefined {
    // A temporary file is a save that never reached its rename: the old file is the truth.
    fs.rmSync(`${this.file}.tmp`, { force: true });
    let text: string;
    try {
      text = fs.readFileSync(this.file, 'utf8');
      this.onDisk = text;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      throw new Error(`definitions file ${this.file} is not valid JSON: ${(err as Error).message}`);
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new Error(`definitions file ${this.file} does not hold a JSON object`);
    }
    return parsed as Definitions;
  }

  /**
   * Replace the file unless it already holds exactly this document (a restart re-saves what it
   * loaded: skipping that is what lets a broker start on a full disk).
   */
  save(definitions: Definitions): void {
    const text = JSON.stringify(definitions, null, 2) + '\n';
    if (text === this.onDisk) return;
    fs.mkdirSync(this.dataDir, { recursive: true });
    writeFileDurably(this.file, text, this.changes);
    this.onDisk = text;
  }
}
