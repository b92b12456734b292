// Bundles the management web UI (src/management/ui/web) with esbuild into
// dist/src/management/ui/www: index.html plus content-hashed assets/*.js and *.css, which the
// broker serves with a year-long cache. Type-checking is done before this by
// `tsc -p src/management/ui/web` (esbuild only strips types).
import { build } from 'esbuild';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist/src/management/ui/www');
const src = join(root, 'src/management/ui/web');

/** Newest modification time among the UI's inputs (sources, this script, the locked dependency versions). */
function newestInput() {
  let newest = 0;
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else newest = Math.max(newest, statSync(path).mtimeMs);
    }
  };
  walk(src);
  for (const f of [fileURLToPath(import.meta.url), join(root, 'package-lock.json')]) newest = Math.max(newest, statSync(f).mtimeMs);
  return newest;
}

// `npm start` and `npm test` build first: an unchanged UI is not bundled again.
const index = join(out, 'index.html');
if (existsSync(index) && statSync(index).mtimeMs > newestInput()) process.exit(0);
rmSync(out, { recursive: true, force: true });
mkdirSync(join(out, 'assets'), { recursive: true });

const result = await build({
  entryPoints: [join(root, 'src/management/ui/web/main.tsx')],
  bundle: true,
  minify: true,
  format: 'esm',
  target: ['es2020', 'chrome100', 'firefox100', 'safari15'],
  jsx: 'automatic',
  jsxImportSource: 'preact',
  outdir: join(out, 'assets'),
  entryNames: '[name]-[hash]',
  assetNames: '[name]-[hash]',
  metafile: true,
  legalComments: 'linked',
  logLevel: 'warning',
});

const files = Object.keys(result.metafile.outputs).map((f) => basename(f));
const js = files.find((f) => f.endsWith('.js'));
const css = files.find((f) => f.endsWith('.css'));
if (!js || !css) throw new Error(`UI build produced no script or stylesheet: ${files.join(', ')}`);

writeFileSync(
  join(out, 'index.html'),
  `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>Warren Management</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="assets/${css}">
<script type="module" src="assets/${js}"></script>
</head>
<body>
<div id="app"></div>
<noscript>The Warren management UI needs JavaScript; the HTTP API is at /api.</noscript>
</body>
</html>
`,
);
const size = files.map((f) => `${f}`).join(', ');
console.log(`ui: ${size}`);
