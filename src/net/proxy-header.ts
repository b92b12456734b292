/**
 * The PROXY protocol's version 1 header (HAProxy's text form, one line before the forwarded bytes:
 * `PROXY TCP4 <client> <server> <client port> <server port>\r\n`, at most 107 bytes), as a cluster
 * follower writes it on every AMQP connection it forwards to the leader, so the leader knows the
 * real client: its address and port in /api/connections and the loopback-only rule of `guest`.
 *
 * The leader reads it only where it may come from a forwarding follower (see takeProxyHeader), and
 * honours it only from cluster members' addresses: anyone else could claim any address with it.
 */
import { isIP, type Socket } from 'node:net';

const SIGNATURE = Buffer.from('PROXY ', 'latin1');
/** The longest v1 line, CRLF included (the protocol's own bound). */
const MAX_LINE = 107;

export interface ProxiedPeer {
  address: string;
  port: number;
  family: 'IPv4' | 'IPv6';
}

const stripV4Mapped = (a: string): string => (a.startsWith('::ffff:') && isIP(a.slice(7)) === 4 ? a.slice(7) : a);

/** The header for a connection from `client` to `server` (a socket's remote and local ends). */
export function proxyHeaderV1(client: { address: string; port: number }, server: { address: string; port: number }): Buffer {
  let src = stripV4Mapped(client.address);
  let dst = stripV4Mapped(server.address);
  const v4 = isIP(src) === 4 && isIP(dst) === 4;
  if (!v4) {
    // One family per line: an IPv4 end is written as its IPv4-mapped IPv6 form.
    if (isIP(src) === 4) src = `::ffff:${src}`;
    if (isIP(dst) === 4) dst = `::ffff:${dst}`;
  }
  if (isIP(src) === 0 || isIP(dst) === 0) return Buffer.from('PROXY UNKNOWN\r\n', 'latin1');
  return Buffer.from(`PROXY ${v4 ? 'TCP4' : 'TCP6'} ${src} ${dst} ${client.port} ${server.port}\r\n`, 'latin1');
}

/** The client a v1 line names; undefined for `UNKNOWN` (keep the socket's own); throws when malformed. */
export function parseProxyLineV1(line: string): ProxiedPeer | undefined {
  const parts = line.split(' ');
  if (parts[0] !== 'PROXY') throw new Error('not a PROXY header');
  if (parts[1] === 'UNKNOWN') return undefined;
  const [, proto, src, dst, sport, dport] = parts;
  const family = proto === 'TCP4' ? 4 : proto === 'TCP6' ? 6 : 0;
  const port = Number(sport);
  if (parts.length !== 6 || family === 0 || isIP(src ?? '') !== family || isIP(dst ?? '') !== family ||
      !/^[0-9]{1,5}$/.test(sport ?? '') || !/^[0-9]{1,5}$/.test(dport ?? '') || port > 65535 || Number(dport) > 65535) {
    throw new Error(`malformed PROXY header "${line.slice(0, MAX_LINE)}"`);
  }
  return { address: stripV4Mapped(src!), port, family: family === 4 || isIP(stripV4Mapped(src!)) === 4 ? 'IPv4' : 'IPv6' };
}

/**
 * Reads what the socket sends first: a PROXY v1 line, if it starts with one, is taken off the stream;
 * everything else is put back for whoever reads next. `done` gets the line's client (undefined when
 * there was none, or `UNKNOWN`), or an error (malformed line, nothing within timeoutMs, socket
 * closed); the socket is then paused, for the next reader to resume.
 */
export function takeProxyHeader(socket: Socket, timeoutMs: number, done: (err: Error | undefined, peer: ProxiedPeer | undefined) => void): void {
  let buf: Buffer = Buffer.alloc(0);
  const finish = (err: Error | undefined, peer: ProxiedPeer | undefined, rest?: Buffer): void => {
    clearTimeout(timer);
    socket.off('data', onData).off('error', onEnd).off('close', onEnd);
    socket.pause();
    if (rest && rest.length > 0) socket.unshift(rest);
    done(err, peer);
  };
  const onData = (chunk: Buffer): void => {
    buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
    const head = Math.min(buf.length, SIGNATURE.length);
    if (!buf.subarray(0, head).equals(SIGNATURE.subarray(0, head))) return finish(undefined, undefined, buf);
    if (buf.length < SIGNATURE.length) return;
    const end = buf.indexOf('\r\n');
    if (end < 0) {
      if (buf.length >= MAX_LINE) finish(new Error('PROXY header longer than 107 bytes'), undefined);
      return;
    }
    let peer: ProxiedPeer | undefined;
    try {
      peer = parseProxyLineV1(buf.toString('latin1', 0, end));
    } catch (e) {
      return finish(e as Error, undefined);
    }
    finish(undefined, peer, buf.subarray(end + 2));
  };
  const onEnd = (): void => finish(new Error('connection closed before it sent anything'), undefined);
  const timer = setTimeout(() => finish(new Error(`nothing received within ${timeoutMs} ms`), undefined), timeoutMs);
  socket.on('data', onData).on('error', onEnd).on('close', onEnd);
}

/**
 * Makes the socket report the proxied client as its remote end. Everything that asks who is on the
 * other side (connection names, /api/connections' peer_host and peer_port, the loopback rule,
 * authentication attempts) reads socket.remoteAddress / remotePort, so shadowing those getters on
 * this one socket reaches all of them without each learning about proxies.
 */
export function adoptProxiedPeer(socket: Socket, peer: ProxiedPeer): void {
  Object.defineProperty(socket, 'remoteAddress', { value: peer.address, configurable: true });
  Object.defineProperty(socket, 'remotePort', { value: peer.port, configurable: true });
  Object.defineProperty(socket, 'remoteFamily', { value: peer.family, configurable: true });
}
