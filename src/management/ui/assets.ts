/**
 * Files the management server serves without authentication: the web UI and the admin script.
 *
 * The UI is built by `npm run build` (scripts/build-ui.mjs bundles src/management/ui/web with
 * esbuild) into ./www beside this module: index.html plus content-hashed files under /assets/.
 * They are read once, on first request, and kept gzipped in memory. A hashed file never changes
 * under its name, so it is cached for a year; index.html is revalidated on every load, so a new
 * build is picked up at once. The content security policy keeps the page from asking anything of
 * any host but the broker.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { RABBITMQADMIN_PY } from './rabbitmqadmin.js';

export interface Asset {
  type: string;
  body: Buffer;
  gzipped: Buffer | undefined;
  headers: Record<string, string>;
}

const WWW = fileURLToPath(new URL('./www/', import.meta.url));

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.map': 'application/json',
};

const IMMUTABLE = { 'cache-control': 'public, max-age=31536000, immutable' };
const REVALIDATE = { 'cache-control': 'no-cache' };
const PAGE_HEADERS = {
  ...REVALIDATE,
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

function asset(type: string, body: Buffer, headers: Record<string, string>): Asset {
  const compressible = type.startsWith('text/') || type === 'application/json' || type === 'image/svg+xml';
  return { type, body, gzipped: compressible && body.length > 1024 ? gzipSync(body) : undefined, headers };
}

const NOT_BUILT = Buffer.from(
  '<!doctype html><meta charset="utf-8"><title>Warren</title><p>The web UI has not been built: run <code>npm run build</code>.</p>',
);

let table: Map<string, Asset> | undefined;

function load(): Map<string, Asset> {
  const out = new Map<string, Asset>();
  out.set('/cli/rabbitmqadmin', asset('text/x-python; charset=utf-8', Buffer.from(RABBITMQADMIN_PY), REVALIDATE));
  const indexPath = join(WWW, 'index.html');
  const index = existsSync(indexPath) ? readFileSync(indexPath) : NOT_BUILT;
  const page = asset('text/html; charset=utf-8', index, PAGE_HEADERS);
  out.set('/', page);
  out.set('/index.html', page);
  const assetsDir = join(WWW, 'assets');
  if (existsSync(assetsDir)) {
    for (const name of readdirSync(assetsDir)) {
      const type = TYPES[extname(name)] ?? 'application/octet-stream';
      out.set(`/assets/${name}`, asset(type, readFileSync(join(assetsDir, name)), IMMUTABLE));
    }
  }
  return out;
}

export function staticAsset(path: string): Asset | undefined {
  table ??= load();
  return table.get(path);
}
