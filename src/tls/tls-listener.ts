/**
 * A TLS listener (AMQPS) over node:tls. The handshake runs in OpenSSL off the broker's hot path;
 * each socket has RabbitMQ's ssl_handshake_timeout (5 s) to finish it, so a client that stalls or
 * sends garbage is dropped without holding anyone else up. Certificates can be re-read while
 * running (SIGHUP): new handshakes use the new ones, established connections keep going.
 */
import { createServer, type Server, type TLSSocket } from 'node:tls';
import type { Logger } from '../logger.js';
import { listenOn } from '../net/listen.js';
import { DEFAULT_TLS_HANDSHAKE_TIMEOUT_MS, peerCertificateRefusal, tlsServerOptions, type TlsOptions } from './tls-options.js';

export class TlsListener {
  port = 0;

  private constructor(
    private readonly server: Server,
    private readonly settings: TlsOptions,
    readonly host: string,
  ) {}

  /**
   * Reads the certificate files (throwing TlsConfigError naming a bad one) and listens.
   * `onSocket` gets each client once its handshake succeeded and its certificate passed the checks.
   */
  static async start(settings: TlsOptions, address: { host: string; port: number }, what: string, log: Logger, onSocket: (socket: TLSSocket) => void): Promise<TlsListener> {
    const server = createServer({
      ...tlsServerOptions(settings),
      handshakeTimeout: settings.handshakeTimeoutMs ?? DEFAULT_TLS_HANDSHAKE_TIMEOUT_MS,
    });
    server.on('secureConnection', (socket: TLSSocket) => {
      const refusal = peerCertificateRefusal(settings, socket);
      if (refusal) {
        log('warn', 'TLS client refused', { peer: `${socket.remoteAddress}:${socket.remotePort}`, listener: what, reason: refusal });
        socket.destroy();
        return;
      }
      onSocket(socket);
    });
    server.on('tlsClientError', (err: Error, socket: TLSSocket) => {
      log('warn', 'TLS handshake failed', { peer: `${socket.remoteAddress}:${socket.remotePort}`, listener: what, error: err.message });
      // With a listener on this event, closing the socket is ours to do.
      socket.destroy();
    });
    const listener = new TlsListener(server, settings, address.host);
    listener.port = await listenOn(server, address, what);
    return listener;
  }

  /** Re-reads the certificate, key and CA files; on error the old ones stay in use. */
  reload(): void {
    this.server.setSecureContext(tlsServerOptions(this.settings));
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
