// AMQPS with real clients (amqplib, @cloudamqp/amqp-client, `openssl s_client`) against certificates this
// test makes with openssl: server chain, verify_peer / fail_if_no_peer_cert, TLS 1.2 and 1.3, EXTERNAL
// login by DN or CN, the connection JSON's ssl fields, management over HTTPS, the handshake timeout,
// certificate reload without dropping connections, and bad certificates or ports refused before start.
// The JSON field formats were compared with RabbitMQ 3.10.8 (rabbitmq_auth_mechanism_ssl) on the same certificates.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import { request } from 'node:https';
import { connect as netConnect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import amqp from 'amqplib';
import { AMQPClient } from '@cloudamqp/amqp-client';
import { Broker, type BrokerOptions } from '../src/index.js';
import { TlsConfigError, type TlsOptions } from '../src/tls/tls-options.js';
import { externalUrl } from './support/test-broker.js';
import { CliProcess } from './support/cli-process.js';
import { freePort } from './support/free-port.js';
import { makeTestPki, opensslAvailable, type TestPki } from './support/tls-certs.js';

const skip = externalUrl ? 'starts its own brokers' : !opensslAvailable() ? 'needs the openssl command' : false;

describe('AMQPS', { skip }, () => {
  let pki: TestPki;
  const brokers: Broker[] = [];
  const dirs: string[] = [];
  const tmp = () => {
    const d = mkdtempSync(join(tmpdir(), 'warren-tls-test-'));
    dirs.push(d);
    return d;
  };
  /** The test server certificate copied to files a test may overwrite with a renewed one before reloading. */
  const renewableCert = () => {
    const dir = tmp();
    const certFile = join(dir, 'cert.pem');
    const keyFile = join(dir, 'key.pem');
    copyFileSync(pki.serverCertFile, certFile);
    copyFileSync(pki.serverKeyFile, keyFile);
    return { certFile, keyFile };
  };
  const start = async (o: BrokerOptions = {}) => {
    const b = await Broker.start({
      port: 0, host: '127.0.0.1', managementPort: 0, prometheusPort: 0, dataDir: tmp(), logLevel: 'silent',
      tlsListeners: [{ host: '127.0.0.1', port: 0 }],
      authMechanisms: ['PLAIN', 'AMQPLAIN', 'EXTERNAL'],
      ...o,
      tls: { certFile: pki.serverCertFile, keyFile: pki.serverKeyFile, caFile: pki.caBundleFile, verifyPeer: true, ...o.tls },
    });
    brokers.push(b);
    return b;
  };
  const ca = () => [readFileSync(pki.caFile)];
  const clientCert = () => ({ cert: readFileSync(pki.clientCertFile), key: readFileSync(pki.clientKeyFile) });
  const dn = () => `CN=${pki.clientName},O=Warren Test`;
  const addUser = (b: Broker, name: string) => {
    b.users.addUser(name, undefined, []);
    b.users.setPermission('/', name, { configure: '.*', write: '.*', read: '.*' });
  };
  const roundTrip = async (conn: amqp.ChannelModel) => {
    const ch = await conn.createChannel();
    const { queue } = await ch.assertQueue('', { exclusive: true });
    ch.sendToQueue(queue, Buffer.from('over tls'));
    const got = await new Promise<string>((resolve) => void ch.consume(queue, (m) => m && resolve(m.content.toString()), { noAck: true }));
    assert.equal(got, 'over tls');
  };
  let shared: Broker;

  before(async () => {
    pki = makeTestPki();
    shared = await start({ managementPort: await freePort() });
    addUser(shared, dn());
  });
  after(async () => {
    await Promise.all(brokers.map((b) => b.close()));
    pki?.remove();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  test('amqplib over TLS 1.3 verifies the server against the root CA (chain sent by the server) and logs in with PLAIN', async () => {
    const conn = await amqp.connect(`amqps://guest:guest@localhost:${shared.tlsPort}/%2F`, { ca: ca(), servername: 'localhost' });
    try {
      await roundTrip(conn);
      const c = [...shared.connections].find((x) => x.username === 'guest')!;
      assert.equal(c.authMechanism, 'PLAIN');
    } finally {
      await conn.close();
    }
  });

  test('@cloudamqp/amqp-client over TLS', async () => {
    const client = new AMQPClient(`amqps://guest:guest@localhost:${shared.tlsPort}/%2F`, { ca: ca() });
    const conn = await client.connect();
    try {
      const ch = await conn.channel();
      const q = await ch.queueDeclare('', { exclusive: true });
      await ch.basicPublish('', q.name, 'hello tls');
      const msg = await ch.basicGet(q.name, { noAck: true });
      assert.equal(msg?.bodyToString(), 'hello tls');
    } finally {
      await conn.close();
    }
  });

  test('EXTERNAL logs in as the certificate DN; the connection JSON shows the TLS fields as RabbitMQ does', async () => {
    const conn = await amqp.connect(`amqps://localhost:${shared.tlsPort}/%2F`, { ca: ca(), ...clientCert(), credentials: amqp.credentials.external() });
    try {
      await roundTrip(conn);
      const c = [...shared.connections].find((x) => x.username === dn());
      assert.ok(c, `no connection for ${dn()}`);
      const res = await fetch(`http://127.0.0.1:${shared.managementPort}/api/connections`, { headers: { authorization: `Basic ${Buffer.from('guest:guest').toString('base64')}` } });
      const list = (await res.json()) as Array<Record<string, unknown>>;
      const j = list.find((x) => x['user'] === dn())!;
      assert.equal(j['auth_mechanism'], 'EXTERNAL');
      assert.equal(j['ssl'], true);
      assert.equal(j['ssl_protocol'], 'tlsv1.3');
      assert.equal(j['ssl_cipher'], 'aes_256_gcm');
      assert.equal(j['ssl_hash'], 'aead');
      assert.equal(j['ssl_key_exchange'], 'any');
      assert.equal(j['peer_cert_subject'], dn());
      assert.equal(j['peer_cert_issuer'], 'CN=Warren Test Intermediate CA,O=Warren Test');
      assert.match(String(j['peer_cert_validity']), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ - \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      const plain = list.find((x) => x['ssl'] === false);
      if (plain) assert.equal(plain['peer_cert_subject'], null);
    } finally {
      await conn.close();
    }
  });

  test('EXTERNAL with ssl_cert_login_from = common_name uses the CN; an unknown user is refused', async () => {
    const b = await start({ sslCertLoginFrom: 'common_name' });
    await assert.rejects(amqp.connect(`amqps://localhost:${b.tlsPort}/%2F`, { ca: ca(), ...clientCert(), credentials: amqp.credentials.external() }), /ACCESS.REFUSED/);
    addUser(b, pki.clientName);
    const conn = await amqp.connect(`amqps://localhost:${b.tlsPort}/%2F`, { ca: ca(), ...clientCert(), credentials: amqp.credentials.external() });
    assert.ok([...b.connections].some((c) => c.username === pki.clientName && c.authMechanism === 'EXTERNAL'));
    await conn.close();
  });

  test('EXTERNAL is offered only to TLS clients that sent a certificate', async () => {
    const mechanisms = async (port: number, withCert: boolean) => {
      const s = tlsConnect({ port, host: '127.0.0.1', servername: 'localhost', ca: ca(), ...(withCert ? clientCert() : {}) });
      await new Promise<void>((r) => s.once('secureConnect', () => r()));
      s.write('AMQP\x00\x00\x09\x01');
      const data = await new Promise<Buffer>((r) => s.once('data', r));
      s.destroy();
      return data.toString('latin1');
    };
    assert.match(await mechanisms(shared.tlsPort, true), /PLAIN AMQPLAIN EXTERNAL/);
    const without = await mechanisms(shared.tlsPort, false);
    assert.match(without, /PLAIN AMQPLAIN/);
    assert.doesNotMatch(without, /EXTERNAL/);
  });

  test('verify_peer: no certificate is admitted (fail_if_no_peer_cert = false), an unknown CA is refused', async () => {
    const noCert = await amqp.connect(`amqps://guest:guest@localhost:${shared.tlsPort}/%2F`, { ca: ca() });
    await noCert.close();
    await assert.rejects(amqp.connect(`amqps://guest:guest@localhost:${shared.tlsPort}/%2F`, {
      ca: ca(), cert: readFileSync(pki.strangerCertFile), key: readFileSync(pki.strangerKeyFile),
    }));
  });

  test('fail_if_no_peer_cert = true refuses a client without a certificate in the handshake', async () => {
    const b = await start({ tls: { certFile: pki.serverCertFile, keyFile: pki.serverKeyFile, caFile: pki.caBundleFile, verifyPeer: true, failIfNoPeerCert: true } });
    await assert.rejects(amqp.connect(`amqps://guest:guest@localhost:${b.tlsPort}/%2F`, { ca: ca() }));
    const conn = await amqp.connect(`amqps://guest:guest@localhost:${b.tlsPort}/%2F`, { ca: ca(), ...clientCert() });
    await roundTrip(conn);
    await conn.close();
  });

  test('TLS 1.2 clients get in (the socket reports TLSv1.2); ssl_options.versions = tlsv1.3 only refuses them', async () => {
    const conn = await amqp.connect(`amqps://guest:guest@localhost:${shared.tlsPort}/%2F`, { ca: ca(), maxVersion: 'TLSv1.2' });
    try {
      const c = [...shared.connections].find((x) => (x.socket as import('node:tls').TLSSocket).getProtocol?.() === 'TLSv1.2');
      assert.ok(c, 'no TLS 1.2 connection');
    } finally {
      await conn.close();
    }
    const b = await start({ tls: { certFile: pki.serverCertFile, keyFile: pki.serverKeyFile, versions: ['tlsv1.3'] } });
    await assert.rejects(amqp.connect(`amqps://guest:guest@localhost:${b.tlsPort}/%2F`, { ca: ca(), maxVersion: 'TLSv1.2' }));
  });

  test('openssl s_client verifies the chain and the server answers the AMQP header', async () => {
    const out = await new Promise<string>((resolve, reject) => {
      const child = execFile('openssl', ['s_client', '-connect', `127.0.0.1:${shared.tlsPort}`, '-servername', 'localhost', '-CAfile', pki.caFile,
        '-verify_return_error', '-showcerts'], { timeout: 10_000 }, (err, stdout) => (err && !stdout ? reject(err) : resolve(stdout)));
      child.stdin!.write('AMQP\x00\x00\x09\x01');
      // s_client prints the server's bytes; end stdin once the reply had time to arrive via the round trip.
      setTimeout(() => child.stdin!.end(), 1000);
    });
    assert.match(out, /Verify return code: 0 \(ok\)/);
    assert.match(out, /1 s:.*CN\s*=\s*Warren Test Intermediate CA/, 'the intermediate CA is sent');
    assert.match(out, /TLSv1\.3/);
    assert.match(out, /PLAIN AMQPLAIN/, 'connection.start over TLS');
  });

  test('a stalled or garbage TLS handshake is dropped after the handshake timeout and blocks nobody', { timeout: 15_000 }, async () => {
    const b = await start({ tls: { certFile: pki.serverCertFile, keyFile: pki.serverKeyFile, handshakeTimeoutMs: 1000 } });
    const stalled = netConnect(b.tlsPort, '127.0.0.1');
    const garbage = netConnect(b.tlsPort, '127.0.0.1');
    const closedAt = (s: ReturnType<typeof netConnect>) => new Promise<number>((r) => s.once('close', () => r(Date.now())));
    const stalledClosed = closedAt(stalled);
    const garbageClosed = closedAt(garbage);
    const t0 = Date.now();
    garbage.on('error', () => {});
    stalled.on('error', () => {});
    garbage.write(Buffer.from('GET / HTTP/1.0\r\n\r\n'));
    stalled.write(Buffer.from([0x16, 0x03, 0x01, 0x00, 0x50])); // a record header, then nothing
    const conn = await amqp.connect(`amqps://guest:guest@localhost:${b.tlsPort}/%2F`, { ca: ca() });
    assert.ok(Date.now() - t0 < 900, 'a real client got in while the others stalled');
    await roundTrip(conn);
    await conn.close();
    assert.ok((await garbageClosed) - t0 < 1000, 'garbage is refused at once');
    const stalledMs = (await stalledClosed) - t0;
    assert.ok(stalledMs >= 900 && stalledMs < 4000, `stalled handshake closed after ${stalledMs} ms`);
  });

  test('certificates are re-read on reload: new handshakes see the new one, open connections stay', async () => {
    const { certFile, keyFile } = renewableCert();
    const b = await start({ tls: { certFile, keyFile } });
    const subject = async () => {
      const s = tlsConnect({ port: b.tlsPort, host: '127.0.0.1', servername: 'localhost', ca: ca() });
      await new Promise<void>((r) => s.once('secureConnect', () => r()));
      const cert = s.getPeerX509Certificate()!;
      s.destroy();
      return cert.subject;
    };
    assert.match(await subject(), /CN=localhost/);
    const conn = await amqp.connect(`amqps://guest:guest@localhost:${b.tlsPort}/%2F`, { ca: ca() });
    const renewed = pki.issueServerCert('renewed', 'localhost');
    copyFileSync(renewed.certFile, certFile);
    copyFileSync(renewed.keyFile, keyFile);
    const before = readFileSync(pki.serverCertFile, 'utf8');
    b.reloadTls();
    const after = await (async () => {
      const s = tlsConnect({ port: b.tlsPort, host: '127.0.0.1', servername: 'localhost', ca: ca() });
      await new Promise<void>((r) => s.once('secureConnect', () => r()));
      const raw = s.getPeerX509Certificate()!.toString();
      s.destroy();
      return raw;
    })();
    assert.notEqual(after.trim(), before.split('-----END CERTIFICATE-----')[0]!.trim() + '\n-----END CERTIFICATE-----', 'still the old certificate');
    assert.equal(after.trim(), readFileSync(renewed.certFile, 'utf8').split('-----END CERTIFICATE-----')[0]!.trim() + '\n-----END CERTIFICATE-----');
    await roundTrip(conn);
    await conn.close();
    // A broken file on reload is an error and the previous certificate stays in use.
    copyFileSync(pki.clientKeyFile, keyFile);
    assert.throws(() => b.reloadTls(), /does not match/);
    assert.match(await subject(), /CN=localhost/);
  });

  test('the management API over HTTPS (management.ssl.*)', async () => {
    const b = await start({ managementPort: await freePort(), managementTls: { certFile: pki.serverCertFile, keyFile: pki.serverKeyFile } });
    const body = await new Promise<string>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: b.managementPort, path: '/api/overview', servername: 'localhost', ca: ca(), auth: 'guest:guest' }, (res) => {
        let s = '';
        res.on('data', (c) => (s += c));
        res.on('end', () => (res.statusCode === 200 ? resolve(s) : reject(new Error(`status ${res.statusCode}: ${s}`))));
      });
      req.on('error', reject);
      req.end();
    });
    const overview = JSON.parse(body) as { listeners: Array<{ protocol: string; port: number }> };
    assert.ok(overview.listeners.some((l) => l.protocol === 'https' && l.port === b.managementPort));
    assert.ok(overview.listeners.some((l) => l.protocol === 'amqp/ssl' && l.port === b.tlsPort));
  });

  test('the Prometheus endpoint over HTTPS (prometheus.ssl.*), its certificate re-read on reload', async () => {
    const { certFile, keyFile } = renewableCert();
    const b = await start({ prometheusPort: await freePort(), prometheusTls: { certFile, keyFile } });
    const scrapeOverTls = () => new Promise<{ body: string; fingerprint: string }>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: b.prometheusPort, path: '/metrics', servername: 'localhost', ca: ca(), agent: false }, (res) => {
        const fingerprint = (res.socket as TLSSocket).getPeerX509Certificate()!.fingerprint256;
        let s = '';
        res.on('data', (c) => (s += c));
        res.on('end', () => (res.statusCode === 200 ? resolve({ body: s, fingerprint }) : reject(new Error(`status ${res.statusCode}`))));
      });
      req.on('error', reject);
      req.end();
    });
    const first = await scrapeOverTls();
    assert.match(first.body, /^rabbitmq_/m);
    const fingerprintOf = (file: string) => new X509Certificate(readFileSync(file)).fingerprint256;
    assert.equal(first.fingerprint, fingerprintOf(pki.serverCertFile));
    const renewed = pki.issueServerCert('prometheus-renewed', 'localhost');
    copyFileSync(renewed.certFile, certFile);
    copyFileSync(renewed.keyFile, keyFile);
    b.reloadTls();
    const second = await scrapeOverTls();
    assert.equal(second.fingerprint, fingerprintOf(renewed.certFile), 'the renewed certificate');
    assert.match(second.body, /^rabbitmq_/m);
  });

  test('missing or unreadable certificates and mismatched keys are refused before anything starts', async () => {
    const cases: Array<[TlsOptions, RegExp]> = [
      [{ certFile: join(pki.dir, 'absent.pem'), keyFile: pki.serverKeyFile }, /certificate file .*absent\.pem: no such file/],
      [{ certFile: pki.serverCertFile, keyFile: join(pki.dir, 'absent.key') }, /key file .*absent\.key: no such file/],
      [{ certFile: pki.serverCertFile, keyFile: pki.serverKeyFile, caFile: join(pki.dir, 'absent-ca.pem') }, /CA certificate file .*absent-ca\.pem/],
      [{ certFile: pki.serverCertFile, keyFile: pki.clientKeyFile }, /client\.key does not match the certificate .*server-chain\.pem/],
    ];
    for (const [tls, message] of cases) {
      const dataDir = join(tmp(), 'data');
      await assert.rejects(Broker.start({ port: 0, host: '127.0.0.1', managementPort: 0, prometheusPort: 0, dataDir, logLevel: 'silent', tlsListeners: [{ host: '127.0.0.1', port: 0 }], tls }),
        (e: Error) => e instanceof TlsConfigError && message.test(e.message));
      assert.equal(existsSync(dataDir), false, 'the data dir was touched');
    }
  });

  test('a TLS port in use is an error naming it, and the AMQP port opened before it is released', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    const busy = (blocker.address() as { port: number }).port;
    const free = await freePort();
    try {
      await assert.rejects(start({ port: free, tlsListeners: [{ host: '127.0.0.1', port: busy }] }), new RegExp(`AMQPS on 127\\.0\\.0\\.1:${busy}: address already in use`));
      const again = createServer();
      await new Promise<void>((resolve, reject) => again.once('error', reject).listen(free, '127.0.0.1', () => resolve()));
      again.close();
    } finally {
      blocker.close();
    }
  });
});

describe('warren CLI with TLS from rabbitmq.conf', { skip, concurrency: true }, () => {
  let pki: TestPki;
  const procs: CliProcess[] = [];
  const dirs: string[] = [];
  const tmp = () => {
    const d = mkdtempSync(join(tmpdir(), 'warren-tls-cli-'));
    dirs.push(d);
    return d;
  };
  const conf = (...lines: string[]) => {
    const f = join(tmp(), 'rabbitmq.conf');
    writeFileSync(f, lines.join('\n') + '\n');
    return f;
  };
  before(() => {
    pki = makeTestPki();
  });
  after(async () => {
    await Promise.all(procs.map((p) => p.stop()));
    pki?.remove();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  test('mutual TLS from a RabbitMQ-style config; SIGHUP reloads the certificates and keeps the connection', async () => {
    const dir = tmp();
    const certFile = join(dir, 'server.pem');
    const keyFile = join(dir, 'server.key');
    copyFileSync(pki.serverCertFile, certFile);
    copyFileSync(pki.serverKeyFile, keyFile);
    const [tlsPort, port] = await Promise.all([freePort(), freePort()]);
    const p = CliProcess.start(['--config', conf(
      `listeners.tcp.default = 127.0.0.1:${port}`, `listeners.ssl.default = 127.0.0.1:${tlsPort}`, 'management.tcp.port = 0', 'prometheus.tcp.port = 0',
      `ssl_options.cacertfile = ${pki.caBundleFile}`, `ssl_options.certfile = ${certFile}`, `ssl_options.keyfile = ${keyFile}`,
      'ssl_options.verify = verify_peer', 'ssl_options.fail_if_no_peer_cert = true', 'ssl_options.versions.1 = tlsv1.3', 'ssl_options.versions.2 = tlsv1.2',
    ), '--data-dir', tmp()]);
    procs.push(p);
    const line = await p.waitForLine((l) => l.msg === 'listening');
    assert.equal(line['tlsPort'], tlsPort);
    const options = { ca: [readFileSync(pki.caFile)], cert: readFileSync(pki.clientCertFile), key: readFileSync(pki.clientKeyFile) };
    await assert.rejects(amqp.connect(`amqps://guest:guest@localhost:${tlsPort}/%2F`, { ca: options.ca }), 'no client certificate');
    const conn = await amqp.connect(`amqps://guest:guest@localhost:${tlsPort}/%2F`, options);
    const ch = await conn.createChannel();
    const renewed = pki.issueServerCert('cli-renewed', 'localhost');
    copyFileSync(renewed.certFile, certFile);
    copyFileSync(renewed.keyFile, keyFile);
    p.signalGroup('SIGHUP');
    await p.waitForLine((l) => l.msg === 'TLS certificates reloaded');
    const s = tlsConnect({ port: tlsPort, host: '127.0.0.1', servername: 'localhost', ...options });
    await new Promise<void>((r) => s.once('secureConnect', () => r()));
    assert.equal(s.getPeerX509Certificate()!.serialNumber, new X509Certificate(readFileSync(renewed.certFile)).serialNumber);
    s.destroy();
    await ch.checkExchange('amq.direct');
    await conn.close();
  });

  test('a missing certificate exits 2 naming the file; a TLS port in use exits 1 naming the port; nothing is left started', async () => {
    const dataDir = join(tmp(), 'data');
    const missing = CliProcess.start(['--config', conf('listeners.tcp.default = 127.0.0.1:0', 'listeners.ssl.default = 127.0.0.1:0', 'management.tcp.port = 0', 'prometheus.tcp.port = 0',
      `ssl_options.certfile = ${join(pki.dir, 'nope.pem')}`, `ssl_options.keyfile = ${pki.serverKeyFile}`), '--data-dir', dataDir]);
    procs.push(missing);
    assert.ok(await missing.waitExit(5000));
    assert.equal(missing.exitCode, 2);
    assert.match(missing.stderr.join(''), /nope\.pem: no such file/);
    assert.equal(existsSync(dataDir), false);

    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    const busy = (blocker.address() as { port: number }).port;
    const port = await freePort();
    try {
      const inUse = CliProcess.start(['--config', conf(`listeners.tcp.default = 127.0.0.1:${port}`, `listeners.ssl.default = 127.0.0.1:${busy}`, 'management.tcp.port = 0', 'prometheus.tcp.port = 0',
        `ssl_options.certfile = ${pki.serverCertFile}`, `ssl_options.keyfile = ${pki.serverKeyFile}`), '--data-dir', tmp()]);
      procs.push(inUse);
      assert.ok(await inUse.waitExit(5000));
      assert.equal(inUse.exitCode, 1);
      assert.match(inUse.stderr.join(''), new RegExp(`127\\.0\\.0\\.1:${busy}: address already in use`));
    } finally {
      blocker.close();
    }
  });
});
