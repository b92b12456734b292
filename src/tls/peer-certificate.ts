/**
 * What a TLS connection reports, in RabbitMQ's words: the connection JSON fields (ssl_protocol
 * `tlsv1.3`, ssl_cipher `aes_256_gcm`, peer_cert_subject `CN=client,O=Org`...) and the user name the
 * EXTERNAL mechanism takes from the client certificate (rabbitmq_auth_mechanism_ssl's rules).
 */
import { X509Certificate } from 'node:crypto';
import { TLSSocket } from 'node:tls';
import type { Socket } from 'node:net';

export interface TlsConnectionInfo {
  ssl: boolean;
  ssl_protocol: string | null;
  ssl_key_exchange: string | null;
  ssl_cipher: string | null;
  ssl_hash: string | null;
  peer_cert_subject: string | null;
  peer_cert_issuer: string | null;
  peer_cert_validity: string | null;
}

const PLAIN: TlsConnectionInfo = {
  ssl: false, ssl_protocol: null, ssl_key_exchange: null, ssl_cipher: null, ssl_hash: null,
  peer_cert_subject: null, peer_cert_issuer: null, peer_cert_validity: null,
};

/** The client's certificate, if it sent one. */
export function peerCertificate(socket: Socket): X509Certificate | undefined {
  if (!(socket instanceof TLSSocket)) return undefined;
  const cert = socket.getPeerX509Certificate();
  return cert ?? undefined;
}

/**
 * A distinguished name as RabbitMQ prints it: RFC 4514 order (most specific first), comma-separated,
 * e.g. `CN=client,O=Warren Test`. Node lists the RDNs in certificate order, one per line.
 */
export function distinguishedName(x509Text: string): string {
  return x509Text.split('\n').filter((l) => l !== '').reverse().map(escapeRdn).join(',');
}

function escapeRdn(rdn: string): string {
  const eq = rdn.indexOf('=');
  const value = rdn.slice(eq + 1).replace(/[,+"\\<>;]/g, (c) => `\\${c}`).replace(/^[ #]|[ ]$/g, (c) => `\\${c}`);
  return `${rdn.slice(0, eq)}=${value}`;
}

/** The user name EXTERNAL logs in as: the subject's CN, or the whole DN (RabbitMQ's default). */
export function externalUsername(socket: Socket, from: 'common_name' | 'distinguished_name'): string | undefined {
  const cert = peerCertificate(socket);
  if (!cert) return undefined;
  if (from === 'distinguished_name') return distinguishedName(cert.subject);
  const cn = cert.subject.split('\n').find((l) => l.startsWith('CN='));
  return cn?.slice(3);
}

/** RabbitMQ (Erlang's ssl) names for OpenSSL's cipher suites: key exchange, bulk cipher, MAC. */
export function describeCipher(openSslName: string): { keyExchange: string; cipher: string; hash: string } {
  const tls13 = /^TLS_(AES_128_GCM|AES_256_GCM|CHACHA20_POLY1305|AES_128_CCM)_SHA(256|384)$/.exec(openSslName);
  if (tls13) return { keyExchange: 'any', cipher: tls13[1]!.toLowerCase(), hash: 'aead' };
  const kexMatch = /^(ECDHE-RSA|ECDHE-ECDSA|DHE-RSA|DHE-DSS|ECDH-RSA|ECDH-ECDSA)-/.exec(openSslName);
  const keyExchange = kexMatch ? kexMatch[1]!.toLowerCase().replace('-', '_') : 'rsa';
  const rest = kexMatch ? openSslName.slice(kexMatch[0].length) : openSslName;
  let cipher = rest.toLowerCase();
  let hash = 'aead';
  const aes = /^AES(128|256)(-GCM|-CCM)?(?:-(SHA|SHA256|SHA384))?$/.exec(rest);
  if (aes) {
    cipher = `aes_${aes[1]}_${aes[2] ? aes[2].slice(1).toLowerCase() : 'cbc'}`;
    if (!aes[2]) hash = (aes[3] ?? 'sha').toLowerCase();
  } else if (rest === 'CHACHA20-POLY1305') cipher = 'chacha20_poly1305';
  return { keyExchange, cipher, hash };
}

/** RFC 3339 UTC without fractions, as RabbitMQ prints a certificate's validity. */
function isoSeconds(date: string): string {
  return new Date(date).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** The ssl* and peer_cert_* fields of a connection in the management API. */
export function tlsConnectionInfo(socket: Socket): TlsConnectionInfo {
  if (!(socket instanceof TLSSocket)) return PLAIN;
  const protocol = socket.getProtocol();
  const c = socket.getCipher();
  const cipher = c ? describeCipher(c.name) : undefined;
  const cert = peerCertificate(socket);
  return {
    ssl: true,
    ssl_protocol: protocol ? protocol.toLowerCase() : null,
    ssl_key_exchange: cipher?.keyExchange ?? null,
    ssl_cipher: cipher?.cipher ?? null,
    ssl_hash: cipher?.hash ?? null,
    peer_cert_subject: cert ? distinguishedName(cert.subject) : null,
    peer_cert_issuer: cert ? distinguishedName(cert.issuer) : null,
    peer_cert_validity: cert ? `${isoSeconds(cert.validFrom)} - ${isoSeconds(cert.validTo)}` : null,
  };
}
