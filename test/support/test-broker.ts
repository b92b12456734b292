/**
 * The broker a core test talks to. By default an in-process Warren on an ephemeral port with a fresh
 * data dir; with WARREN_TEST_AMQP_URL set, that already-running broker instead (this is how every
 * scenario is first checked against the reference RabbitMQ: the same test body must pass on both).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Broker, type BrokerOptions } from '../../src/index.js';

export interface TestBroker {
  /** amqp://guest:guest@host:port/%2F, plus any query string the test appends. */
  url: string;
  host: string;
  port: number;
  /** True when talking to a broker this process did not start (e.g. RabbitMQ). */
  external: boolean;
  /** The in-process broker, when there is one. */
  broker: Broker | undefined;
  close(): Promise<void>;
}

export const externalUrl = process.env['WARREN_TEST_AMQP_URL'];

export async function startTestBroker(options: BrokerOptions = {}): Promise<TestBroker> {
  if (externalUrl) {
    const u = new URL(externalUrl);
    return {
      url: externalUrl.replace(/\/$/, '') + (u.pathname === '' || u.pathname === '/' ? '/%2F' : ''),
      host: u.hostname,
      port: Number(u.port || 5672),
      external: true,
      broker: undefined,
      close: async () => {},
    };
  }
  const dataDir = mkdtempSync(join(tmpdir(), 'warren-core-test-'));
  // streamPort 0: tests never take the stream protocol's default port 5552 unless they ask for a port.
  const broker = await Broker.start({ port: 0, host: '127.0.0.1', managementPort: 0, prometheusPort: 0, streamPort: 0, dataDir, logLevel: 'silent', ...options });
  return {
    url: `amqp://guest:guest@127.0.0.1:${broker.port}/%2F`,
    host: '127.0.0.1',
    port: broker.port,
    external: false,
    broker,
    close: async () => {
      await broker.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A name no other test (or earlier run against a shared broker) uses. */
export function uniq(prefix: string): string {
  return `${prefix}-${randomBytes(5).toString('hex')}`;
}
