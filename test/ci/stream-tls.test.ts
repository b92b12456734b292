/**
 * The stream protocol over TLS (stream.listeners.ssl.default, with ssl_options as for AMQPS) and
 * EXTERNAL login from the client certificate, with the real rabbitmq-stream-js-client. Needs openssl
 * for the certificates, so it runs from .ci/run (skipped with a message elsewhere).
 * - EXTERNAL over TLS logs in as the certificate's CN (ssl_cert_login_from = common_name); publish
 *   and consume go over TLS too, since the client reconnects to what metadata advertises: the TLS
 *   port on a TLS connection, the plain port on a plain one (as RabbitMQ's advertised_tls_port).
 * - EXTERNAL is offered (and accepted) only over TLS with a client certificate, as RabbitMQ offers
 *   it; a certificate from an unknown CA is refused.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { after, before, describe, test } from 'node:test';
import { connect, Offset, type Client, type ClientParams } from 'rabbitmq-stream-js-client';
import { frameMaxCheck, StreamReader } from '../../src/stream/codec.js';
import { Code, Key } from '../../src/stream/constants.js';
import { encodeRequest } from '../../src/stream/requests.js';
import { FrameSplitter } from '../../src/net/frame-splitter.js';
import { freePort } from '../support/free-port.js';
import { startTestBroker, uniq, type TestBroker } from '../support/test-broker.js';
import { makeTestPki, opensslAvailable, type TestPki } from '../support/tls-certs.js';
import { waitFor } from '../support/eventually.js';

const skip = opensslAvailable() ? undefined : 'stream TLS test skipped: openssl is missing (CI installs it)';
if (skip) process.stderr.write(`${skip}\n`);

const quiet = { debug() {}, info() {}, warn() {}, error() {} };

describe('stream protocol over TLS', { skip, timeout: 120_000 }, () => {
  let pki: TestPki;
  let b: TestBroker;
  let plainPort = 0;
  let tlsPort = 0;
  const clients: Client[] = [];

  before(async () => {
    pki = makeTestPki('stream-client');
    plainPort = await freePort();
    tlsPort = await freePort();
    b = await startTestBroker({
      streamPort: plainPort, streamHost: '127.0.0.1', streamTlsPort: tlsPort, streamAdvertisedHost: 'localhost',
      tls: { certFile: pki.serverCertFile, keyFile: pki.serverKeyFile, caFile: pki.caBundleFile, verifyPeer: true, failIfNoPeerCert: false },
      authMechanisms: ['PLAIN', 'AMQPLAIN', 'EXTERNAL'],
      sslCertLoginFrom: 'common_name',
    });
    b.broker!.users.addUser('stream-client', undefined, []);
    b.broker!.users.setPermission('/', 'stream-client', { configure: '.*', write: '.*', read: '.*' });
  });

  after(async () => {
    for (const c of clients) await Promise.race([c.close().catch(() => {}), new Promise((r) => setTimeout(r, 500).unref())]);
    await b?.close();
    pki?.remove();
  });

  async function client(params: Partial<ClientParams>): Promise<Client> {
    const c = await connect({ hostname: 'localhost', port: plainPort, username: 'guest', password: 'guest', vhost: '/', heartbeat: 0, ...params } as ClientParams, quiet);
    clients.push(c);
    return c;
  }

  const certificate = (certFile: string, keyFile: string) => ({
    ca: readFileSync(pki.caFile, 'utf8'), cert: readFileSync(certFile, 'utf8'), key: readFileSync(keyFile, 'utf8'),
  });

  test('EXTERNAL over TLS logs in as the certificate CN; publish and consume go over TLS', async () => {
    const c = await client({ port: tlsPort, mechanism: 'EXTERNAL', username: '', password: '', ssl: certificate(pki.clientCertFile, pki.clientKeyFile) });
    const connections = [...b.broker!.streamConnections];
    assert.equal(connections.length, 1);
    assert.equal(connections[0]!.user, 'stream-client');
    assert.equal(connections[0]!.authMechanism, 'EXTERNAL');

    const stream = uniq('tls-stream');
    await c.createStream({ stream, arguments: {} });
    const [meta] = await c.queryMetadata({ streams: [stream] });
    assert.deepEqual({ host: meta!.leader?.host, port: meta!.leader?.port }, { host: 'localhost', port: tlsPort }, 'a TLS connection is told the TLS port');

    const publisher = await c.declarePublisher({ stream });
    for (let i = 0; i < 5; i++) await publisher.send(Buffer.from(`tls-${i}`));
    const received: string[] = [];
    await c.declareConsumer({ stream, offset: Offset.first() }, (m) => void received.push(m.content.toString()));
    await waitFor('the five messages come back over TLS', () => received.length === 5);
    assert.deepEqual(received, ['tls-0', 'tls-1', 'tls-2', 'tls-3', 'tls-4']);
    assert.ok([...b.broker!.streamConnections].every((x) => (x.socket as { encrypted?: boolean }).encrypted === true), 'every connection of the client is over TLS');

    const plain = await client({});
    const [plainMeta] = await plain.queryMetadata({ streams: [stream] });
    assert.equal(plainMeta!.leader?.port, plainPort, 'a plain connection is told the plain port');
    await c.deleteStream({ stream });
  });

  /** A raw handshake up to SASL: the mechanisms offered, and the answer to an EXTERNAL authenticate. */
  async function saslExternal(socket: Socket): Promise<{ mechanisms: string[]; code: number }> {
    const splitter = new FrameSplitter(frameMaxCheck(() => 1 << 20));
    const answers = new Map<number, StreamReader>();
    socket.on('data', (d: Buffer) => splitter.push(d, (buf, start, end) => {
      const r = new StreamReader(buf, start, end);
      const key = r.u16() & 0x7fff;
      r.u16();
      answers.set(key, r);
    }));
    socket.write(encodeRequest({ key: Key.PeerProperties, correlationId: 1, properties: {} }));
    socket.write(encodeRequest({ key: Key.SaslHandshake, correlationId: 2 }));
    socket.write(encodeRequest({ key: Key.SaslAuthenticate, correlationId: 3, mechanism: 'EXTERNAL', response: Buffer.alloc(0) }));
    await waitFor('the SASL answers', () => answers.has(Key.SaslHandshake) && answers.has(Key.SaslAuthenticate));
    const offered = answers.get(Key.SaslHandshake)!;
    offered.u32();
    assert.equal(offered.u16(), Code.Ok);
    const auth = answers.get(Key.SaslAuthenticate)!;
    auth.u32();
    const result = { mechanisms: offered.strings(), code: auth.u16() };
    socket.destroy();
    return result;
  }

  test('EXTERNAL is offered only over TLS with a client certificate; an unknown CA is refused', async () => {
    const plain = netConnect({ host: '127.0.0.1', port: plainPort });
    await once(plain, 'connect');
    assert.deepEqual(await saslExternal(plain), { mechanisms: ['PLAIN', 'AMQPLAIN'], code: Code.SaslMechanismNotSupported });

    const withCert = tlsConnect({ host: '127.0.0.1', port: tlsPort, servername: 'localhost', ...certificate(pki.clientCertFile, pki.clientKeyFile) });
    await once(withCert, 'secureConnect');
    assert.deepEqual(await saslExternal(withCert), { mechanisms: ['PLAIN', 'AMQPLAIN', 'EXTERNAL'], code: Code.Ok });

    const stranger = tlsConnect({ host: '127.0.0.1', port: tlsPort, servername: 'localhost', ...certificate(pki.strangerCertFile, pki.strangerKeyFile) });
    stranger.on('error', () => {});
    let answered = false;
    stranger.on('data', () => void (answered = true));
    // With TLS 1.3 the client's side of the handshake may finish before the server refuses the certificate.
    stranger.once('secureConnect', () => stranger.write(encodeRequest({ key: Key.PeerProperties, correlationId: 1, properties: {} })));
    await once(stranger, 'close');
    assert.equal(answered, false, 'the stranger is cut off before any stream frame is answered');
  });
});
