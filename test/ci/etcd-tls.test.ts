// etcd over TLS (cluster_formation.etcd.scheme = https and RabbitMQ's etcd ssl_options keys:
// cacertfile, certfile, keyfile): Debian's etcd-server with certificates made by openssl and client
// certificates required (--client-cert-auth). The etcd client works over it (range, put, a
// transaction, a watch), refuses an etcd whose certificate its CA did not sign, is refused without a
// client certificate; a Warren node configured with those keys forms its cluster there.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import amqp from 'amqplib';
import { EtcdClient, EtcdUnavailableError, type WatchEvent } from '../../src/cluster/etcd-client.js';
import { WarrenCluster } from '../support/cluster.js';
import { etcdAvailable, startEtcd, type EtcdServer } from '../support/etcd.js';
import { makeTestPki, opensslAvailable, type TestPki } from '../support/tls-certs.js';
import { waitFor } from '../support/eventually.js';

/**
 * etcd's certificate, from the test PKI's intermediate CA. It must also allow client authentication:
 * with --client-cert-auth, etcd's own HTTP/JSON gateway dials its gRPC server presenting it.
 */
function etcdServerCert(pki: TestPki): { certFile: string; keyFile: string } {
  const f = (name: string) => join(pki.dir, name);
  const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: pki.dir, stdio: ['ignore', 'ignore', 'pipe'] });
  writeFileSync(f('etcd.ext'), 'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth,clientAuth\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n');
  ssl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', f('etcd.key'));
  ssl('req', '-new', '-key', f('etcd.key'), '-subj', '/O=Warren Test/CN=etcd', '-out', f('etcd.csr'));
  ssl('x509', '-req', '-in', f('etcd.csr'), '-CA', f('intermediate.pem'), '-CAkey', f('intermediate.key'), '-CAcreateserial', '-days', '30', '-sha256', '-extfile', f('etcd.ext'), '-out', f('etcd.pem'));
  writeFileSync(f('etcd-chain.pem'), readFileSync(f('etcd.pem'), 'utf8') + readFileSync(f('intermediate.pem'), 'utf8'));
  return { certFile: f('etcd-chain.pem'), keyFile: f('etcd.key') };
}

const missing = !etcdAvailable() ? 'etcd is not installed (Debian etcd-server)' : !opensslAvailable() ? 'openssl is not installed' : false;

describe('etcd over TLS', { skip: missing }, () => {
  let pki: TestPki;
  let etcd: EtcdServer;
  before(async () => {
    pki = makeTestPki('warren-node');
    const server = etcdServerCert(pki);
    etcd = await startEtcd({
      tls: {
        certFile: server.certFile, keyFile: server.keyFile, trustedCaFile: pki.caBundleFile,
        client: { certFile: pki.clientCertFile, keyFile: pki.clientKeyFile, caFile: pki.caFile },
      },
    });
  });
  after(async () => {
    await etcd?.stop();
    pki?.remove();
  });

  const clientTls = () => ({ ca: readFileSync(pki.caFile), cert: readFileSync(pki.clientCertFile), key: readFileSync(pki.clientKeyFile) });

  it('the etcd client reads, writes, runs a transaction and watches over HTTPS with a client certificate', async () => {
    const client = new EtcdClient([`https://${etcd.endpoint}`], { tls: clientTls() });
    try {
      const events: WatchEvent[] = [];
      // The watch is set up asynchronously (a TLS handshake on a busy machine can lose the race with the
      // puts below): it starts at the revision after the current one, so it sees both puts either way.
      const { revision } = await client.getPrefix('/tls-test/');
      const watch = client.watchPrefix('/tls-test/', (e) => events.push(e), { fromRevision: revision + 1 });
      try {
        await client.put('/tls-test/a', 'one');
        assert.equal((await client.get('/tls-test/a'))?.value, 'one');
        assert.equal(await client.writeIf([{ key: '/tls-test/a', value: 'one' }], { put: [{ key: '/tls-test/b', value: 'two' }] }), true);
        assert.deepEqual((await client.getPrefix('/tls-test/')).kvs.map((kv) => kv.value), ['one', 'two']);
        await waitFor('both puts watched', () => events.length >= 2, 15_000);
        assert.deepEqual(events.map((e) => `${e.type} ${e.kv.key}`).slice(0, 2), ['put /tls-test/a', 'put /tls-test/b']);
      } finally {
        watch.close();
      }
    } finally {
      client.close();
    }
  });

  it('refuses an etcd whose certificate another CA signed, and etcd refuses a client without a certificate', async () => {
    const strangerCa = new EtcdClient([etcd.endpoint], { tls: { ...clientTls(), ca: readFileSync(pki.strangerCertFile) } });
    const noCert = new EtcdClient([etcd.endpoint], { tls: { ca: readFileSync(pki.caFile) } });
    try {
      await assert.rejects(strangerCa.get('/tls-test/a'), (e: unknown) => e instanceof EtcdUnavailableError && /certificate/i.test(e.message));
      await assert.rejects(noCert.get('/tls-test/a'), EtcdUnavailableError);
    } finally {
      strangerCa.close();
      noCert.close();
    }
  });

  it('a Warren node configured with cluster_formation.etcd.scheme = https and ssl_options forms its cluster', async () => {
    const cluster = await WarrenCluster.start({
      size: 1, etcd, clusterName: 'tls',
      extraConf: [
        'cluster_formation.etcd.scheme = https',
        `cluster_formation.etcd.ssl_options.cacertfile = ${pki.caFile}`,
        `cluster_formation.etcd.ssl_options.certfile = ${pki.clientCertFile}`,
        `cluster_formation.etcd.ssl_options.keyfile = ${pki.clientKeyFile}`,
        'cluster_formation.etcd.ssl_options.verify = verify_peer',
      ],
    });
    try {
      const leader = await cluster.waitForLeader({ timeoutMs: 60_000 });
      // Its leader key is in etcd, read back over TLS.
      const client = new EtcdClient([etcd.endpoint], { tls: clientTls() });
      try {
        const kv = await client.get('/warren-tests/warren/tls/leader');
        assert.equal((JSON.parse(kv?.value ?? '{}') as { node?: string }).node, leader.name);
      } finally {
        client.close();
      }
      const conn = await amqp.connect(leader.url);
      await conn.close();
      // No warning that the TLS keys are unused.
      assert.ok(!leader.logs(200).includes('not used by Warren'), leader.logs(40));
    } finally {
      await cluster.stop();
    }
  });
});
