/**
 * A throw-away PKI made with the `openssl` command: a root CA, an intermediate CA that signs the
 * server and client certificates (so the chain matters), a client certificate for EXTERNAL login,
 * and a certificate from an unrelated CA that must be refused.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestPki {
  dir: string;
  /** Root CA certificate (what clients trust). */
  caFile: string;
  /** Intermediate CA certificate. */
  intermediateFile: string;
  /** Root + intermediate: what the server verifies client certificates against. */
  caBundleFile: string;
  /** Server certificate followed by the intermediate (the chain the server sends). */
  serverCertFile: string;
  serverKeyFile: string;
  /** Client certificate, subject `/O=Warren Test/CN=<clientName>`, signed by the intermediate. */
  clientCertFile: string;
  clientKeyFile: string;
  clientName: string;
  /** A client certificate signed by a CA the server does not know. */
  strangerCertFile: string;
  strangerKeyFile: string;
  /** Makes another server key + certificate pair (for reload tests); returns their paths. */
  issueServerCert(name: string, cn: string): { certFile: string; keyFile: string };
  remove(): void;
}

export function opensslAvailable(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export function makeTestPki(clientName = 'tls-client'): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'warren-pki-'));
  const f = (name: string) => join(dir, name);
  const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  writeFileSync(f('ca.ext'), 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\n');
  writeFileSync(f('server.ext'), 'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n');
  writeFileSync(f('client.ext'), 'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n');
  const key = (name: string) => ssl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', f(`${name}.key`));
  const selfSigned = (name: string, subj: string) => {
    key(name);
    ssl('req', '-x509', '-new', '-key', f(`${name}.key`), '-subj', subj, '-days', '30', '-sha256', '-out', f(`${name}.pem`),
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
  };
  const issue = (name: string, subj: string, ca: string, ext: string) => {
    key(name);
    ssl('req', '-new', '-key', f(`${name}.key`), '-subj', subj, '-out', f(`${name}.csr`));
    ssl('x509', '-req', '-in', f(`${name}.csr`), '-CA', f(`${ca}.pem`), '-CAkey', f(`${ca}.key`), '-CAcreateserial',
      '-days', '30', '-sha256', '-extfile', f(ext), '-out', f(`${name}.pem`));
  };
  const cat = (out: string, ...files: string[]) => {
    const text = files.map((x) => execFileSync('cat', [f(x)], { encoding: 'utf8' })).join('');
    writeFileSync(f(out), text);
  };
  selfSigned('ca', '/O=Warren Test/CN=Warren Test Root CA');
  issue('intermediate', '/O=Warren Test/CN=Warren Test Intermediate CA', 'ca', 'ca.ext');
  issue('server', '/O=Warren Test/CN=localhost', 'intermediate', 'server.ext');
  issue('client', `/O=Warren Test/CN=${clientName}`, 'intermediate', 'client.ext');
  selfSigned('stranger-ca', '/O=Elsewhere/CN=Stranger CA');
  issue('stranger', `/O=Elsewhere/CN=${clientName}`, 'stranger-ca', 'client.ext');
  cat('server-chain.pem', 'server.pem', 'intermediate.pem');
  cat('ca-bundle.pem', 'ca.pem', 'intermediate.pem');
  return {
    dir,
    caFile: f('ca.pem'),
    intermediateFile: f('intermediate.pem'),
    caBundleFile: f('ca-bundle.pem'),
    serverCertFile: f('server-chain.pem'),
    serverKeyFile: f('server.key'),
    clientCertFile: f('client.pem'),
    clientKeyFile: f('client.key'),
    clientName,
    strangerCertFile: f('stranger.pem'),
    strangerKeyFile: f('stranger.key'),
    issueServerCert(name: string, cn: string) {
      issue(name, `/O=Warren Test/CN=${cn}`, 'intermediate', 'server.ext');
      cat(`${name}-chain.pem`, `${name}.pem`, 'intermediate.pem');
      return { certFile: f(`${name}-chain.pem`), keyFile: f(`${name}.key`) };
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
