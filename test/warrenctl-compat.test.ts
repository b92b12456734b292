/**
 * warrenctl against rabbitmqctl 3.10.8, command line for command line: the same invocations, the
 * same exit codes, the same stdout and the same stderr (its first lines where rabbitmqctl follows
 * an argument error with its own usage text). The expectations below were recorded from the
 * reference node and are asserted against Warren in every run.
 *
 * With WARREN_TEST_RABBITMQCTL_NODE (e.g. ref5610@host) and WARREN_TEST_RABBITMQCTL_MANAGEMENT
 * (its management API, e.g. http://127.0.0.1:15610) set, the very same cases also run through the
 * real `rabbitmqctl -n <node>` against that node, so the recording is checked, not assumed:
 *
 *   WARREN_TEST_RABBITMQCTL_NODE=ref5610@$(hostname -s) WARREN_TEST_RABBITMQCTL_MANAGEMENT=http://127.0.0.1:15610 \
 *     node --test dist/test/warrenctl-compat.test.js
 *
 * Both sides get the same objects through the management API first (both brokers have it).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { api, apiOk, type CtlRun } from './management-support.js';
import { warrenctlFixture } from './support/warrenctl.js';

const V = 'ctl-compat-v';
const EMPTY = 'ctl-compat-empty';
const USER = 'ctl-compat-user';
const Q = 'ctl-compat-q';
const NOPE = 'ctl-compat-nope';

interface Case {
  args: string[];
  code: number;
  stdout: string;
  /** The whole stderr (default ''), or with `stderrStart` only its beginning. */
  stderr?: string;
  stderrStart?: string;
  /** The last N rows come in the broker's order: compared sorted. */
  rows?: number;
  /** Lists node-wide objects (connections): run on the reference only while it has no clients. */
  quietNode?: boolean;
}

const banner = {
  queues: (vhost: string) => `Timeout: 60.0 seconds ...\nListing queues for vhost ${vhost} ...\n`,
  permissions: (vhost: string) => `Listing permissions for vhost "${vhost}" ...\n`,
};
const missingVhost = (vhost: string) => `Virtual host '${vhost}' does not exist\n`;
const noSuchUser = (user: string) => `Error:\n{:no_such_user, "${user}"}\n`;

const CASES: Record<string, Case[]> = {
  'empty info-key listings print no header; a missing vhost lists nothing and exits 0': [
    { args: ['list_queues', '-p', EMPTY], code: 0, stdout: banner.queues(EMPTY) },
    { args: ['list_queues', '-p', NOPE], code: 0, stdout: banner.queues(NOPE) },
    { args: ['list_queues', '-p', EMPTY, '-t', '30'], code: 0, stdout: `Timeout: 30.0 seconds ...\nListing queues for vhost ${EMPTY} ...\n` },
    { args: ['list_queues', '-q', '-p', EMPTY], code: 0, stdout: '' },
    { args: ['list_queues', '-p', EMPTY, '--formatter', 'json'], code: 0, stdout: '[\n]\n' },
    { args: ['list_exchanges', '-p', NOPE], code: 0, stdout: `Listing exchanges for vhost ${NOPE} ...\n` },
    { args: ['list_bindings', '-p', NOPE], code: 0, stdout: `Listing bindings for vhost ${NOPE}...\n` },
    { args: ['list_consumers', '-p', EMPTY], code: 0, stdout: `Listing consumers in vhost ${EMPTY} ...\n` },
    { args: ['list_consumers', '-p', NOPE, '--formatter', 'json'], code: 0, stdout: '[\n]\n' },
    { args: ['list_connections'], code: 0, stdout: 'Listing connections ...\n', quietNode: true },
    { args: ['list_channels', '--formatter', 'json'], code: 0, stdout: '[\n]\n', quietNode: true },
    { args: ['close_all_connections', '-p', NOPE, 'why'], code: 0, stdout: `Closing all connections in vhost ${NOPE}, reason: why...\nClosed 0 connections\n` },
  ],
  'empty fixed listings print an empty line ([] in JSON)': [
    { args: ['list_permissions', '-p', EMPTY], code: 0, stdout: `${banner.permissions(EMPTY)}\n` },
    { args: ['list_permissions', '-q', '-p', EMPTY, '--formatter', 'json'], code: 0, stdout: '[]\n' },
    { args: ['list_policies', '-q', '-p', EMPTY], code: 0, stdout: '\n' },
    { args: ['list_operator_policies', '-p', EMPTY], code: 0, stdout: `Listing operator policy overrides for vhost "${EMPTY}" ...\n\n` },
    { args: ['list_topic_permissions', '-p', EMPTY], code: 0, stdout: `Listing topic permissions for vhost "${EMPTY}" ...\n\n` },
    { args: ['list_user_topic_permissions', USER], code: 0, stdout: `Listing topic permissions for user "${USER}" ...\n\n` },
    { args: ['list_vhost_limits', '-p', EMPTY], code: 0, stdout: `Listing limits for vhost "${EMPTY}" ...\n\n` },
    { args: ['list_vhost_limits', '-p', EMPTY, '--formatter', 'json'], code: 0, stdout: '[]\n' },
    { args: ['list_user_limits', '--user', USER], code: 0, stdout: `Listing limits for user "${USER}" ...\n{}\n` },
    { args: ['list_user_limits', '--user', USER, '--formatter', 'json'], code: 0, stdout: '{"message":"{}"}\n' },
  ],
  'listings with rows: header, -q, -s, --no-table-headers, JSON': [
    { args: ['list_queues', '-q', '-p', V, 'name', 'durable', 'arguments', 'messages'], code: 0, stdout: `name\tdurable\targuments\tmessages\n${Q}\ttrue\t[{"x-max-length",5}]\t1\n` },
    { args: ['list_queues', '-p', V, 'name', 'arguments', '--formatter', 'json'], code: 0, stdout: `[\n{"name":"${Q}","arguments":[["x-max-length","long",5]]}\n]\n` },
    { args: ['list_queues', '-s', '-p', V], code: 0, stdout: `${Q}\t1\n` },
    { args: ['list_queues', '--no-table-headers', '-p', V], code: 0, stdout: `${banner.queues(V)}${Q}\t1\n` },
    {
      args: ['list_permissions', '-q', '-p', V, '--formatter', 'json'], code: 0, rows: 2,
      stdout: `[\n{"user":"${USER}","configure":"a","write":"b","read":"c"}\n,{"user":"guest","configure":".*","write":".*","read":".*"}\n]\n`,
    },
    { args: ['list_policies', '-s', '-p', V], code: 0, stdout: `${V}\tctl-compat-p\t^x\tqueues\t{"max-length":3}\t0\n` },
    { args: ['list_bindings', '-q', '-p', V], code: 0, stdout: `source_name\tsource_kind\tdestination_name\tdestination_kind\trouting_key\targuments\n\texchange\t${Q}\tqueue\t${Q}\t[]\n` },
  ],
  'missing vhosts and users: exit codes and words': [
    { args: ['list_permissions', '-p', NOPE], code: 65, stdout: banner.permissions(NOPE), stderr: missingVhost(NOPE) },
    { args: ['list_policies', '-p', NOPE], code: 65, stdout: `Listing policies for vhost "${NOPE}" ...\n`, stderr: missingVhost(NOPE) },
    { args: ['list_topic_permissions', '-q', '-p', NOPE], code: 65, stdout: '', stderr: missingVhost(NOPE) },
    { args: ['list_vhost_limits', '-q', '-p', NOPE], code: 65, stdout: '', stderr: missingVhost(NOPE) },
    { args: ['list_user_permissions', '-q', 'ctl-compat-nobody'], code: 69, stdout: '', stderr: noSuchUser('ctl-compat-nobody') },
    { args: ['list_user_limits', '-q', '--user', 'ctl-compat-nobody'], code: 69, stdout: '', stderr: noSuchUser('ctl-compat-nobody') },
    { args: ['clear_user_limits', '-q', 'ctl-compat-nobody', 'all'], code: 69, stdout: '', stderr: noSuchUser('ctl-compat-nobody') },
    { args: ['delete_vhost', NOPE], code: 65, stdout: `Deleting vhost "${NOPE}" ...\n`, stderr: missingVhost(NOPE) },
    { args: ['delete_user', '-q', 'ctl-compat-nobody'], code: 67, stdout: '', stderr: 'Error:\nUser "ctl-compat-nobody" does not exist\n' },
    { args: ['set_permissions', '-q', '-p', NOPE, USER, '.*', '.*', '.*'], code: 69, stdout: '', stderr: `Error:\nVirtual host ${NOPE} does not exist\n` },
    { args: ['set_permissions', '-q', '-p', V, 'ctl-compat-nobody', '.*', '.*', '.*'], code: 67, stdout: '', stderr: 'Error:\nUser ctl-compat-nobody does not exist\n' },
    { args: ['add_user', '-q', USER, 'x'], code: 70, stdout: '', stderr: `Error:\nUser "${USER}" already exists\n` },
    { args: ['set_policy', '-q', '-p', NOPE, 'p', '^x', '{"max-length":1}'], code: 65, stdout: '', stderr: missingVhost(NOPE) },
    { args: ['set_vhost_limits', '-q', '-p', NOPE, '{"max-queues":1}'], code: 65, stdout: '', stderr: missingVhost(NOPE) },
    { args: ['clear_policy', '-q', '-p', V, 'ctl-compat-none'], code: 69, stdout: '', stderr: 'Error:\nParameter does not exist\n' },
  ],
  'queue refusals': [
    { args: ['delete_queue', '-p', V, 'ctl-compat-none'], code: 64, stdout: `Deleting queue 'ctl-compat-none' on vhost '${V}' ...\n`, stderr: 'Error:\nQueue not found\n' },
    { args: ['delete_queue', '-p', V, Q, '--if-empty'], code: 64, stdout: `Deleting queue '${Q}' on vhost '${V}' if queue is empty ...\n`, stderr: 'Error:\nQueue is not empty\n' },
    { args: ['purge_queue', '-q', '-p', V, 'ctl-compat-none'], code: 69, stdout: '', stderr: 'Error:\nnot_found\n' },
  ],
  'argument errors: exit 64 (65 for a bad value) before anything is done': [
    { args: ['ctl-compat-command'], code: 64, stdout: '', stderrStart: "\nCommand 'ctl-compat-command' not found. \n" },
    { args: ['list_queues', 'ctl_compat_key'], code: 64, stdout: '', stderrStart: 'Error (argument validation): Info key(s) ctl_compat_key are not supported\nArguments given:\n' },
    { args: ['delete_queue'], code: 64, stdout: '', stderrStart: 'Error (argument validation): not enough arguments.\nArguments given:\n' },
    { args: ['list_users', 'extra'], code: 64, stdout: '', stderrStart: 'Error (argument validation): too many arguments.\nArguments given:\n' },
    { args: ['set_policy', '--priority', 'x', 'p', '^x', '{}'], code: 64, stdout: '', stderrStart: 'Error (argument validation): Invalid options for this command:\n--priority : x\n' },
    {
      args: ['set_vm_memory_high_watermark', '2'], code: 65, stdout: '',
      stderrStart: 'Error (argument validation): Bad argument: The threshold should be a fraction between 0.0 and 1.0\n',
    },
  ],
  'last: delete_queue reports the ready messages it deleted': [
    { args: ['delete_queue', '-q', '-p', V, Q], code: 0, stdout: 'Queue was successfully deleted with 1 ready messages\n' },
  ],
};

/** Sorts the last `rows` rows (table lines, or the objects of a JSON array) of an output. */
function canonical(stdout: string, rows: number | undefined): string {
  if (!rows) return stdout;
  const lines = stdout.split('\n');
  const json = lines.at(-2) === ']';
  const end = lines.length - (json ? 2 : 1);
  const picked = lines.slice(end - rows, end).map((l, i) => (json && i > 0 ? l.replace(/^,/, '') : l)).sort();
  return [...lines.slice(0, end - rows), ...picked.map((l, i) => (json && i > 0 ? `,${l}` : l)), ...lines.slice(end)].join('\n');
}

/** The objects every case expects, created through the management API of either broker. */
async function createFixtures(mgmt: string): Promise<void> {
  await removeFixtures(mgmt);
  await apiOk(mgmt, 'PUT', `/api/vhosts/${EMPTY}`, {});
  // The API grants the creating user access to its new vhost; the empty one must have none.
  await apiOk(mgmt, 'DELETE', `/api/permissions/${EMPTY}/guest`);
  await apiOk(mgmt, 'PUT', `/api/vhosts/${V}`, {});
  await apiOk(mgmt, 'PUT', `/api/users/${USER}`, { password: 'pw', tags: '' });
  await apiOk(mgmt, 'PUT', `/api/permissions/${V}/${USER}`, { configure: 'a', write: 'b', read: 'c' });
  await apiOk(mgmt, 'PUT', `/api/policies/${V}/ctl-compat-p`, { pattern: '^x', definition: { 'max-length': 3 }, 'apply-to': 'queues' });
  await apiOk(mgmt, 'PUT', `/api/queues/${V}/${Q}`, { durable: true, arguments: { 'x-max-length': 5 } });
  const published = await apiOk(mgmt, 'POST', `/api/exchanges/${V}/amq.default/publish`, {
    routing_key: Q, payload: 'one', payload_encoding: 'string', properties: {},
  });
  assert.deepEqual(published.body, { routed: true });
}

async function removeFixtures(mgmt: string): Promise<void> {
  for (const path of [`/api/vhosts/${V}`, `/api/vhosts/${EMPTY}`, `/api/users/${USER}`]) await api(mgmt, 'DELETE', path);
}

/** Runs every case in order on one side. */
function runCases(run: () => (args: string[]) => Promise<CtlRun>, nodeIsQuiet: () => Promise<boolean>): void {
  for (const [title, cases] of Object.entries(CASES)) {
    test(title, async () => {
      for (const c of cases) {
        if (c.quietNode && !(await nodeIsQuiet())) continue;
        const r = await run()(c.args);
        const what = `${c.args.join(' ')}: ${JSON.stringify(r)}`;
        assert.equal(r.code, c.code, what);
        assert.equal(canonical(r.stdout, c.rows), c.stdout, what);
        if (c.stderrStart !== undefined) assert.ok(r.stderr.startsWith(c.stderrStart), what);
        else assert.equal(r.stderr, c.stderr ?? '', what);
      }
    });
  }
}

describe('warrenctl → Warren: rabbitmqctl 3.10.8 output and exit codes', () => {
  const fixture = warrenctlFixture();
  before(() => createFixtures(fixture.target.managementUrl));
  runCases(() => (args) => fixture.ctl(...args), async () => true);
});

const referenceNode = process.env['WARREN_TEST_RABBITMQCTL_NODE'];
const referenceManagement = process.env['WARREN_TEST_RABBITMQCTL_MANAGEMENT'];
describe('rabbitmqctl → RabbitMQ: the recorded expectations', { skip: referenceNode && referenceManagement ? false : 'WARREN_TEST_RABBITMQCTL_NODE / _MANAGEMENT not set' }, () => {
  const rabbitmqctl = (args: string[]) =>
    new Promise<CtlRun>((resolve) => {
      execFile('rabbitmqctl', ['-n', referenceNode!, ...args], { timeout: 60_000 }, (error, stdout, stderr) => {
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
      });
    });
  before(() => createFixtures(referenceManagement!));
  after(() => removeFixtures(referenceManagement!));
  runCases(() => rabbitmqctl, async () => ((await apiOk(referenceManagement!, 'GET', '/api/connections')).body as unknown[]).length === 0);
});
