/**
 * What a stream-protocol connection needs from the broker, as an interface so src/stream does not
 * import the broker's assembly: authentication and permissions, stream creation and deletion (which
 * go through the vhost so a stream is also a queue there), super-stream routing, advertised address.
 */
import type { Socket } from 'node:net';
import type { Logger } from '../logger.js';
import type { Stream, StreamManager } from './stream-manager.js';

export type Permission = 'configure' | 'write' | 'read';

export interface StreamBrokerContext {
  readonly streams: StreamManager;
  readonly log: Logger;
  /** undefined = refused; 'loopback' = the user may only connect from localhost. */
  authenticate(username: string, password: string, remoteAddress: string): { name: string } | 'loopback' | undefined;
  /** SASL mechanisms offered on this socket (auth_mechanisms; EXTERNAL only to TLS clients with a certificate). */
  saslMechanisms(socket: Socket): string[];
  /** EXTERNAL: the user the client certificate names (ssl_cert_login_from), undefined when refused. */
  externalUser(socket: Socket): { name: string } | undefined;
  hasVhost(vhost: string, user: string): boolean;
  /** Throws (any error) when the user lacks `access` on the queue `name`. */
  checkPermission(user: string, vhost: string, access: Permission, name: string): void;
  /** Creates the stream: 'created', 'exists', or an error text (precondition failed). */
  createStream(vhost: string, name: string, args: Record<string, string>, user: string): 'created' | 'exists' | { error: string };
  deleteStream(vhost: string, name: string, user: string): boolean;
  /** Calls back once the definitions created or deleted so far are on disk (a create's answer waits for it). */
  whenDefinitionsStored(callback: () => void): void;
  /** Streams an exchange `superStream` routes `routingKey` to; undefined when it does not exist. */
  route(vhost: string, superStream: string, routingKey: string): string[] | undefined;
  /** The partitions (streams bound to the super stream's exchange, in partition order). */
  partitions(vhost: string, superStream: string): string[] | undefined;
  readonly advertisedHost: string;
  advertisedPort: number;
  /** Told to clients connected over TLS (stream.advertised_tls_port). */
  advertisedTlsPort: number;
  readonly frameMax: number;
  readonly heartbeat: number;
  serverVersion: string;
  connectionOpened(c: { close(): void }): void;
  connectionClosed(c: { close(): void }): void;
}

export type { Stream };
