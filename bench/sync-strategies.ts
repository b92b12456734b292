/**
 * How to make a group-commit round's cost independent of the number of files written in it, measured
 * on this machine's data dir file system. Each round appends `perFile` 1 KiB records to each of
 * `files` files, then makes them durable by one of:
 *   fdatasync       one fdatasync per file, all in parallel in libuv's pool (Warren's store today)
 *   syncfs          `sync -f <dir>` (syncfs(2) is not in Node's fs API; coreutils' sync is the way
 *                   to reach it without a native addon, so each round pays a process spawn)
 *   journal         every record is also appended to one shared journal file and only that file is
 *                   fdatasynced (the per-queue files are then written back lazily: 2x the bytes)
 *   workers         one fdatasync per file, spread over `--workers` worker threads calling
 *                   fdatasyncSync (more syncs in flight than libuv's pool allows, so the file
 *                   system can fold them into fewer journal commits)
 * Rounds run back to back for `seconds`; prints rounds/s and records/s per strategy and file count.
 *   node dist/bench/sync-strategies.js [--dir /var/tmp] [--seconds 3] [--per-file 16]
 * UV_THREADPOOL_SIZE (default 4) bounds how many fdatasyncs run at once.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Worker } from 'node:worker_threads';

const run = promisify(execFile);
const fdatasync = promisify(fs.fdatasync);
const write = promisify(fs.write);

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}

const baseDir = arg('dir', os.tmpdir());
const seconds = Number(arg('seconds', '3'));
const perFile = Number(arg('per-file', '16'));
const record = Buffer.alloc(1024, 7);

type Strategy = 'fdatasync' | 'syncfs' | 'journal' | 'workers';

const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const fs = require('node:fs');
parentPort.on('message', (fds) => { for (const fd of fds) fs.fdatasyncSync(fd); parentPort.postMessage(fds.length); });
`;
const workerCount = Number(arg('workers', '16'));
const workers = Array.from({ length: workerCount }, () => new Worker(WORKER_SOURCE, { eval: true }));

/** fdatasync every fd, spread over the workers; resolves when all are done. */
function syncOnWorkers(fds: number[]): Promise<void> {
  const n = Math.min(workers.length, fds.length);
  let pending = n;
  return new Promise((resolve) => {
    for (let w = 0; w < n; w++) {
      const mine = fds.filter((_, i) => i % n === w);
      workers[w]!.once('message', () => --pending === 0 && resolve());
      workers[w]!.postMessage(mine);
    }
  });
}

async function measure(strategy: Strategy, files: number): Promise<{ rounds: number; records: number }> {
  const dir = fs.mkdtempSync(path.join(baseDir, 'warren-sync-'));
  const fds = Array.from({ length: files }, (_, i) => fs.openSync(path.join(dir, `f${i}`), 'w'));
  const journal = fs.openSync(path.join(dir, 'journal'), 'w');
  const batch = Buffer.alloc(record.length * perFile, 7);
  let rounds = 0;
  const end = performance.now() + seconds * 1000;
  while (performance.now() < end) {
    await Promise.all(fds.map((fd) => write(fd, batch)));
    if (strategy === 'fdatasync') await Promise.all(fds.map((fd) => fdatasync(fd)));
    else if (strategy === 'syncfs') await run('sync', ['-f', dir]);
    else if (strategy === 'workers') await syncOnWorkers(fds);
    else {
      for (let i = 0; i < files; i++) fs.writeSync(journal, batch);
      await fdatasync(journal);
    }
    rounds++;
  }
  for (const fd of fds) fs.closeSync(fd);
  fs.closeSync(journal);
  fs.rmSync(dir, { recursive: true, force: true });
  return { rounds: rounds / seconds, records: (rounds * files * perFile) / seconds };
}

const fsType = (await run('df', ['-T', baseDir])).stdout.trim().split('\n').pop()!.split(/\s+/)[1];
console.log(`dir ${baseDir} (${fsType}), ${perFile} x 1 KiB per file per round, UV_THREADPOOL_SIZE=${process.env['UV_THREADPOOL_SIZE'] ?? 4}, ${workerCount} workers`);
for (const files of [1, 10, 100]) {
  for (const strategy of ['fdatasync', 'workers', 'syncfs', 'journal'] as const) {
    const r = await measure(strategy, files);
    console.log(`${String(files).padStart(3)} files  ${strategy.padEnd(9)}  ${Math.round(r.rounds).toLocaleString('en-US').padStart(7)} rounds/s  ${Math.round(r.records).toLocaleString('en-US').padStart(9)} records/s`);
  }
}
for (const w of workers) void w.terminate();
