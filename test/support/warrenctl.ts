/**
 * The fixture of the warrenctl tests: an in-process Warren with its management API, and the real
 * CLI run against it. Call it inside a describe(): it registers the before/after hooks itself.
 */
import { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { runWarrenctl, startTarget, type CtlRun, type Target } from '../management-support.js';

export interface WarrenctlFixture {
  /** The broker (set once the suite's before hook ran). */
  readonly target: Target;
  /** The management URL warrenctl is given, with guest's credentials. */
  readonly url: string;
  /** Runs `warrenctl ARGS`. */
  ctl(...args: string[]): Promise<CtlRun>;
  /** Runs `warrenctl ARGS` and returns its stdout; fails the test with its stderr unless it exits 0. */
  ok(...args: string[]): Promise<string>;
}

export function warrenctlFixture(): WarrenctlFixture {
  let target: Target | undefined;
  let url = '';
  const fixture: WarrenctlFixture = {
    get target() {
      assert.ok(target, 'the broker is started in before()');
      return target;
    },
    get url() {
      return url;
    },
    ctl: (...args) => runWarrenctl(url, args),
    async ok(...args) {
      const r = await runWarrenctl(url, args);
      assert.equal(r.code, 0, `warrenctl ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
      return r.stdout;
    },
  };
  before(async () => {
    target = await startTarget({ allowReference: false });
    url = `http://guest:guest@127.0.0.1:${target.broker!.managementPort}`;
  });
  after(async () => {
    await target?.close();
  });
  return fixture;
}
