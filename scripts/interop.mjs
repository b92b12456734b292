#!/usr/bin/env node
// The cross-client compatibility suite in one command: runs every compiled
// test/interop/*.test.ts (each starts its own Warren on ephemeral ports and
// drives it with a real client), prints Node's spec output, then a per-client
// table and the runner's summary. Exits non-zero if any client fails.
//   npm run test:interop                 # build, then every client
//   node scripts/interop.mjs go ruby     # only the files whose names contain these words
// Set WARREN_TEST_AMQP_URL / WARREN_TEST_MGMT_URL to run against another broker (e.g. RabbitMQ).
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const interopDir = join(root, 'dist', 'test', 'interop');
const reporter = pathToFileURL(join(root, 'test', 'support', 'client-table-reporter.mjs')).href;

if (!existsSync(interopDir)) {
  console.error(`${interopDir} is missing: build first (npx tsc -p .)`);
  process.exit(1);
}
const filters = process.argv.slice(2);
const files = readdirSync(interopDir)
  .filter((name) => name.endsWith('.test.js'))
  .filter((name) => filters.length === 0 || filters.some((f) => name.includes(f)))
  .sort()
  .map((name) => join(interopDir, name));
if (files.length === 0) {
  console.error(`no interop test files match ${filters.join(' ')}`);
  process.exit(1);
}

// Two files at a time: the machine has two cores, and each file runs a broker and a client.
const args = ['--test', '--test-concurrency=2', `--test-reporter=${reporter}`, '--test-reporter-destination=stdout', ...files];
const child = spawn(process.execPath, args, { cwd: root, stdio: 'inherit' });
const forward = (signal) => child.kill(signal);
process.on('SIGINT', forward);
process.on('SIGTERM', forward);
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
