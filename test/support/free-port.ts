/**
 * A TCP port for a test to hand to something that binds it later (a child broker's flag, etcd,
 * Prometheus). Picked at random BELOW the kernel's ephemeral range and checked free on loopback:
 * the kernel hands out ephemeral ports to every `listen(0)` and to the local end of every outgoing
 * connection (tests open thousands), so a port it just gave a probe could be given again to any of
 * those before its user binds it. Below the range only another probe can pick it, one in
 * thousands. Falls back to the kernel's choice if the range yields nothing.
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/** Ports below this are never picked (the well-known ones the brief keeps free: 5552, 5672, 15672, 15692). */
const LOWEST = 20_000;

function ephemeralStart(): number {
  try {
    const first = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    return Number.isInteger(first) && first > LOWEST + 1000 ? first : 32_768;
  } catch {
    return 32_768;
  }
}

const highest = ephemeralStart() - 1;

function bindable(port: number, host: string): Promise<number | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(undefined));
    server.listen(port, host, () => {
      const address = server.address();
      const bound = typeof address === 'object' && address ? address.port : undefined;
      server.close(() => resolve(bound));
    });
  });
}

/** A port free on `host` a moment ago. */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = LOWEST + Math.floor(Math.random() * (highest - LOWEST + 1));
    if ((await bindable(port, host)) !== undefined) return port;
  }
  const port = await bindable(0, host);
  if (port === undefined) throw new Error(`no free TCP port on ${host}`);
  return port;
}
