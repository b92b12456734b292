/**
 * Files the management server serves without authentication: the web UI and the admin script.
 * They are compiled into the package as strings, so nothing has to be found on disk at run time.
 */
import { RABBITMQADMIN_PY } from './rabbitmqadmin.js';
import { APP_JS, INDEX_HTML, STYLE_CSS } from './page.js';

export interface Asset {
  type: string;
  body: string;
}

const ASSETS: Record<string, Asset> = {
  '/': { type: 'text/html; charset=utf-8', body: INDEX_HTML },
  '/index.html': { type: 'text/html; charset=utf-8', body: INDEX_HTML },
  '/app.js': { type: 'text/javascript; charset=utf-8', body: APP_JS },
  '/style.css': { type: 'text/css; charset=utf-8', body: STYLE_CSS },
  '/cli/rabbitmqadmin': { type: 'text/x-python; charset=utf-8', body: RABBITMQADMIN_PY },
};

export function staticAsset(path: string): Asset | undefined {
  return ASSETS[path];
}
