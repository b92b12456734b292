/**
 * Reads of accepted sockets into one buffer that all of them share, for protocols whose reader is
 * done with the bytes when its call returns (the stream protocol: publish entries are copied into
 * the chunk being built, other commands decoded into values, a frame split across reads reassembled
 * by FrameSplitter in a buffer of its own).
 *
 * Why: with 'data' events every read is a fresh 64 KiB Buffer, and with the broker's glibc mmap
 * threshold (cli/node-flags.ts) each is a mapping of its own — mapped, faulted in, zeroed, unmapped
 * — and V8 collects for the external memory; under a 1 KiB publish load those reads were a fifth of
 * the event loop's time. Node's `onread` option reads into a buffer given once instead, but only for
 * sockets it constructs: a server's accepted socket is handed over paused (`pauseOnConnect`) and its
 * libuv handle is adopted by a socket constructed with `onread`. One buffer serves every socket,
 * because libuv calls the reader back synchronously after each read, before it reads any socket
 * again; so memory does not grow with the number of connections, and the buffer can be larger than
 * libuv's 64 KiB: a 100 KiB publish frame then usually lies whole in one read and is copied once
 * (into its chunk), not twice (reassembled, then into its chunk).
 *
 * Where Node's internals this relies on (`_handle`, the `handle` constructor option, `_server`) are
 * missing, and for TLS sockets (whose reads are decrypted records), bytes come from 'data' events.
 */
import { Socket, type SocketConstructorOpts } from 'node:net';
import { TLSSocket } from 'node:tls';

/** bytes[0, end) were read; valid only until the call returns. */
export type OnRead = (bytes: Buffer, end: number) => void;

/** The reused buffer's size: what one read may return at most. */
export const SHARED_READ_BYTES = 1 << 20;

/** What adopting an accepted socket's handle touches of Node's net.Socket. */
interface AcceptedSocketInternals {
  _handle: object | null;
  _server: unknown;
  server: unknown;
}

let shared: Buffer | undefined;

/**
 * Starts reading `socket` (accepted paused) into the shared buffer and returns the socket to use from
 * now on: a new one over the same connection, or `socket` itself when it reads through 'data' events.
 */
export function readIntoSharedBuffer(socket: Socket, onRead: OnRead): Socket {
  const accepted = socket as unknown as AcceptedSocketInternals;
  const handle = accepted._handle;
  if (socket instanceof TLSSocket || handle === null || typeof handle !== 'object' || !('useUserBuffer' in handle)) {
    socket.on('data', (d: Buffer) => onRead(d, d.length));
    socket.resume();
    return socket;
  }
  shared ??= Buffer.allocUnsafeSlow(SHARED_READ_BYTES);
  accepted._handle = null;
  const adopted = new Socket({
    handle,
    onread: {
      buffer: shared,
      callback: (n: number, buf: Uint8Array): boolean => {
        onRead(buf as Buffer, n);
        return true;
      },
    },
  } as SocketConstructorOpts);
  // The server counts its open connections through the socket it made (server.close() waits for
  // them); the adopted socket now stands for it, and the old one, left without a handle, is dropped.
  const adoptedInternals = adopted as unknown as AcceptedSocketInternals;
  adoptedInternals._server = accepted._server;
  adoptedInternals.server = accepted.server;
  accepted._server = null;
  return adopted;
}
