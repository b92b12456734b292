// Starts warren-perf's null broker (null-broker-thread.ts) in its own worker thread on a free
// loopback port, for `--null-broker`: the figures it yields are the tool's own ceiling.
import { Worker } from 'node:worker_threads';

export interface NullBroker {
  uri: string;
  port: number;
  close(): Promise<void>;
}

export function startNullBroker(): Promise<NullBroker> {
  const worker = new Worker(new URL('./null-broker-thread.js', import.meta.url));
  return new Promise((resolve, reject) => {
    worker.once('error', reject);
    worker.once('message', (m: { port: number }) => {
      resolve({
        uri: `amqp://guest:guest@127.0.0.1:${m.port}/`,
        port: m.port,
        close: async () => {
          worker.postMessage({ cmd: 'close' });
          await new Promise<void>((r) => {
            const t = setTimeout(() => void worker.terminate().then(() => r()), 1000);
            worker.once('exit', () => (clearTimeout(t), r()));
          });
        },
      });
    });
  });
}
