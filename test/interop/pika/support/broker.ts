// The broker the Python interop tests talk to, adapted from the shared test/support helpers:
// by default a Warren child process (restartable on the same data dir, for durability), or with
// WARREN_TEST_AMQP_URL set the already running broker it names (the reference RabbitMQ while
// developing), which is shared and therefore not restarted, unless WARREN_TEST_RESTART_COMMAND
// names a shell command that restarts it (e.g. rabbitmqctl stop_app && start_app on a private node).
import { execSync } from 'node:child_process';
import { startWarren, startBrokerUnderTest } from '../../../support/warren-process.js';

export interface TargetBroker {
  /** amqp://guest:guest@host:port/%2F */
  url: string;
  host: string;
  amqpPort: number;
  /** Management API base URL without credentials (admin.ts logs in as guest). */
  managementUrl: string;
  canRestart: boolean;
  restart(): Promise<void>;
  stop(): Promise<void>;
  /** Warren's last log lines, for failure messages ('' for an external broker). */
  logs(): string;
}

export function amqpUrl(host: string, port: number, user = 'guest', password = 'guest', vhost = '/'): string {
  const enc = encodeURIComponent;
  return `amqp://${enc(user)}:${enc(password)}@${host}:${port}/${enc(vhost)}`;
}

export async function startTargetBroker(): Promise<TargetBroker> {
  if (process.env.WARREN_TEST_AMQP_URL) {
    const b = await startBrokerUnderTest();
    const restartCommand = process.env.WARREN_TEST_RESTART_COMMAND;
    return {
      url: b.url,
      host: b.host,
      amqpPort: b.amqpPort,
      // RabbitMQ convention when WARREN_TEST_MGMT_URL is not given: AMQP port + 10000.
      managementUrl: b.managementUrl || `http://${b.host}:${b.amqpPort + 10000}`,
      canRestart: Boolean(restartCommand),
      restart: async () => {
        if (!restartCommand) {
          throw new Error('the external broker (WARREN_TEST_AMQP_URL) is shared and cannot be restarted');
        }
        execSync(restartCommand, { stdio: 'ignore', timeout: 120_000 });
      },
      stop: b.stop,
      logs: b.logs,
    };
  }
  const w = await startWarren();
  return {
    get url() { return w.url; },
    host: '127.0.0.1',
    get amqpPort() { return w.amqpPort; },
    get managementUrl() { return w.managementUrl; },
    canRestart: true,
    restart: () => w.restart(),
    stop: () => w.stop(),
    logs: () => w.logs(),
  };
}
