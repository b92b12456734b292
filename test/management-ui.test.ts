/**
 * The web UI's script, run against the real API with a minimal stand-in for the browser's DOM:
 * logging in, and the overview, queues, connections and exchanges views rendering live data,
 * and the purge button. (No browser is needed: the page only uses a handful of DOM calls.)
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { runInNewContext } from 'node:vm';
import { api, connect, eventually, startTarget, type Target } from './management-support.js';

/** An element with just what app.js touches. */
class FakeElement {
  hidden = false;
  innerHTML = '';
  textContent = '';
  readonly listeners = new Map<string, (ev: unknown) => unknown>();
  readonly classList = { toggle: () => {} };
  addEventListener(type: string, fn: (ev: unknown) => unknown): void {
    this.listeners.set(type, fn);
  }
}

describe('web UI', () => {
  let target: Target;
  const elements = new Map<string, FakeElement>();
  const el = (sel: string) => {
    if (!elements.has(sel)) elements.set(sel, new FakeElement());
    return elements.get(sel)!;
  };
  const location = { hash: '#overview' };
  const windowListeners = new Map<string, () => void>();
  const storage = new Map<string, string>();

  before(async () => {
    target = await startTarget({ allowReference: false });
    const c = await connect(target.amqpUrl('guest', 'guest'));
    const ch = await c.createChannel();
    await ch.assertQueue('ui-queue', { durable: false });
    ch.sendToQueue('ui-queue', Buffer.from('x'));
    await ch.checkQueue('ui-queue');
    await c.close();
    const script = (await api(target, 'GET', '/app.js', undefined, null)).body as string;
    const base = target.managementUrl;
    runInNewContext(script, {
      document: { querySelector: el, querySelectorAll: () => [] },
      sessionStorage: {
        getItem: (k: string) => storage.get(k) ?? null,
        setItem: (k: string, v: string) => storage.set(k, v),
        removeItem: (k: string) => storage.delete(k),
      },
      fetch: (path: string, init: RequestInit) => fetch(base + path, init),
      location,
      window: { addEventListener: (type: string, fn: () => void) => windowListeners.set(type, fn) },
      btoa: (s: string) => Buffer.from(s, 'latin1').toString('base64'),
      unescape,
      encodeURIComponent,
      confirm: () => true,
      FormData: class { constructor(readonly form: { values: Record<string, string> }) {} get(k: string) { return this.form.values[k]; } },
      setTimeout: () => 0,
      clearTimeout: () => {},
      console,
    });
  });

  after(async () => {
    await target.close();
  });

  const view = () => el('#view').innerHTML;
  const show = async (hash: string, expect: RegExp) => {
    location.hash = hash;
    windowListeners.get('hashchange')!();
    await eventually(() => expect.test(view()));
  };

  test('the login form shows first; a wrong password is refused', async () => {
    assert.equal(el('#login').hidden, false);
    await el('#login').listeners.get('submit')!({ preventDefault() {}, target: { values: { username: 'guest', password: 'wrong' } } });
    await eventually(() => /Not authorised/.test(el('#login-error').textContent));
  });

  test('logging in shows the overview with live totals', async () => {
    await el('#login').listeners.get('submit')!({ preventDefault() {}, target: { values: { username: 'guest', password: 'guest' } } });
    await eventually(() => /<h2>Overview<\/h2>/.test(view()));
    assert.equal(el('#login').hidden, true);
    assert.equal(el('#who').textContent, 'guest (administrator)');
    assert.match(view(), /Ready<b>1<\/b>/);
    assert.match(view(), /Queues<b>1<\/b>/);
  });

  test('queues, connections and exchanges views', async () => {
    await show('#queues', /<h2>Queues<\/h2>/);
    assert.match(view(), /<td>ui-queue<\/td>/);
    await show('#connections', /<h2>Connections<\/h2>/);
    assert.match(view(), /none/);
    await show('#exchanges', /<h2>Exchanges<\/h2>/);
    assert.match(view(), /\(AMQP default\)/);
    assert.match(view(), /amq\.topic/);
  });

  test('the purge button empties the queue', async () => {
    await show('#queues', /ui-queue/);
    await el('#view').listeners.get('click')!({ target: { closest: () => ({ dataset: { purge: '/|ui-queue' } }) } });
    await eventually(async () => (await api(target, 'GET', '/api/queues/%2F/ui-queue')).body.messages === 0);
  });
});
