// Accepted sockets reading into one shared buffer (src/net/reused-reads.ts, the stream listener's read
// path): every socket's bytes arrive intact and in order although all of them are read into the same
// buffer, the server still counts the adopted sockets (server.close() completes once they close),
// and pause() stops reading until resume().
import { afterEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { once } from 'node:events';
import { readIntoSharedBuffer } from '../src/net/reused-reads.js';
import { waitFor } from './support/eventually.js';

interface Accepted {
  socket: Socket;
  received: Buffer[];
  /** Every buffer the reads came in. */
  buffers: Set<Buffer>;
}

/** Sockets and servers a test opened, ended after it even when it failed (so the process can exit). */
const opened: (Socket | Server)[] = [];
afterEach(() => {
  for (const o of opened.splice(0)) {
    if ('destroy' in o) o.destroy();
    else o.close();
  }
});

async function client(port: number): Promise<Socket> {
  const c = connect(port, '127.0.0.1');
  opened.push(c);
  await once(c, 'connect');
  return c;
}

async function listen(onAccept: (a: Accepted) => void = () => {}): Promise<{ server: Server; port: number; accepted: Accepted[] }> {
  const accepted: Accepted[] = [];
  const server = createServer({ pauseOnConnect: true }, (s) => {
    const a: Accepted = { socket: s, received: [], buffers: new Set() };
    a.socket = readIntoSharedBuffer(s, (bytes, end) => {
      a.buffers.add(bytes);
      a.received.push(Buffer.from(bytes.subarray(0, end)));
    });
    accepted.push(a);
    opened.push(a.socket);
    onAccept(a);
  });
  opened.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, port: (server.address() as { port: number }).port, accepted };
}

/** `n` bytes that tell the sender and position apart. */
function pattern(sender: number, n: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = (i * 7 + sender * 101 + (i >> 10)) & 255;
  return b;
}

describe('reads into one shared buffer', () => {
  test('three sockets writing at once: each one\'s bytes arrive intact, all read into the same buffer', async () => {
    const { server, port, accepted } = await listen();
    const total = 3 << 20;
    const clients = await Promise.all([0, 1, 2].map(() => client(port)));
    await waitFor('3 accepted', () => accepted.length === 3);
    const sent = clients.map((_, i) => pattern(i, total));
    // Uneven pieces, interleaved between the sockets, so reads end anywhere.
    let offset = 0;
    for (let piece = 1; offset < total; piece = (piece * 7919) % 300_000 + 1) {
      const end = Math.min(total, offset + piece);
      for (const [i, c] of clients.entries()) c.write(sent[i]!.subarray(offset, end));
      offset = end;
    }
    const bytes = (a: Accepted): number => a.received.reduce((n, b) => n + b.length, 0);
    await waitFor('all bytes', () => accepted.every((a) => bytes(a) === total), 30_000);
    // Which socket is which: match by the first bytes.
    for (const a of accepted) {
      const got = Buffer.concat(a.received);
      const sender = sent.findIndex((s) => s.subarray(0, 64).equals(got.subarray(0, 64)));
      assert.ok(sender >= 0, 'bytes of one sender');
      assert.ok(got.equals(sent[sender]!), `socket of sender ${sender}: bytes intact and in order`);
    }
    const buffers = new Set(accepted.flatMap((a) => [...a.buffers]));
    assert.equal(buffers.size, 1, 'one buffer for every read of every socket');
    for (const c of clients) c.end();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  test('server.close() completes once the adopted sockets have closed', async () => {
    const { server, port, accepted } = await listen();
    const c = await client(port);
    await waitFor('accepted', () => accepted.length === 1);
    let closed = false;
    server.close(() => (closed = true));
    c.write('hello');
    await waitFor('read', () => accepted[0]!.received.length > 0);
    assert.equal(closed, false, 'an open connection keeps the server from closing');
    c.end();
    await waitFor('server closed', () => closed);
  });

  test('pause() stops reading until resume()', async () => {
    const { server, port, accepted } = await listen();
    const c = await client(port);
    await waitFor('accepted', () => accepted.length === 1);
    const a = accepted[0]!;
    c.write('x');
    await waitFor('first read', () => a.received.length === 1);
    a.socket.pause();
    const chunk = Buffer.alloc(256 << 10, 1);
    let written = 1;
    // Without reads the kernel's buffers fill and the writer backs up.
    while (c.write(chunk)) written += chunk.length;
    written += chunk.length;
    // A barrier: once the server has read another socket's byte, the event loop has polled since
    // the paused socket had data waiting.
    const other = await client(port);
    await waitFor('accepted', () => accepted.length === 2);
    other.write('y');
    await waitFor('the other socket read', () => accepted[1]!.received.length === 1);
    assert.ok(c.writableLength > 0, 'the writer backed up');
    assert.equal(a.received.length, 1, 'nothing read while paused');
    other.end();
    a.socket.resume();
    await waitFor('everything read after resume', () => a.received.reduce((n, b) => n + b.length, 0) === written, 30_000);
    c.end();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
});
