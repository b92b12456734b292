/**
 * Listening on an address with an error that names it (a port in use is the usual case). The
 * default address is `::`, one dual-stack socket for IPv6 and IPv4 clients alike, as RabbitMQ
 * listens on [::]; a machine without IPv6 refuses that address, and there the listener falls back
 * to 0.0.0.0 instead of failing to start.
 */
import type { Server } from 'node:net';

export const DUAL_STACK_HOST = '::';
const IPV4_ANY = '0.0.0.0';
/** What listen() reports when the kernel has no IPv6 (module not loaded, disabled by sysctl). */
const NO_IPV6 = new Set(['EAFNOSUPPORT', 'EADDRNOTAVAIL', 'EPROTONOSUPPORT']);

export class ListenError extends Error {
  override readonly name = 'ListenError';

  constructor(
    message: string,
    /** The system error's code (EADDRINUSE, EACCES...), for callers that retry another port. */
    readonly code: string | undefined,
  ) {
    super(message);
  }
}

/** Listens and resolves with the port actually bound (useful with port 0). */
export async function listenOn(server: Server, address: { host: string; port: number }, what: string): Promise<number> {
  try {
    return await listenOnce(server, address.host, address.port);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? '';
    if (address.host === DUAL_STACK_HOST && NO_IPV6.has(code)) {
      try {
        return await listenOnce(server, IPV4_ANY, address.port);
      } catch (e4) {
        throw listenError(e4 as NodeJS.ErrnoException, { host: IPV4_ANY, port: address.port }, what);
      }
    }
    throw listenError(e as NodeJS.ErrnoException, address, what);
  }
}

function listenOnce(server: Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (e: NodeJS.ErrnoException) => {
      server.off('listening', onListening);
      reject(e);
    };
    const onListening = () => {
      server.off('error', onError);
      const a = server.address();
      resolve(typeof a === 'object' && a ? a.port : port);
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(port, host);
  });
}

function listenError(e: NodeJS.ErrnoException, address: { host: string; port: number }, what: string): ListenError {
  const why = e.code === 'EADDRINUSE' ? 'address already in use' : e.code === 'EACCES' ? 'permission denied' : e.message;
  return new ListenError(`cannot listen for ${what} on ${address.host}:${address.port}: ${why}`, e.code);
}
