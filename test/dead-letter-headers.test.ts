// The headers of a dead-lettered message exactly as RabbitMQ 3.10.8 writes them, read off the wire
// with the raw client: x-death counts are longs ('l'), the headers table comes back sorted by key with
// every other header's wire type kept, the first death's entry keeps RabbitMQ's field order while a
// counted-up or later entry is sorted, a counted-up entry keeps its time, two or more earlier entries
// are regrouped (and so reversed), x-first-death-* are only set by the first death, CC keys are listed in routing-keys and dropped by a dead-letter routing key.
// Also: RabbitMQ's publisher nacks carry requeue=true. Passes unchanged against RabbitMQ.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { brokerPerFile, openRawChannel } from './support/broker-per-file.js';
import { uniq } from './support/test-broker.js';
import { basicGetArgs, type RawConnection } from './support/raw-amqp.js';
import { Decoder, Encoder, methodFrame, type Typed, type TypedTable } from './support/raw-codec.js';

/** The headers table of raw basic properties as [key, wire type, decoded value], in wire order. */
function headerEntries(properties: Buffer): Array<[string, string, unknown]> {
  const d = new Decoder(properties);
  const flags = d.u16();
  assert.ok(flags & (1 << 13), 'the message has headers');
  if (flags & (1 << 15)) d.shortstr();
  if (flags & (1 << 14)) d.shortstr();
  const end = d.u32() + d.pos;
  const out: Array<[string, string, unknown]> = [];
  while (d.pos < end) {
    const key = d.shortstr();
    const type = String.fromCharCode(properties[d.pos]!);
    out.push([key, type, d.value()]);
  }
  return out;
}

/** Keys of an x-death entry in wire order, with its count's wire type. */
function entryShape(properties: Buffer, index: number): { keys: string[]; countType: string } {
  const d = new Decoder(properties);
  d.u16();
  const end = d.u32() + d.pos;
  while (d.pos < end) {
    const key = d.shortstr();
    if (key !== 'x-death') {
      d.value();
      continue;
    }
    d.u8(); // 'A'
    const arrayEnd = d.u32() + d.pos;
    for (let i = 0; d.pos < arrayEnd; i++) {
      d.u8(); // 'F'
      const tableEnd = d.u32() + d.pos;
      const keys: string[] = [];
      let countType = '';
      while (d.pos < tableEnd) {
        const k = d.shortstr();
        if (k === 'count') countType = String.fromCharCode(properties[d.pos]!);
        keys.push(k);
        d.value();
      }
      if (i === index) return { keys, countType };
    }
  }
  throw new Error('no such x-death entry');
}

const long = (v: number): Typed => ({ t: 'l', v: BigInt(v) });
const FIRST_DEATH_KEYS = ['count', 'reason', 'queue', 'time', 'exchange', 'routing-keys'];
const SORTED_KEYS = ['count', 'exchange', 'queue', 'reason', 'routing-keys', 'time'];

describe('dead-lettered message headers', () => {
  const b = brokerPerFile();

  const open = () => openRawChannel(b);
  /** A queue dead-lettering into a fanout exchange bound to `dead`; both exclusive. */
  const setup = async (conn: RawConnection, queueArgs: Record<string, unknown> = {}) => {
    const q = uniq('dlq-src');
    const dead = uniq('dlq-dead');
    const dlx = uniq('dlx');
    conn.write(methodFrame(1, 40, 10, new Encoder().u16(0).shortstr(dlx).shortstr('fanout').bit(false).bit(false).bit(true).bit(false).bit(false).table({}).done()));
    await conn.expectMethod(40, 11);
    await conn.declareQueue(1, dead, { exclusive: true });
    conn.write(methodFrame(1, 50, 20, new Encoder().u16(0).shortstr(dead).shortstr(dlx).shortstr('').bit(false).table({}).done()));
    await conn.expectMethod(50, 21);
    await conn.declareQueue(1, q, { exclusive: true, args: { 'x-dead-letter-exchange': dlx, ...queueArgs } });
    return { q, dead };
  };
  /** basic.get until a message is there: RabbitMQ dead-letters asynchronously. */
  const getEventually = async (conn: RawConnection, queue: string, noAck = true) => {
    const deadline = Date.now() + 5000;
    for (;;) {
      const m = await conn.get(1, queue, noAck);
      if (m || Date.now() > deadline) return m;
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  /** basic.get without auto-ack, then basic.reject(requeue=false). */
  const rejectNext = async (conn: RawConnection, queue: string) => {
    const m = await getEventually(conn, queue, false);
    assert.ok(m, `a message in ${queue}`);
    conn.write(methodFrame(1, 60, 90, new Encoder().u64(m.deliveryTag).bit(false).done()));
    return m;
  };

  test('first death: sorted headers with their wire types kept, count as a long, first-death headers', async () => {
    const conn = await open();
    const { q, dead } = await setup(conn);
    const headers: TypedTable = { zeta: long(5), alpha: { t: 'd', v: 2 }, mid: { t: 'S', v: 'm' } };
    conn.publish(1, '', q, Buffer.from('x'), { headers, expiration: '60000' });
    await rejectNext(conn, q);
    const m = await getEventually(conn, dead);
    assert.ok(m);
    assert.deepEqual(headerEntries(m.properties).map(([k, t]) => [k, t]), [
      ['alpha', 'd'], ['mid', 'S'], ['x-death', 'A'], ['x-first-death-exchange', 'S'], ['x-first-death-queue', 'S'],
      ['x-first-death-reason', 'S'], ['zeta', 'l'],
    ]);
    assert.deepEqual(entryShape(m.properties, 0), { keys: [...FIRST_DEATH_KEYS, 'original-expiration'], countType: 'l' });
  });

  test('a counted-up entry is sorted, keeps its time, and adds no first-death headers', async () => {
    const conn = await open();
    const { q, dead } = await setup(conn);
    const prior: Typed = { t: 'F', v: {
      count: long(3), reason: { t: 'S', v: 'rejected' }, queue: { t: 'S', v: q }, time: { t: 'T', v: 1n },
      exchange: { t: 'S', v: '' }, 'routing-keys': { t: 'A', v: [{ t: 'S', v: q }] },
    } };
    conn.publish(1, '', q, Buffer.from('x'), { headers: { 'x-death': { t: 'A', v: [prior] } } });
    await rejectNext(conn, q);
    const m = await getEventually(conn, dead);
    assert.ok(m);
    const entries = headerEntries(m.properties);
    assert.deepEqual(entries.map(([k]) => k), ['x-death']);
    const deaths = entries[0]![2] as Array<Record<string, unknown>>;
    assert.equal(deaths.length, 1);
    assert.equal(deaths[0]!['count'], 4n);
    assert.equal(deaths[0]!['time'], 1n, 'the time of the first such death');
    assert.deepEqual(entryShape(m.properties, 0), { keys: SORTED_KEYS, countType: 'l' });
  });

  test('a death in another queue is a new sorted entry in front; two earlier entries come back reversed', async () => {
    const conn = await open();
    const first = await setup(conn);
    // The dead-letter queue of the first setup dead-letters in turn.
    const second = await setup(conn);
    const hop = uniq('dlq-hop');
    await conn.declareQueue(1, hop, { exclusive: true, args: { 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': second.q } });
    conn.publish(1, '', first.q, Buffer.from('x'));
    await rejectNext(conn, first.q);
    const once = await getEventually(conn, first.dead);
    assert.ok(once);
    conn.publish(1, '', hop, Buffer.from('x'), once.properties);
    await rejectNext(conn, hop);
    await rejectNext(conn, second.q);
    const m = await getEventually(conn, second.dead);
    assert.ok(m);
    const deaths = headerEntries(m.properties).find(([k]) => k === 'x-death')![2] as Array<Record<string, unknown>>;
    // RabbitMQ 3.10 regroups two or more earlier entries by queue and reason, which reverses them.
    assert.deepEqual(deaths.map((d) => d['queue']), [second.q, first.q, hop]);
    assert.deepEqual(entryShape(m.properties, 0), { keys: SORTED_KEYS, countType: 'l' });
    assert.deepEqual(entryShape(m.properties, 1), { keys: FIRST_DEATH_KEYS, countType: 'l' });
    assert.deepEqual(entryShape(m.properties, 2), { keys: SORTED_KEYS, countType: 'l' });
    const firstDeath = headerEntries(m.properties).filter(([k]) => k.startsWith('x-first-death-')).map(([, , v]) => v);
    assert.deepEqual(firstDeath, ['', first.q, 'rejected']);
  });

  test('CC keys are listed in routing-keys; a dead-letter routing key drops the CC header', async () => {
    const conn = await open();
    const { q, dead } = await setup(conn, { 'x-dead-letter-routing-key': 'elsewhere' });
    const cc = uniq('cc');
    conn.publish(1, '', q, Buffer.from('x'), { headers: { CC: { t: 'A', v: [{ t: 'S', v: cc }] } } });
    await rejectNext(conn, q);
    const m = await getEventually(conn, dead);
    assert.ok(m);
    const entries = headerEntries(m.properties);
    assert.equal(entries.find(([k]) => k === 'CC'), undefined);
    const deaths = entries.find(([k]) => k === 'x-death')![2] as Array<Record<string, unknown>>;
    assert.deepEqual(deaths[0]!['routing-keys'], [q, cc]);
  });

  test('a publisher nack (reject-publish overflow) has requeue set, as RabbitMQ sends it', async () => {
    const conn = await open();
    const q = uniq('full');
    await conn.declareQueue(1, q, { exclusive: true, args: { 'x-max-length': 0, 'x-overflow': 'reject-publish' } });
    conn.write(methodFrame(1, 85, 10, new Encoder().bit(false).done()));
    await conn.expectMethod(85, 11);
    conn.publish(1, '', q, Buffer.from('x'));
    const nack = await conn.expectMethod(60, 120);
    assert.equal(nack.args.u64(), 1n);
    nack.args.bit(); // multiple: RabbitMQ may set it for tag 1 ("everything up to 1")
    assert.equal(nack.args.bit(), true, 'requeue');
    conn.write(methodFrame(1, 60, 70, basicGetArgs(q, true)));
    await conn.expectMethod(60, 72);
  });
});
