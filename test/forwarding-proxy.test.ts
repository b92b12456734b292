// A follower's forwarding proxy (src/cluster/forwarding-proxy.ts) with real sockets: bytes pass both
// ways to the leader's port, a leader change closes every proxied connection, new ones reach the new
// leader, and with no leader known a connection is closed at once.
import assert from 'node:assert/strict';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { after, describe, it } from 'node:test';
import { ForwardingProxy } from '../src/cluster/forwarding-proxy.js';
import { freePort } from './support/free-port.js';

/** A TCP server answering every line with "<name>:<line>", like two different leaders. */
async function echo(name: string): Promise<Server> {
  const s = createServer((c) => c.on('data', (d) => c.write(`${name}:${d.toString()}`)));
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  return s;
}
const portOf = (s: Server) => (s.address() as AddressInfo).port;

function client(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const c = connect(port, '127.0.0.1', () => resolve(c));
    c.once('error', reject);
  });
}

function roundTrip(c: Socket, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    c.once('data', (d) => resolve(d.toString()));
    c.once('error', reject);
    c.write(text);
  });
}

const closed = (c: Socket) => new Promise<void>((resolve) => (c.destroyed ? resolve() : c.once('close', () => resolve())));

describe('forwarding proxy', () => {
  const servers: Server[] = [];
  after(() => {
    for (const s of servers) s.close();
  });

  it('forwards to the leader, drops its connections when the leader changes, refuses when there is none', async () => {
    const a = await echo('a');
    const b = await echo('b');
    servers.push(a, b);
    const proxy = await ForwardingProxy.start([{ name: 'amqp', host: '127.0.0.1', port: 0 }], () => {});
    try {
      const port = proxy.boundPort('amqp');
      assert.ok(port > 0);

      const none = await client(port);
      await closed(none);

      proxy.retarget({ host: '127.0.0.1', ports: { amqp: portOf(a) } });
      const c1 = await client(port);
      assert.equal(await roundTrip(c1, 'hello'), 'a:hello');
      assert.equal(proxy.connectionCount, 1);

      // The same leader again changes nothing.
      proxy.retarget({ host: '127.0.0.1', ports: { amqp: portOf(a) } });
      assert.equal(await roundTrip(c1, 'still'), 'a:still');

      proxy.retarget({ host: '127.0.0.1', ports: { amqp: portOf(b) } });
      await closed(c1);
      const c2 = await client(port);
      assert.equal(await roundTrip(c2, 'again'), 'b:again');
      c2.destroy();
    } finally {
      await proxy.close();
    }
  });

  it('a port in use fails the start, naming it, and leaves nothing listening', async () => {
    const taken = await echo('t');
    servers.push(taken);
    const unused = await freePort();
    await assert.rejects(
      ForwardingProxy.start([{ name: 'management', host: '127.0.0.1', port: unused }, { name: 'amqp', host: '127.0.0.1', port: portOf(taken) }], () => {}),
      // The code too: callers that probed a port retry another one on EADDRINUSE (test/management-support.ts).
      { code: 'EADDRINUSE', message: new RegExp(`cannot listen for amqp \\(forwarded to the leader\\) on 127.0.0.1:${portOf(taken)}: address already in use`) },
    );
    // The first listener was closed again: its port can be bound.
    const again = createServer();
    await new Promise<void>((resolve, reject) => {
      again.once('error', reject);
      again.listen(unused, '127.0.0.1', () => resolve());
    });
    again.close();
    // An optional listener (the stream default) is skipped instead.
    const proxy = await ForwardingProxy.start([{ name: 'stream', host: '127.0.0.1', port: portOf(taken), optional: true }], () => {});
    assert.equal(proxy.boundPort('stream'), 0);
    await proxy.close();
  });
});
