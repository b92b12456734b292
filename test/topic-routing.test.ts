// Topic exchange matching: `*` is exactly one word, `#` zero or more, in any position, with empty
// words; and routing stays fast with thousands of bindings.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { brokerPerFile } from './support/broker-per-file.js';
import { uniq } from './support/test-broker.js';
import { channel, connect, drain } from './support/amqp-client.js';

/** An independent reference matcher (not Warren's): words split on '.', '' is zero words. */
function topicMatches(pattern: string, key: string): boolean {
  const words = (s: string) => (s === '' ? [] : s.split('.'));
  const p = words(pattern);
  const k = words(key);
  const match = (i: number, j: number): boolean => {
    if (i === p.length) return j === k.length;
    if (p[i] === '#') return match(i + 1, j) || (j < k.length && match(i, j + 1));
    if (j === k.length) return false;
    return (p[i] === '*' || p[i] === k[j]) && match(i + 1, j + 1);
  };
  return match(0, 0);
}

const PATTERNS = [
  '#', '*', 'a', 'a.*', 'a.#', '#.a', '*.a', 'a.*.c', 'a.#.c', '#.b.#', '*.*', '*.#', '#.*', 'a.#.#', '#.#',
  '', '*.*.*', 'a..c', '.a', 'a.', '.', '#.', '.#', 'a.*.#', '#.c', '*.b.*', 'a.b.c', 'ü.*',
];
const KEYS = [
  '', 'a', 'b', 'c', 'a.b', 'a.c', 'b.a', 'x.a', 'a.b.c', 'a.b.b.c', 'a.x.c', 'a..c', '.', '..', 'a.', '.a',
  'a.b.c.d', 'x.b.y', 'ü.x', 'ü',
];

describe('topic routing', () => {
  const b = brokerPerFile();

  test('patterns × routing keys route exactly as RabbitMQ (*, #, empty words, # anywhere)', async () => {
    const conn = await connect(b.url);
    const ch = await channel(conn);
    const x = uniq('topic');
    await ch.assertExchange(x, 'topic', { durable: false, autoDelete: true });
    const queues: string[] = [];
    for (const pattern of PATTERNS) {
      const q = (await ch.assertQueue('', { exclusive: true })).queue;
      await ch.bindQueue(q, x, pattern);
      queues.push(q);
    }
    for (const key of KEYS) ch.publish(x, key, Buffer.from(key));
    const mismatches: string[] = [];
    for (let i = 0; i < PATTERNS.length; i++) {
      const got = (await drain(ch, queues[i]!)).sort();
      const want = KEYS.filter((k) => topicMatches(PATTERNS[i]!, k)).sort();
      if (JSON.stringify(got) !== JSON.stringify(want)) mismatches.push(`pattern '${PATTERNS[i]}': got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
    }
    assert.deepEqual(mismatches, []);
  });

  test('two bindings of one queue that both match deliver the message once', async () => {
    const conn = await connect(b.url);
    const ch = await channel(conn);
    const q = (await ch.assertQueue('', { exclusive: true })).queue;
    await ch.bindQueue(q, 'amq.topic', `${q}.#`);
    await ch.bindQueue(q, 'amq.topic', `${q}.*`);
    ch.publish('amq.topic', `${q}.x`, Buffer.from('once'));
    assert.deepEqual(await drain(ch, q), ['once']);
  });

  test('unbinding one pattern keeps the others', async () => {
    const conn = await connect(b.url);
    const ch = await channel(conn);
    const q = (await ch.assertQueue('', { exclusive: true })).queue;
    await ch.bindQueue(q, 'amq.topic', `${q}.a.*`);
    await ch.bindQueue(q, 'amq.topic', `${q}.#.b`);
    await ch.unbindQueue(q, 'amq.topic', `${q}.a.*`);
    ch.publish('amq.topic', `${q}.a.x`, Buffer.from('gone'));
    ch.publish('amq.topic', `${q}.a.b`, Buffer.from('kept'));
    assert.deepEqual(await drain(ch, q), ['kept']);
  });

  // How fast routing stays with many bindings is measured by `npm run bench` (topic scenario), not here.
  test('routing stays exact with thousands of bindings on one exchange', async () => {
    const conn = await connect(b.url);
    const ch = await channel(conn);
    const x = uniq('topic-many');
    await ch.assertExchange(x, 'topic', { durable: false, autoDelete: true });
    const q = (await ch.assertQueue('', { exclusive: true })).queue;
    await ch.bindQueue(q, x, 'hit.*.#');
    const binds: Promise<unknown>[] = [];
    for (let i = 0; i < 5000; i++) binds.push(ch.bindQueue(q, x, `k${i}.*.#.w${i % 97}`));
    await Promise.all(binds);
    ch.publish(x, 'hit.1.z', Buffer.from('hit'));
    ch.publish(x, 'k42.a.b.w42', Buffer.from('k42'));
    ch.publish(x, 'k42.a.b.w43', Buffer.from('miss'));
    assert.deepEqual(await drain(ch, q), ['hit', 'k42']);
  });
});
