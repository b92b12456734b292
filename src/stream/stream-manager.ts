/**
 * Every stream of the broker, by vhost and name, and their files under `<dataDir>/streams/`
 * (`<h(vhost)>/<h(name)>/`, h = the message store's name hash). Streams are created by AMQP
 * queue.declare (x-queue-type: stream) or the stream protocol's create, and recovered at start.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { join } from 'node:path';
import { replaceFile, type DataDirChanges } from '../data-dir-changes.js';
import type { Crc32 } from './chunk.js';
import { StreamLog } from './stream-log.js';
import { SingleActiveGroups } from './single-active-consumer.js';
import { retentionOf, type StreamArguments } from './retention.js';

export class Stream {
  /** Stream-protocol publishers and subscribers, and AMQP consumers (for management and stats). */
  publishers = 0;
  consumers = 0;
  /** Single-active-consumer groups of its stream-protocol subscriptions, by group name. */
  readonly singleActive = new SingleActiveGroups();
  constructor(
    readonly vhost: string,
    readonly name: string,
    readonly args: StreamArguments,
    readonly log: StreamLog,
  ) {}
}

export class StreamManager {
  private readonly streams = new Map<string, Map<string, Stream>>();
  /** Listeners told when a stream is deleted (subscriptions end, metadata_update goes out). */
  readonly deleteListeners = new Set<(s: Stream) => void>();

  constructor(
    private readonly dataDir: string,
    private readonly crc32: Crc32,
    /** Replication's change feed (cluster leader only). */
    private readonly changes?: DataDirChanges,
  ) {}

  /** Names are hashed in paths (any byte may appear in them), as the message store does. */
  private dirOf(vhost: string, name: string): string {
    const h = (s: string) => createHash('sha256').update(s).digest('hex').slice(0, 32);
    return join(this.dataDir, 'streams', h(vhost), h(name));
  }

  /** Opens every stream found on disk. */
  recover(): Stream[] {
    const root = join(this.dataDir, 'streams');
    const out: Stream[] = [];
    if (!fs.existsSync(root)) return out;
    for (const v of fs.readdirSync(root)) {
      for (const n of fs.readdirSync(join(root, v))) {
        const dir = join(root, v, n);
        let meta: { vhost: string; name: string; arguments: StreamArguments };
        try {
          meta = JSON.parse(fs.readFileSync(join(dir, 'stream.json'), 'utf8'));
        } catch {
          // created but its metadata never written: nothing was confirmed in it
          fs.rmSync(dir, { recursive: true, force: true });
          this.changes?.remove(dir);
          continue;
        }
        const retention = retentionOf(meta.arguments);
        if (typeof retention === 'string') continue;
        const s = new Stream(meta.vhost, meta.name, meta.arguments, StreamLog.open(dir, retention, { crc32: this.crc32, changes: this.changes }));
        this.byVhost(meta.vhost).set(meta.name, s);
        out.push(s);
      }
    }
    return out;
  }

  private byVhost(vhost: string): Map<string, Stream> {
    let m = this.streams.get(vhost);
    if (!m) this.streams.set(vhost, (m = new Map()));
    return m;
  }

  get(vhost: string, name: string): Stream | undefined {
    return this.streams.get(vhost)?.get(name);
  }

  list(vhost?: string): Stream[] {
    if (vhost !== undefined) return [...(this.streams.get(vhost)?.values() ?? [])];
    return [...this.streams.values()].flatMap((m) => [...m.values()]);
  }

  /**
   * Creates a stream (arguments already validated by the caller). The metadata file is written and
   * synced before the log, so a stream on disk always knows its name.
   */
  create(vhost: string, name: string, args: StreamArguments): Stream {
    const retention = retentionOf(args);
    if (typeof retention === 'string') throw new Error(`invalid ${retention}`);
    const dir = this.dirOf(vhost, name);
    fs.mkdirSync(dir, { recursive: true });
    this.changes?.mkdir(dir);
    replaceFile(join(dir, 'stream.json'), join(dir, 'stream.json.tmp'), JSON.stringify({ vhost, name, arguments: args }), this.changes);
    const s = new Stream(vhost, name, args, StreamLog.open(dir, retention, { crc32: this.crc32, changes: this.changes }));
    this.byVhost(vhost).set(name, s);
    return s;
  }

  delete(vhost: string, name: string): boolean {
    const s = this.get(vhost, name);
    if (!s) return false;
    this.streams.get(vhost)!.delete(name);
    for (const l of this.deleteListeners) l(s);
    s.log.destroy();
    return true;
  }

  close(): void {
    for (const s of this.list()) s.log.close();
  }
}
