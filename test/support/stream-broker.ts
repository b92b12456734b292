/**
 * A Warren with its stream protocol listener on a free port, and a connected rabbitmq-stream-js-client
 * (the real npm client). Stream-protocol tests run against Warren only: RabbitMQ 3.10 does not answer
 * the client's exchange_command_versions, so today's client cannot talk to it.
 */
import { connect, type Client } from 'rabbitmq-stream-js-client';
import { freePort } from './free-port.js';
import { startTestBroker, type TestBroker } from './test-broker.js';
import type { BrokerOptions } from '../../src/index.js';

export interface StreamTestBroker extends TestBroker {
  streamPort: number;
  client(options?: { username?: string; password?: string; vhost?: string; heartbeat?: number }): Promise<Client>;
}

export async function startStreamBroker(options: BrokerOptions = {}): Promise<StreamTestBroker> {
  const streamPort = await freePort();
  const b = await startTestBroker({ streamPort, streamHost: '127.0.0.1', ...options });
  const clients: Client[] = [];
  return {
    ...b,
    streamPort,
    client: async (o = {}) => {
      const c = await connect({
        hostname: '127.0.0.1', port: streamPort, username: o.username ?? 'guest', password: o.password ?? 'guest',
        vhost: o.vhost ?? '/', heartbeat: o.heartbeat ?? 0,
      }, { debug() {}, info() {}, warn() {}, error() {} });
      clients.push(c);
      return c;
    },
    close: async () => {
      // The npm client's close() never settles on a connection already closed: bound the wait.
      for (const c of clients.splice(0)) await Promise.race([c.close().catch(() => {}), new Promise((r) => setTimeout(r, 500).unref())]);
      await b.close();
    },
  };
}
