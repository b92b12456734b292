/**
 * "A broker per file": one call in a test file (or describe block) starts a TestBroker before its
 * tests, closes every amqplib client after each test and stops the broker after the last one. The
 * returned object is the TestBroker itself, filled in once `before` has run:
 *
 *   const b = brokerPerFile();
 *   test('...', async () => { const conn = await connect(b.url); ... });
 */
import { after, afterEach, before } from 'node:test';
import type { BrokerOptions } from '../../src/index.js';
import { closeAllClients } from './amqp-client.js';
import { startTestBroker, type TestBroker } from './test-broker.js';

export function brokerPerFile(options: BrokerOptions = {}): TestBroker {
  const fixture = {} as TestBroker;
  before(async () => {
    Object.assign(fixture, await startTestBroker(options));
  });
  afterEach(async () => {
    await closeAllClients();
  });
  after(async () => {
    await fixture.close?.();
  });
  return fixture;
}
