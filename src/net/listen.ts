/** Listening on an address with an error that names it (a port in use is the usual case). */
import type { Server } from 'node:net';

export class ListenError extends Error {
  override readonly name = 'ListenError';
}

/** Listens and resolves with the port actually bound (useful with port 0). */
export function listenOn(server: Server, address: { host: string; port: number }, what: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (e: NodeJS.ErrnoException) => {
      server.off('listening', onListening);
      const why = e.code === 'EADDRINUSE' ? 'address already in use' : e.code === 'EACCES' ? 'permission denied' : e.message;
      reject(new ListenError(`cannot listen for ${what} on ${address.host}:${address.port}: ${why}`));
    };
    const onListening = () => {
      server.off('error', onError);
      const a = server.address();
      resolve(typeof a === 'object' && a ? a.port : address.port);
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(address.port, address.host);
  });
}
