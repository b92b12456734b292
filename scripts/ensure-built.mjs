#!/usr/bin/env node
// `npm start` runs the built broker at once. `npm install` already built it (the `prepare` script);
// this rebuilds only when a source file is newer than the last build (an edited checkout), so a
// start after install costs a few stat calls instead of a TypeScript compile.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync, utimesSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const stamp = join(root, 'dist', '.tsbuildinfo');
const entry = join(root, 'dist', 'src', 'cli', 'warren.js');

function newestSource(dir) {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) newest = Math.max(newest, newestSource(p));
    else newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

const built = existsSync(entry) && existsSync(stamp) ? statSync(stamp).mtimeMs : 0;
const sources = existsSync(join(root, 'src')) ? Math.max(newestSource(join(root, 'src')), statSync(join(root, 'tsconfig.json')).mtimeMs) : 0;
if (built === 0 || sources > built) {
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  if (!existsSync(tsc)) {
    if (existsSync(entry)) process.exit(0); // an installed package: dist is what ships
    console.error('warren: dist/ is missing and TypeScript is not installed; run `npm install` first');
    process.exit(1);
  }
  // The whole build (TypeScript, then the web UI bundle), as `npm run build` does it.
  execFileSync('npm', ['run', 'build', '--silent'], { cwd: root, stdio: 'inherit' });
  // tsc leaves its build info alone when nothing changed (a file touched, not edited): mark the check done.
  const now = new Date();
  utimesSync(stamp, now, now);
}
