/**
 * The TLS settings of a listener (AMQPS, management HTTPS, Prometheus HTTPS), in the words of
 * RabbitMQ's `ssl_options.*`, and their translation into node:tls server options.
 *
 * Files are read here, at start-up and on reload, so that a missing or unreadable file, a wrong
 * password or a key that does not belong to the certificate is reported with the file's name
 * before anything listens, instead of as an OpenSSL error on the first handshake.
 */
import { readFileSync } from 'node:fs';
import { createSecureContext, type SecureVersion, type TlsOptions as NodeTlsOptions } from 'node:tls';

export interface TlsOptions {
  /** PEM certificate of the server, optionally followed by its intermediate CAs (ssl_options.certfile). */
  certFile: string;
  /** PEM private key (ssl_options.keyfile). */
  keyFile: string;
  /** PEM bundle of CAs that client certificates are checked against, also sent as the chain (ssl_options.cacertfile). */
  caFile?: string;
  /** Passphrase of an encrypted key (ssl_options.password). */
  password?: string;
  /** Ask clients for a certificate and check it against caFile (ssl_options.verify = verify_peer). Default false. */
  verifyPeer?: boolean;
  /**
   * With verifyPeer: refuse clients that send no certificate (ssl_options.fail_if_no_peer_cert).
   * Default false: as RabbitMQ, verify_peer alone admits clients without one, but checks those that send one.
   */
  failIfNoPeerCert?: boolean;
  /** Protocol versions: 'tlsv1.2', 'tlsv1.3' (ssl_options.versions.N). Default both; 1.3 is preferred. */
  versions?: string[];
  /** OpenSSL cipher names, TLS 1.2 suites or TLS 1.3 suites (ssl_options.ciphers.N). Default: Node's. */
  ciphers?: string[];
  /** A handshake not finished within this many ms is dropped (ssl_handshake_timeout). Default 5000. */
  handshakeTimeoutMs?: number;
}

export const DEFAULT_TLS_HANDSHAKE_TIMEOUT_MS = 5000;

/** A TLS setting that cannot be used; the message names the file or value at fault. */
export class TlsConfigError extends Error {
  override readonly name = 'TlsConfigError';
}

const VERSIONS: Record<string, SecureVersion> = { 'tlsv1.2': 'TLSv1.2', 'tlsv1.3': 'TLSv1.3' };
/** Versions RabbitMQ accepts in ssl_options.versions that Node (OpenSSL 3 defaults) refuses. */
const OBSOLETE_VERSIONS = new Set(['tlsv1', 'tlsv1.1', 'sslv3']);

/** Checks a version name as RabbitMQ spells it; returns an error text for a name it does not know. */
export function checkTlsVersion(name: string): string | undefined {
  const v = name.toLowerCase();
  if (VERSIONS[v]) return undefined;
  if (OBSOLETE_VERSIONS.has(v)) return `${name} is obsolete and not supported (use tlsv1.2 or tlsv1.3)`;
  return `unknown TLS version ${name} (use tlsv1.2 or tlsv1.3)`;
}

function readPem(file: string, what: string): Buffer {
  try {
    return readFileSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (e as Error).message;
    throw new TlsConfigError(`cannot read TLS ${what} file ${file}: ${why}`);
  }
}

/**
 * node:tls server options for these settings: files read, versions and ciphers translated, and the
 * key checked against the certificate. Throws TlsConfigError naming the file at fault.
 */
export function tlsServerOptions(o: TlsOptions): NodeTlsOptions {
  const cert = readPem(o.certFile, 'certificate');
  const key = readPem(o.keyFile, 'key');
  const ca = o.caFile ? readPem(o.caFile, 'CA certificate') : undefined;
  const versions = (o.versions?.length ? o.versions : ['tlsv1.2', 'tlsv1.3']).map((v) => {
    const err = checkTlsVersion(v);
    if (err) throw new TlsConfigError(err);
    return VERSIONS[v.toLowerCase()]!;
  });
  const order = ['TLSv1.2', 'TLSv1.3'];
  versions.sort((a, b) => order.indexOf(a) - order.indexOf(b));
  const options: NodeTlsOptions = {
    cert,
    key,
    minVersion: versions[0]!,
    maxVersion: versions[versions.length - 1]!,
    requestCert: o.verifyPeer === true,
    // Node checks the chain itself when rejectUnauthorized is set; without fail_if_no_peer_cert a client
    // with no certificate must still get in, so then the check is ours (see peerCertificateRefusal).
    rejectUnauthorized: o.verifyPeer === true && o.failIfNoPeerCert === true,
  };
  if (ca) options.ca = ca;
  if (o.password !== undefined) options.passphrase = o.password;
  // Node hands names starting with TLS_ to OpenSSL as TLS 1.3 suites and the rest as the 1.2 list.
  if (o.ciphers?.length) options.ciphers = o.ciphers.join(':');
  try {
    // Builds the context once now: a wrong passphrase, a key not matching the certificate or a
    // malformed PEM fails here, at start-up, with the files named.
    createSecureContext(options);
  } catch (e) {
    throw new TlsConfigError(describeContextError(e as Error, o));
  }
  return options;
}

function describeContextError(e: Error, o: TlsOptions): string {
  const m = e.message;
  if (/key values mismatch/i.test(m)) return `TLS key ${o.keyFile} does not match the certificate ${o.certFile}`;
  if (/bad decrypt|bad password|interrupted or cancelled/i.test(m)) return `cannot decrypt TLS key ${o.keyFile}: wrong or missing password`;
  if (/PEM|no start line|ASN1|DECODER/i.test(m)) {
    return `invalid PEM in TLS certificate ${o.certFile}, key ${o.keyFile}${o.caFile ? ` or CA ${o.caFile}` : ''}: ${m}`;
  }
  return `TLS certificate ${o.certFile} / key ${o.keyFile}: ${m}`;
}

/**
 * verify_peer without fail_if_no_peer_cert: a client that sent no certificate is admitted, one that
 * sent a certificate the CA does not vouch for is refused (as RabbitMQ). Returns the refusal reason.
 */
export function peerCertificateRefusal(o: TlsOptions, socket: { authorized: boolean; authorizationError?: Error | string | null; getPeerCertificate(): object }): string | undefined {
  if (o.verifyPeer !== true || socket.authorized) return undefined;
  const cert = socket.getPeerCertificate() as { raw?: Buffer };
  if (!cert || !cert.raw) return o.failIfNoPeerCert ? 'no peer certificate' : undefined;
  return `peer certificate refused: ${String(socket.authorizationError ?? 'unknown error')}`;
}
