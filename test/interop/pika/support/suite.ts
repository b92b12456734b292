// The set-up every Python interop file shares: one target broker for the whole describe block,
// started before its first test, and every Python child killed and the broker stopped after the last.
import { before, after } from 'node:test';
import { killAllPython } from './python.js';
import { startTargetBroker, type TargetBroker } from './broker.js';

/**
 * Registers the suite's before/after hooks (call it inside `describe`) and returns a handle that
 * forwards to the broker once `before` has started it.
 */
export function targetBrokerForSuite(): TargetBroker {
  let started: TargetBroker | undefined;
  const current = (): TargetBroker => {
    if (!started) throw new Error('the target broker is used before the suite started it');
    return started;
  };
  before(async () => {
    started = await startTargetBroker();
  });
  after(async () => {
    killAllPython();
    await started?.stop();
  });
  return {
    get url() { return current().url; },
    get host() { return current().host; },
    get amqpPort() { return current().amqpPort; },
    get managementUrl() { return current().managementUrl; },
    get canRestart() { return current().canRestart; },
    restart: () => current().restart(),
    stop: () => current().stop(),
    logs: () => (started ? started.logs() : ''),
  };
}
