/**
 * "A broker per file": one call in a test file (or describe block) starts a TestBroker before its
 * tests, closes every amqplib client and raw connection after each test and stops the broker after
 * the last one. The returned object is the TestBroker itself, filled in once `before` has run:
 *
 *   const b = brokerPerFile();
 *   test('...', async () => { const conn = await connect(b.url); ... });
 */
import { after, afterEach, before } from 'node:test';
import type { BrokerOptions } from '../../src/index.js';
import { closeAllClients } from './amqp-client.js';
import { RawConnection, type HandshakeOptions } from './raw-amqp.js';
import { startTestBroker, type TestBroker } from './test-broker.js';

export interface BrokerFixture extends TestBroker {
  /** Raw protocol connections a test opened: destroyed after each test. */
  readonly raws: RawConnection[];
}

export function brokerPerFile(options: BrokerOptions = {}): BrokerFixture {
  const fixture = { raws: [] as RawConnection[] } as unknown as BrokerFixture;
  before(async () => {
    Object.assign(fixture, await startTestBroker(options));
  });
  afterEach(async () => {
    for (const r of fixture.raws.splice(0)) r.destroy();
    await closeAllClients();
  });
  after(async () => {
    await fixture.close?.();
  });
  return fixture;
}

/** A raw protocol connection to the fixture's broker with channel 1 open, destroyed after the test. */
export async function openRawChannel(b: BrokerFixture, options: HandshakeOptions = {}): Promise<RawConnection> {
  const { conn } = await RawConnection.handshake(b.host, b.port, options);
  b.raws.push(conn);
  await conn.openChannel(1);
  return conn;
}
