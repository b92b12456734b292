// Mutual TLS with the clients RabbitMQ users run, from Debian's packages: pika, amqp091-go and the
// Java client, each logging in with PLAIN and with EXTERNAL (the certificate's DN) against an AMQPS
// listener with verify_peer and fail_if_no_peer_cert, certificates made by openssl for the run.
// Run from .ci/run (needs python3-pika, golang-github-rabbitmq-amqp091-go-dev, librabbitmq-client-java).
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Broker } from '../../src/index.js';
import { checkoutRoot } from '../support/cli-process.js';
import { makeTestPki, opensslAvailable, type TestPki } from '../support/tls-certs.js';

const programs = join(checkoutRoot, 'test', 'ci', 'tls-clients');
const javaJars = ['amqp-client.jar', 'slf4j-api.jar', 'slf4j-nop.jar'].map((jar) => join('/usr/share/java', jar));

function run(command: string, args: string[], timeoutMs = 120_000): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { timeout: timeoutMs, maxBuffer: 8 << 20 }, (error, stdout, stderr) => {
      const line = stdout.split('\n').find((l) => l.startsWith('RESULT '));
      if (error || !line) reject(new Error(`${command} ${args.join(' ')} failed: ${error?.message ?? 'no RESULT'}\n${stdout}\n${stderr}`));
      else resolve(JSON.parse(line.slice(7)) as Record<string, unknown>);
    });
  });
}

describe('TLS with pika, amqp091-go and the Java client', { skip: opensslAvailable() ? false : 'needs openssl' }, () => {
  let pki: TestPki;
  let broker: Broker;
  let build: string;
  let dataDir: string;
  const dn = () => `CN=${pki.clientName},O=Warren Test`;

  before(async () => {
    pki = makeTestPki();
    build = mkdtempSync(join(tmpdir(), 'warren-tls-clients-'));
    dataDir = mkdtempSync(join(tmpdir(), 'warren-tls-clients-data-'));
    broker = await Broker.start({
      port: 0, host: '127.0.0.1', managementPort: 0, prometheusPort: 0, dataDir, logLevel: 'silent',
      tlsListeners: [{ host: '127.0.0.1', port: 0 }],
      tls: { certFile: pki.serverCertFile, keyFile: pki.serverKeyFile, caFile: pki.caBundleFile, verifyPeer: true, failIfNoPeerCert: true },
      authMechanisms: ['PLAIN', 'AMQPLAIN', 'EXTERNAL'],
    });
    broker.users.addUser(dn(), undefined, []);
    broker.users.setPermission('/', dn(), { configure: '.*', write: '.*', read: '.*' });
  });
  after(async () => {
    await broker?.close();
    pki?.remove();
    rmSync(build, { recursive: true, force: true });
    rmSync(dataDir, { recursive: true, force: true });
  });

  for (const mode of ['plain', 'external'] as const) {
    test(`pika (${mode})`, async () => {
      const r = await run('/usr/bin/python3', [join(programs, 'pika_tls.py'), '127.0.0.1', String(broker.tlsPort), pki.caFile, pki.clientCertFile, pki.clientKeyFile, mode]);
      assert.equal(r['body'], 'pika over tls');
    });
  }

  test('amqp091-go (plain and external)', { skip: existsSync('/usr/share/gocode/src/github.com/rabbitmq/amqp091-go') ? false : 'golang-github-rabbitmq-amqp091-go-dev missing' }, async () => {
    const bin = join(build, 'tlsclient-go');
    execFileSync('go', ['build', '-trimpath', '-o', bin, '.'], {
      cwd: join(programs, 'go'), stdio: 'pipe',
      env: { ...process.env, GOFLAGS: '-mod=mod', GOPROXY: 'off', GOSUMDB: 'off', GOTOOLCHAIN: 'local', GOCACHE: process.env['GOCACHE'] ?? join(tmpdir(), 'warren-interop-gocache') },
    });
    const url = `amqps://guest:guest@localhost:${broker.tlsPort}/`;
    for (const mode of ['plain', 'external']) {
      const r = await run(bin, [mode === 'external' ? `amqps://localhost:${broker.tlsPort}/` : url, pki.caFile, pki.clientCertFile, pki.clientKeyFile, mode]);
      assert.equal(r['body'], 'go over tls');
      assert.equal(r['tlsVersion'], 'TLS 1.3');
    }
  });

  test('RabbitMQ Java client (plain and external)', { skip: javaJars.every((j) => existsSync(j)) ? false : 'librabbitmq-client-java missing' }, async () => {
    const p12 = join(build, 'client.p12');
    execFileSync('openssl', ['pkcs12', '-export', '-in', pki.clientCertFile, '-inkey', pki.clientKeyFile, '-out', p12, '-passout', 'pass:secret']);
    const classpath = javaJars.join(':');
    execFileSync('javac', ['-d', build, '-cp', classpath, join(programs, 'TlsClient.java')], { stdio: 'pipe' });
    for (const mode of ['plain', 'external']) {
      const r = await run('java', ['-XX:TieredStopAtLevel=1', '-XX:+UseSerialGC', '-cp', `${build}:${classpath}`, 'TlsClient', 'localhost', String(broker.tlsPort), pki.caFile, p12, 'secret', mode]);
      assert.equal(r['body'], 'java over tls');
    }
  });

  test('EXTERNAL logins were the certificate DN, PLAIN ones guest', () => {
    // Each client closed its connection; the login accounting saw every one of them.
    const sources = broker.logins.bySource();
    assert.ok(sources.some((s) => s.username === dn() && s.auth_attempts_succeeded >= 2), JSON.stringify(sources));
    assert.ok(sources.some((s) => s.username === 'guest' && s.auth_attempts_succeeded >= 2), JSON.stringify(sources));
    assert.equal(broker.logins.totals.auth_attempts_failed, 0);
  });
});
