/**
 * The web UI's Stream tab (RabbitMQ's rabbitmq_stream_management pages) in Debian's Chromium, against
 * a real Warren with a real rabbitmq-stream-js-client connection: #/stream/connections lists it, its
 * page shows its publisher and consumer with RabbitMQ's columns, and Force Close ends it. Run by
 * .ci/run (needs Chromium), as test/ci/ui.test.ts.
 */
import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Offset } from 'rabbitmq-stream-js-client';
import { startStreamBroker, type StreamTestBroker } from '../support/stream-broker.js';
import { freePort } from '../support/free-port.js';
import { waitFor } from '../support/eventually.js';
import { closeCheckedPages, launch, login, openPage, screenshot, type Session, type TrackedPage } from './ui-browser.js';

describe('management web UI: stream connections in Chromium', () => {
  let b: StreamTestBroker;
  let session: Session;
  let base: string;
  const pages: TrackedPage[] = [];

  before(async () => {
    b = await startStreamBroker({ managementPort: await freePort() });
    base = `http://127.0.0.1:${b.broker!.managementPort}`;
    session = await launch();
  });

  afterEach(() => closeCheckedPages(pages));

  after(async () => {
    await session?.close();
    await b?.close();
  });

  test('the Stream tab lists a stream client; its page shows its publisher and consumer; Force Close ends it', async () => {
    const client = await b.client();
    await client.createStream({ stream: 'ui-stream', arguments: {} });
    const publisher = await client.declarePublisher({ stream: 'ui-stream', publisherRef: 'ui-ref' });
    for (let i = 0; i < 3; i++) await publisher.send(Buffer.from(`m${i}`));
    let consumed = 0;
    await client.declareConsumer({ stream: 'ui-stream', offset: Offset.first() }, () => void consumed++);
    await waitFor('the consumer reads the three messages', () => consumed === 3);
    // One locator connection for the client plus the ones its publisher and consumer opened.
    const connections = [...b.broker!.streamConnections];
    const withPublisher = connections.find((c) => c.publishers.size > 0)!;
    const withConsumer = connections.find((c) => c.subscriptions.size > 0)!;

    const tracked = await openPage(session, base);
    pages.push(tracked);
    const p = tracked.page;
    await login(p, base, 'guest', 'guest', '#/');
    await p.getByRole('link', { name: 'Stream', exact: true }).click();
    await p.waitForURL(/#\/stream\/connections$/);
    await p.getByRole('heading', { name: 'Stream Connections' }).waitFor();
    const table = p.getByRole('table', { name: 'Stream connections' });
    for (const c of connections) await table.getByRole('link', { name: c.name, exact: true }).waitFor();
    assert.equal(await table.locator('tbody tr').count(), connections.length);
    await screenshot(p, 'stream-connections');

    await table.getByRole('link', { name: withPublisher.name, exact: true }).click();
    await p.waitForURL(new RegExp(`#/stream/connections/%2F/${encodeURIComponent(withPublisher.name).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`));
    await p.getByRole('heading', { name: 'Publishers (1)' }).waitFor();
    const pubRow = p.getByRole('table', { name: 'Publishers' }).locator('tbody tr');
    await pubRow.getByRole('cell', { name: 'ui-ref', exact: true }).waitFor();
    assert.equal(await pubRow.getByRole('link', { name: 'ui-stream' }).getAttribute('href'), '#/queues/%2F/ui-stream');
    await pubRow.getByRole('cell', { name: '3', exact: true }).first().waitFor(); // published and confirmed
    await screenshot(p, 'stream-connection-publisher');

    await p.goto(`${base}/#/stream/connections/%2F/${encodeURIComponent(withConsumer.name)}`);
    await p.getByRole('heading', { name: 'Consumers (1)' }).waitFor();
    const subRow = p.getByRole('table', { name: 'Consumers' }).locator('tbody tr');
    await subRow.getByRole('link', { name: 'ui-stream' }).waitFor();
    await subRow.getByRole('cell', { name: '3', exact: true }).waitFor(); // messages consumed

    p.once('dialog', (d) => void d.accept());
    await p.getByRole('button', { name: 'Force Close' }).click();
    await p.waitForURL(/#\/stream\/connections$/);
    await waitFor('the consumer connection is closed', () => ![...b.broker!.streamConnections].includes(withConsumer));
  });
});
