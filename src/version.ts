import { readFileSync } from 'node:fs';

/**
 * The RabbitMQ release whose behaviour Warren matches, reported where RabbitMQ reports its own version:
 * connection.start and the stream port's peer properties (clients branch on it), the management API's
 * rabbitmq_version and definitions, the Prometheus build info.
 */
export const RABBITMQ_VERSION = '3.10.8';

/** The package version, read once from package.json (two levels above dist/src). */
export const VERSION: string = (() => {
  try {
    const url = new URL('../../package.json', import.meta.url);
    return (JSON.parse(readFileSync(url, 'utf8')) as { version: string }).version;
  } catch {
    return '0.0.0';
  }
})();
