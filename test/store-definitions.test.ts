/**
 * DefinitionsStore: RabbitMQ-format JSON saved atomically. A child process (this file with
 * WARREN_DEFS_CHILD=1) saves ever-growing versions in a loop and is killed with SIGKILL: the
 * file must always load as one whole version.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { after, describe, test } from 'node:test';
import { DefinitionsStore, type Definitions } from '../src/store/index.js';
import { removeDir, tempDir } from './store-util.js';

/** Shaped like GET /api/definitions of RabbitMQ 3.10. */
function sample(version: number, queues = 3): Definitions {
  return {
    rabbit_version: '3.10.8',
    rabbitmq_version: '3.10.8',
    product_name: 'Warren',
    product_version: String(version),
    users: [
      {
        name: 'guest',
        password_hash: 'ckSBR+/HFu/sJ0KZGngcwd4TM4Z/EvfhWVJxmFC4YTddC5+r',
        hashing_algorithm: 'rabbit_password_hashing_sha256',
        tags: ['administrator'],
        limits: {},
      },
    ],
    vhosts: [{ name: '/' }, { name: 'ünï' }],
    permissions: [{ user: 'guest', vhost: '/', configure: '.*', write: '.*', read: '.*' }],
    topic_permissions: [],
    parameters: [],
    global_parameters: [{ name: 'internal_cluster_id', value: 'warren-test' }],
    policies: [{ vhost: '/', name: 'ttl', pattern: '^t\\.', 'apply-to': 'queues', definition: { 'message-ttl': 1000 }, priority: 0 }],
    queues: Array.from({ length: queues }, (_, i) => ({
      name: `q${i}`,
      vhost: '/',
      durable: true,
      auto_delete: false,
      arguments: { 'x-max-length': i, 'x-dead-letter-exchange': 'dlx' },
    })),
    exchanges: [{ name: 'logs', vhost: '/', type: 'fanout', durable: true, auto_delete: false, internal: false, arguments: {} }],
    bindings: [{ source: 'logs', vhost: '/', destination: 'q0', destination_type: 'queue', routing_key: '', arguments: {} }],
  };
}

if (process.env.WARREN_DEFS_CHILD) {
  const store = new DefinitionsStore(process.env.WARREN_DEFS_DIR!);
  fs.writeSync(1, 'READY\n');
  for (let v = 1; ; v++) store.save(sample(v, 200 + (v % 50)));
} else {
  const dirs: string[] = [];
  after(() => dirs.forEach(removeDir));
  const dataDir = (): string => {
    const d = tempDir('warren-defs-');
    dirs.push(d);
    return d;
  };

  describe('definitions store', () => {
    test('nothing saved yet: load() is undefined', () => {
      assert.equal(new DefinitionsStore(dataDir()).load(), undefined);
    });

    test('save then load round-trips the document; a later save replaces it', () => {
      const dir = dataDir();
      const store = new DefinitionsStore(dir);
      store.save(sample(1));
      assert.deepEqual(new DefinitionsStore(dir).load(), sample(1));
      store.save(sample(2, 10));
      assert.deepEqual(new DefinitionsStore(dir).load(), sample(2, 10));
      assert.deepEqual(fs.readdirSync(dir), ['definitions.json'], 'no temporary file left');
    });

    test('a leftover temporary file from an interrupted save is ignored and removed', () => {
      const dir = dataDir();
      const store = new DefinitionsStore(dir);
      store.save(sample(1));
      fs.writeFileSync(`${store.file}.tmp`, '{"rabbit_version": "3.10.8", "queu');
      assert.deepEqual(store.load(), sample(1));
      assert.ok(!fs.existsSync(`${store.file}.tmp`));
    });

    test('a damaged file is an error, not an empty broker', () => {
      const dir = dataDir();
      const store = new DefinitionsStore(dir);
      fs.writeFileSync(store.file, '{"users": [');
      assert.throws(() => store.load(), /not valid JSON/);
    });

    test('kill -9 during saves always leaves one whole version', { timeout: 120_000 }, async () => {
      const dir = dataDir();
      let lastVersion = 0;
      for (let i = 0; i < 8; i++) {
        await new Promise<void>((resolve, reject) => {
          const child = spawn(process.execPath, [fileURLToPath(import.meta.url)], {
            env: { ...process.env, WARREN_DEFS_CHILD: '1', WARREN_DEFS_DIR: dir },
            stdio: ['ignore', 'pipe', 'inherit'],
          });
          child.stdout.once('data', () => setTimeout(() => child.kill('SIGKILL'), 30 + Math.random() * 200));
          child.on('error', reject);
          child.on('close', () => resolve());
        });
        const loaded = new DefinitionsStore(dir).load();
        if (!loaded) continue; // killed before the first rename
        const version = Number(loaded.product_version);
        assert.deepEqual(loaded, sample(version, 200 + (version % 50)), 'a whole version');
        lastVersion = version;
      }
      assert.ok(lastVersion > 0, 'some save completed');
    });
  });
}
