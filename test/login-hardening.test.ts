// Failed logins (beyond RabbitMQ): logged with peer, user and mechanism, counted per protocol and per
// source in /api/auth/attempts (RabbitMQ 3.10's endpoint), and a source over its per-minute failure
// limit gets delayed refusals while other sources are answered at once.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import amqp from 'amqplib';
import { Broker } from '../src/index.js';

import { externalUrl } from './support/test-broker.js';
import { freePort } from './support/free-port.js';
import { scrape, value } from './support/prometheus-text.js';

/** amqplib hands these to net.connect; its types do not list localAddress. */
type SocketOptions = Parameters<typeof amqp.connect>[1];

describe('login hardening', { skip: externalUrl ? 'slow-down is Warren-only' : false }, () => {
  let broker: Broker;
  let dataDir: string;
  const logs: Array<{ msg: string; fields: Record<string, unknown> | undefined }> = [];

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'warren-login-test-'));
    broker = await Broker.start({
      port: 0, host: '127.0.0.1', managementPort: await freePort(), prometheusPort: await freePort(), dataDir, loginFailureLimit: 2,
      logger: (_level, msg, fields) => void logs.push({ msg, fields }),
    });
  });
  after(async () => {
    await broker.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** ms until the broker refuses a wrong password from this local address. */
  const refusalMs = async (localAddress: string, user = 'guest') => {
    const t0 = performance.now();
    await assert.rejects(amqp.connect(`amqp://${user}:wrong@127.0.0.1:${broker.port}/%2F`, { localAddress } as unknown as SocketOptions), /ACCESS.REFUSED/);
    return performance.now() - t0;
  };

  test('failures over the limit are answered later and later; another source is not affected', async () => {
    const first = await refusalMs('127.0.0.1');
    const second = await refusalMs('127.0.0.1', 'nobody');
    assert.ok(first < 800 && second < 800, `within the limit: ${first.toFixed(0)} / ${second.toFixed(0)} ms`);
    const third = await refusalMs('127.0.0.1');
    const fourth = await refusalMs('127.0.0.1');
    assert.ok(third >= 1000, `third failure answered after ${third.toFixed(0)} ms`);
    assert.ok(fourth >= 2000, `fourth failure answered after ${fourth.toFixed(0)} ms`);
    // A different source address: its first failure and a good login are answered at once.
    const other = await refusalMs('127.0.0.2');
    assert.ok(other < 800, `other source waited ${other.toFixed(0)} ms`);
    const t0 = performance.now();
    const conn = await amqp.connect(`amqp://guest:guest@127.0.0.1:${broker.port}/%2F`, { localAddress: '127.0.0.2' } as unknown as SocketOptions);
    assert.ok(performance.now() - t0 < 800);
    await conn.close();
  });

  test('failed logins are logged with peer, user and mechanism, and counted in /api/auth/attempts', async () => {
    const failures = logs.filter((l) => l.msg === 'authentication failed');
    assert.ok(failures.length >= 5);
    const f = failures.find((l) => l.fields?.['user'] === 'nobody')!;
    assert.match(String(f.fields?.['peer']), /^127\.0\.0\.1:\d+$/);
    assert.equal(f.fields?.['mechanism'], 'PLAIN');
    assert.ok(failures.some((l) => Number(l.fields?.['delayMs']) >= 1000), 'delayed refusals say so');
    const auth = `Basic ${Buffer.from('guest:guest').toString('base64')}`;
    const get = async (path: string) => (await fetch(`http://127.0.0.1:${broker.managementPort}${path}`, { headers: { authorization: auth } })).json();
    const overview = (await get('/api/overview')) as { node: string };
    const totals = (await get(`/api/auth/attempts/${encodeURIComponent(overview.node)}`)) as Array<Record<string, unknown>>;
    assert.deepEqual(totals, [{ protocol: 'amqp091', auth_attempts: 6, auth_attempts_failed: 5, auth_attempts_succeeded: 1 }]);
    // The Prometheus endpoint reads the same counts (one source, not a second tally that could drift).
    const metrics = await scrape(`http://127.0.0.1:${broker.prometheusPort}/metrics`);
    const prom = (name: string) => value(metrics, name, { protocol: 'amqp091' });
    assert.deepEqual([prom('rabbitmq_auth_attempts_total'), prom('rabbitmq_auth_attempts_failed_total'), prom('rabbitmq_auth_attempts_succeeded_total')], [6, 5, 1]);
    const sources = (await get(`/api/auth/attempts/${encodeURIComponent(overview.node)}/source`)) as Array<Record<string, unknown>>;
    assert.deepEqual(sources.find((s) => s['remote_address'] === '127.0.0.1' && s['username'] === 'guest'),
      { remote_address: '127.0.0.1', username: 'guest', protocol: 'amqp091', auth_attempts: 3, auth_attempts_failed: 3, auth_attempts_succeeded: 0 });
  });
});
