/**
 * AMQP logins: which SASL mechanisms a socket is offered, checking a connection.start-ok's response
 * (PLAIN and AMQPLAIN credentials, or EXTERNAL's client certificate), the loopback-only rule, and
 * the bookkeeping of attempts: counted per protocol and per source (RabbitMQ's
 * /api/auth/attempts), and a source failing more than `failureLimit` times in a minute gets its
 * refusals delayed (beyond RabbitMQ), which slows password guessing without touching other sources.
 */
import type { Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import type { AuthMechanism } from '../config.js';
import type { Logger } from '../logger.js';
import { externalUsername, peerCertificate } from '../tls/peer-certificate.js';
import { parseCredentials } from './sasl.js';
import type { User, UserStore } from './users.js';

export interface LoginSettings {
  authMechanisms: AuthMechanism[];
  sslCertLoginFrom: 'common_name' | 'distinguished_name';
  loopbackUsers: string[];
  /** Failures per minute from one address before refusals are delayed; 0 = never. */
  loginFailureLimit: number;
}

export type LoginOutcome =
  | { user: User; username: string }
  | { user: undefined; username: string; malformed: boolean; delayMs: number };

export interface AuthAttempts {
  auth_attempts: number;
  auth_attempts_failed: number;
  auth_attempts_succeeded: number;
}

interface SourceWindow extends AuthAttempts {
  remoteAddress: string;
  username: string;
  /** Failures in the current one-minute window, and when it started. */
  recentFailures: number;
  windowStart: number;
}

const WINDOW_MS = 60_000;
/** Each failure beyond the limit adds this much delay, up to MAX_DELAY_MS. */
const DELAY_STEP_MS = 1000;
const MAX_DELAY_MS = 30_000;
/** Sources remembered at most (oldest windows are dropped first): an address scan cannot grow memory. */
const MAX_SOURCES = 10_000;

export class LoginService {
  readonly totals: AuthAttempts = { auth_attempts: 0, auth_attempts_failed: 0, auth_attempts_succeeded: 0 };
  private readonly sources = new Map<string, SourceWindow>();

  constructor(
    private readonly users: UserStore,
    private readonly settings: LoginSettings,
    private readonly log: Logger,
  ) {}

  /** EXTERNAL is offered only to a TLS client that presented a certificate, as rabbitmq_auth_mechanism_ssl does. */
  mechanisms(socket: Socket): string[] {
    const withCert = socket instanceof TLSSocket && peerCertificate(socket) !== undefined;
    return this.settings.authMechanisms.filter((m) => m !== 'EXTERNAL' || withCert);
  }

  /** Password check plus the loopback-only rule; undefined = refused. */
  checkPassword(username: string, password: string, remoteAddress: string): User | undefined {
    const user = this.users.authenticate(username, password);
    return user && this.loopbackAllows(user, remoteAddress) ? user : undefined;
  }

  login(mechanism: string, response: Buffer, socket: Socket): LoginOutcome {
    const remote = socket.remoteAddress ?? '';
    let username = '';
    let user: User | undefined;
    let malformed = false;
    if (!this.mechanisms(socket).includes(mechanism)) {
      malformed = true;
    } else if (mechanism === 'EXTERNAL') {
      username = externalUsername(socket, this.settings.sslCertLoginFrom) ?? '';
      const known = this.users.users.get(username);
      user = known && this.loopbackAllows(known, remote) ? known : undefined;
    } else {
      const creds = parseCredentials(mechanism, response);
      if (!creds) malformed = true;
      else {
        username = creds.username;
        user = this.checkPassword(creds.username, creds.password, remote);
      }
    }
    const source = this.source(remote, username);
    this.totals.auth_attempts++;
    source.auth_attempts++;
    if (user) {
      this.totals.auth_attempts_succeeded++;
      source.auth_attempts_succeeded++;
      return { user, username };
    }
    this.totals.auth_attempts_failed++;
    source.auth_attempts_failed++;
    const delayMs = this.noteFailure(remote);
    this.log('warn', 'authentication failed', { peer: `${remote}:${socket.remotePort}`, user: username, mechanism, ...(delayMs ? { delayMs } : {}) });
    return { user: undefined, username, malformed, delayMs };
  }

  /** Per source (address and user name), as RabbitMQ's /api/auth/attempts/{node}/source lists them. */
  bySource(): Array<AuthAttempts & { remote_address: string; username: string; protocol: string }> {
    return [...this.sources.values()].filter((s) => s.username !== '').map((s) => ({
      remote_address: s.remoteAddress, username: s.username, protocol: 'amqp091',
      auth_attempts: s.auth_attempts, auth_attempts_failed: s.auth_attempts_failed, auth_attempts_succeeded: s.auth_attempts_succeeded,
    }));
  }

  private loopbackAllows(user: User, remoteAddress: string): boolean {
    if (!this.settings.loopbackUsers.includes(user.name) || isLoopback(remoteAddress)) return true;
    this.log('warn', `user '${user.name}' can only connect via localhost`, { peer: remoteAddress });
    return false;
  }

  private source(remoteAddress: string, username: string): SourceWindow {
    const key = `${remoteAddress}\0${username}`;
    let s = this.sources.get(key);
    if (!s) {
      if (this.sources.size >= MAX_SOURCES) this.sources.delete(this.sources.keys().next().value!);
      s = { remoteAddress, username, auth_attempts: 0, auth_attempts_failed: 0, auth_attempts_succeeded: 0, recentFailures: 0, windowStart: Date.now() };
      this.sources.set(key, s);
    }
    return s;
  }

  /** Counts a failure against the address (whatever user name it tried) and returns the delay its refusal gets. */
  private noteFailure(remoteAddress: string): number {
    const w = this.source(remoteAddress, '');
    const now = Date.now();
    if (now - w.windowStart >= WINDOW_MS) {
      w.windowStart = now;
      w.recentFailures = 0;
    }
    w.recentFailures++;
    const limit = this.settings.loginFailureLimit;
    if (limit <= 0 || w.recentFailures <= limit) return 0;
    return Math.min(MAX_DELAY_MS, (w.recentFailures - limit) * DELAY_STEP_MS);
  }
}

export function isLoopback(addr: string): boolean {
  return addr === '::1' || addr.startsWith('127.') || addr.startsWith('::ffff:127.');
}
