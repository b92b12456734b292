/**
 * DefinitionsStore: RabbitMQ-format JSON saved atomically, and the log of queue, exchange and
 * binding changes appended after it. A child process (this file with WARREN_DEFS_CHILD=1) saves
 * ever-growing versions in a loop and is killed with SIGKILL: the file must always load as one
 * whole version; another (WARREN_DEFS_CHILD=log) appends declares and reports each one once it
 * returned: every reported one must load after the kill.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { after, describe, test } from 'node:test';
import { DefinitionsStore, type DefinitionRecord, type Definitions, type QueueDefinition } from '../src/store/index.js';
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

const queue = (name: string, vhost = '/'): QueueDefinition => ({ name, vhost, durable: true, auto_delete: false, arguments: { 'x-queue-type': 'classic' } });
const put = (item: QueueDefinition): DefinitionRecord => ({ op: 'put', kind: 'queues', item });
const del = (item: QueueDefinition): DefinitionRecord => ({ op: 'delete', kind: 'queues', item });

if (process.env.WARREN_DEFS_CHILD === 'log') {
  // Declares q0, q1, ... each with a binding, saving a snapshot whenever the store asks, and
  // reports each index on stdout once its append returned.
  const store = new DefinitionsStore(process.env.WARREN_DEFS_DIR!);
  const loaded = store.load() ?? sample(0, 0);
  if (!store.canAppend) store.save(loaded);
  let n = loaded.queues!.length;
  const live = [...loaded.queues!];
  fs.writeSync(1, 'READY\n');
  for (;; n++) {
    const q = queue(`q${n}`);
    live.push(q);
    const bind: DefinitionRecord = { op: 'put', kind: 'bindings', item: { source: 'logs', vhost: '/', destination: q.name, destination_type: 'queue', routing_key: q.name, arguments: {} } };
    if (store.append([put(q), bind])) {
      store.save({ ...sample(0, 0), queues: live, bindings: [...sample(0, 0).bindings!, ...live.map((l) => ({ source: 'logs', vhost: '/', destination: l.name, destination_type: 'queue' as const, routing_key: l.name, arguments: {} }))] });
    }
    fs.writeSync(1, `${n}\n`);
  }
} else if (process.env.WARREN_DEFS_CHILD) {
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

    test('changes appended to the log load over the snapshot, in order; a snapshot removes the log', () => {
      const dir = dataDir();
      const store = new DefinitionsStore(dir);
      assert.equal(store.canAppend, false, 'the log follows a snapshot');
      store.save(sample(1));
      assert.equal(store.canAppend, true);
      const binding = { source: 'logs', vhost: 'ünï', destination: 'q9', destination_type: 'queue' as const, routing_key: 'k', arguments: { 'x-match': 'all' } };
      const exchange = { name: 'ex', vhost: 'ünï', type: 'topic', durable: true, auto_delete: false, internal: false, arguments: {} };
      assert.equal(store.append([put(queue('q9', 'ünï')), { op: 'put', kind: 'exchanges', item: exchange }]), false);
      store.append([{ op: 'put', kind: 'bindings', item: binding }, del(queue('q1'))]);
      // The first binding of the snapshot goes, identified by all of its fields.
      store.append([{ op: 'delete', kind: 'bindings', item: { ...sample(1).bindings![0]! } }, put(queue('q1'))]);
      store.append([{ op: 'delete', kind: 'bindings', item: { ...binding, routing_key: 'other' } }]);
      const expected = sample(1);
      expected.queues = [expected.queues![0]!, expected.queues![2]!, queue('q9', 'ünï'), queue('q1')];
      expected.exchanges!.push(exchange);
      expected.bindings = [binding];
      assert.deepEqual(new DefinitionsStore(dir).load(), expected);
      assert.deepEqual(fs.readdirSync(dir).sort(), ['definitions.json', 'definitions.log']);
      assert.deepEqual(JSON.parse(fs.readFileSync(store.file, 'utf8')), sample(1), 'the snapshot is not rewritten by changes');
      store.save(sample(2));
      assert.deepEqual(fs.readdirSync(dir), ['definitions.json']);
      assert.deepEqual(new DefinitionsStore(dir).load(), sample(2));
      // A store that loaded a snapshot and a log appends after it.
      const again = new DefinitionsStore(dir);
      again.load();
      again.append([put(queue('a'))]);
      const reloaded = new DefinitionsStore(dir);
      reloaded.load();
      reloaded.append([put(queue('b'))]);
      assert.deepEqual(new DefinitionsStore(dir).load()!.queues!.map((q) => q.name), ['q0', 'q1', 'q2', 'a', 'b']);
    });

    test('close() folds the log into the snapshot, so a stopped broker has one whole definitions.json', () => {
      const dir = dataDir();
      const store = new DefinitionsStore(dir);
      store.save(sample(1));
      store.append([put(queue('x'))]);
      store.close(sample(3));
      assert.deepEqual(fs.readdirSync(dir), ['definitions.json']);
      assert.deepEqual(JSON.parse(fs.readFileSync(store.file, 'utf8')), sample(3));
      // Without a log there is nothing to fold: close() writes nothing.
      const again = new DefinitionsStore(dir);
      again.load();
      again.close(sample(4));
      assert.deepEqual(again.load(), sample(3));
    });

    test('unsynced appends: whenSynced answers in order after one shared sync; a snapshot answers them at once', async () => {
      const dir = dataDir();
      const store = new DefinitionsStore(dir);
      store.save(sample(1));
      const answered: string[] = [];
      store.whenSynced(() => answered.push('nothing pending'));
      assert.deepEqual(answered, ['nothing pending'], 'answered at once when no line waits');
      const fds = (): number => fs.readdirSync('/proc/self/fd').length;
      const fdsBefore = fds();
      store.append([put(queue('a'))], false);
      store.whenSynced(() => answered.push('a'));
      assert.equal(store.pendingSync, true);
      // Written while the first sync is under way: answered by the next one, after 'a'.
      store.append([put(queue('b'))], false);
      store.whenSynced(() => answered.push('b'));
      store.append([put(queue('c'))], false);
      store.whenSynced(() => answered.push('c'));
      assert.deepEqual(answered, ['nothing pending'], 'nobody is answered before the disk');
      await new Promise<void>((resolve) => store.whenSynced(resolve));
      assert.deepEqual(answered, ['nothing pending', 'a', 'b', 'c']);
      assert.equal(store.pendingSync, false);
      // A snapshot while a sync is under way answers its waiters at once, and only once; the
      // log's descriptor the sync still uses is closed after it, not before.
      store.append([put(queue('d'))], false);
      store.whenSynced(() => answered.push('d'));
      store.save(sample(2));
      assert.deepEqual(answered.slice(-1), ['d']);
      store.append([put(queue('e'))], false);
      await new Promise<void>((resolve) => store.whenSynced(resolve));
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.deepEqual(answered, ['nothing pending', 'a', 'b', 'c', 'd']);
      assert.deepEqual(new DefinitionsStore(dir).load()!.queues!.map((q) => q.name).slice(-1), ['e']);
      store.close();
      assert.equal(fds(), fdsBefore, 'no descriptor left open');
    });

    test('the log asks for a snapshot once it outgrows the snapshot and 256 KiB', () => {
      const store = new DefinitionsStore(dataDir());
      store.save(sample(1));
      let appends = 0;
      while (!store.append([put(queue(`grow-${appends}`))])) appends++;
      const bytes = fs.statSync(store.logFile).size;
      assert.ok(bytes > 256 * 1024 && bytes < 256 * 1024 + 200, `asked at ${bytes} bytes`);
      const big = new DefinitionsStore(dataDir());
      big.save(sample(1, 5000));
      const snapshot = fs.statSync(big.file).size;
      let more = 0;
      while (!big.append([put(queue(`grow-${more}`))])) more++;
      assert.ok(fs.statSync(big.logFile).size > snapshot, 'past the snapshot');
      assert.ok(more > appends, 'a bigger snapshot takes more changes');
    });

    test('a torn last line is dropped and the next append follows the good part', () => {
      const dir = dataDir();
      const store = new DefinitionsStore(dir);
      store.save(sample(1));
      store.append([put(queue('x'))]);
      fs.appendFileSync(store.logFile, '{"op":"put","kind":"queues","item":{"name":"tor');
      const loaded = new DefinitionsStore(dir);
      assert.deepEqual(loaded.load()!.queues!.map((q) => q.name), ['q0', 'q1', 'q2', 'x']);
      loaded.append([put(queue('y'))]);
      assert.deepEqual(new DefinitionsStore(dir).load()!.queues!.map((q) => q.name), ['q0', 'q1', 'q2', 'x', 'y']);
      // Zeros where a crash lost the last line's data count as torn too.
      fs.appendFileSync(store.logFile, Buffer.alloc(40));
      fs.appendFileSync(store.logFile, '\n');
      assert.deepEqual(new DefinitionsStore(dir).load()!.queues!.map((q) => q.name), ['q0', 'q1', 'q2', 'x', 'y']);
    });

    test('a damaged line followed by good ones is an error naming the line', () => {
      const dir = dataDir();
      const store = new DefinitionsStore(dir);
      store.save(sample(1));
      store.append([put(queue('x'))]);
      store.append([put(queue('y'))]);
      const lines = fs.readFileSync(store.logFile, 'utf8').split('\n');
      lines[1] = lines[1]!.replace('"x"', '"x');
      fs.writeFileSync(store.logFile, lines.join('\n'));
      assert.throws(() => new DefinitionsStore(dir).load(), /definitions log .*definitions\.log is damaged at line 2/);
    });

    test("a log that follows another snapshot (a crash before the old log's removal) is ignored", () => {
      const dir = dataDir();
      const store = new DefinitionsStore(dir);
      store.save(sample(1));
      store.append([del(queue('q0'))]);
      const oldLog = fs.readFileSync(store.logFile);
      store.save(sample(2));
      fs.writeFileSync(store.logFile, oldLog);
      const loaded = new DefinitionsStore(dir);
      assert.deepEqual(loaded.load(), sample(2));
      assert.equal(loaded.ignoredLog, true, 'reported');
      loaded.append([put(queue('z'))]);
      assert.deepEqual(new DefinitionsStore(dir).load()!.queues!.map((q) => q.name), ['q0', 'q1', 'q2', 'z']);
    });

    test('kill -9 during appends loses no change that was reported done', { timeout: 120_000 }, async () => {
      const dir = dataDir();
      let reported = -1;
      for (let i = 0; i < 8; i++) {
        await new Promise<void>((resolve, reject) => {
          const child = spawn(process.execPath, [fileURLToPath(import.meta.url)], {
            env: { ...process.env, WARREN_DEFS_CHILD: 'log', WARREN_DEFS_DIR: dir },
            stdio: ['ignore', 'pipe', 'inherit'],
          });
          let text = '';
          child.stdout.on('data', (d: Buffer) => {
            if (!text) setTimeout(() => child.kill('SIGKILL'), 50 + Math.random() * 300);
            text += d.toString();
            const lines = text.split('\n');
            for (const l of lines.slice(0, -1)) if (/^\d+$/.test(l)) reported = Math.max(reported, Number(l));
          });
          child.on('error', reject);
          child.on('close', () => resolve());
        });
        const loaded = new DefinitionsStore(dir).load()!;
        const names = loaded.queues!.map((q) => q.name);
        assert.deepEqual(names, names.map((_, k) => `q${k}`), 'declares in order, none missing in between');
        assert.ok(names.length > reported, `q${reported} was reported done, ${names.length} loaded`);
        assert.deepEqual(loaded.bindings!.slice(1).map((b) => b.destination), names, 'each with its binding');
      }
      assert.ok(reported > 100, `${reported + 1} declares went through the log`);
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
