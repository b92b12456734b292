// queue.declare x-arguments of a new queue, sent with exact wire types over the raw client: which
// argument RabbitMQ 3.10.8 refuses first and its full 406 text (Erlang terms included), the arguments
// each queue type refuses, the order of the quorum rules, and that an exclusive queue is never durable.
// Every expectation was observed on RabbitMQ 3.10.8 and the file passes there unchanged.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { brokerPerFile, openRawChannel } from './support/broker-per-file.js';
import { uniq } from './support/test-broker.js';
import { queueDeclareArgs } from './support/raw-amqp.js';
import { Encoder, methodFrame, type Typed, type TypedTable } from './support/raw-codec.js';

const I = (v: number): Typed => ({ t: 'I', v });
const long = (v: number | bigint): Typed => ({ t: 'l', v: BigInt(v) });
const str = (v: string): Typed => ({ t: 'S', v });
const bool = (v: boolean): Typed => ({ t: 't', v });

type Flags = { durable?: boolean; exclusive?: boolean; autoDelete?: boolean };

describe('queue.declare arguments', () => {
  const b = brokerPerFile();

  /** Declares `name` on a fresh channel: undefined for declare-ok, else the channel.close text. */
  const declare = async (name: string, args: TypedTable, flags: Flags = { exclusive: true }): Promise<string | undefined> => {
    const conn = await openRawChannel(b);
    conn.write(methodFrame(1, 50, 10, queueDeclareArgs(name, { ...flags, args })));
    const m = await conn.nextMethod();
    if (m.classId === 50 && m.methodId === 11) return undefined;
    assert.deepEqual([m.classId, m.methodId], [20, 40], 'expected declare-ok or channel.close');
    const code = m.args.u16();
    const text = m.args.shortstr();
    assert.deepEqual([code, m.args.u16(), m.args.u16()], [406, 50, 10]);
    return text;
  };
  const refused = (q: string, arg: string, detail: string) => `PRECONDITION_FAILED - invalid arg '${arg}' for queue '${q}' in vhost '/': ${detail}`;
  const refusedByType = (q: string, arg: string, type: string) =>
    `PRECONDITION_FAILED - invalid arg '${arg}' for queue '${q}' in vhost '/' of queue type ${type}`;

  test('wrong types and values → RabbitMQ\'s Erlang-term reasons', async () => {
    const cases: Array<[TypedTable, string]> = [
      [{ 'x-message-ttl': I(-1) }, '{value_negative,-1}'],
      [{ 'x-message-ttl': str('1000') }, '"expected integer, got longstr"'],
      [{ 'x-message-ttl': bool(true) }, '"expected integer, got bool"'],
      [{ 'x-message-ttl': { t: 'f', v: 2.5 } }, '"expected integer, got float"'],
      [{ 'x-message-ttl': { t: 'D', scale: 1, v: 10 } }, '"expected integer, got decimal"'],
      [{ 'x-message-ttl': { t: 'x', v: Buffer.from('5') } }, '"expected integer, got binary"'],
      [{ 'x-message-ttl': { t: 'V' } }, '"expected integer, got void"'],
      [{ 'x-message-ttl': long(315_360_000_001) }, '{value_too_large,315360000001}'],
      [{ 'x-expires': I(0) }, '{value_zero,0}'],
      [{ 'x-expires': I(-1) }, '{value_negative,-1}'],
      [{ 'x-max-length': I(-1) }, '{value_negative,-1}'],
      [{ 'x-max-length-bytes': str('10') }, '"expected integer, got longstr"'],
      [{ 'x-max-priority': I(256) }, '{max_value_exceeded,256}'],
      [{ 'x-overflow': str('bogus') }, 'invalid_overflow'],
      [{ 'x-overflow': I(1) }, '{unacceptable_type,signedint}'],
      [{ 'x-queue-mode': str('bogus') }, '"unsupported queue mode \'bogus\'"'],
      [{ 'x-queue-mode': I(1) }, '{unacceptable_type,signedint}'],
      [{ 'x-queue-type': str('bogus') }, '"unsupported queue type \'bogus\'"'],
      [{ 'x-queue-type': { t: 'x', v: Buffer.from('classic') } }, '{unacceptable_type,binary}'],
      [{ 'x-dead-letter-routing-key': str('rk') }, 'routing_key_but_no_dlx_defined'],
      [{ 'x-dead-letter-exchange': str('dlx'), 'x-dead-letter-routing-key': I(1) }, '{unacceptable_type,signedint}'],
      [{ 'x-single-active-consumer': I(1) }, '{unacceptable_type,signedint}'],
      [{ 'x-queue-version': I(3) }, '"unsupported queue version \'3\'"'],
      [{ 'x-queue-version': I(0) }, '"unsupported queue version \'0\'"'],
      [{ 'x-queue-version': I(-1) }, '{value_negative,-1}'],
      [{ 'x-queue-version': str('2') }, '"expected integer, got longstr"'],
    ];
    for (const [args, detail] of cases) {
      const q = uniq('qa');
      assert.equal(await declare(q, args), refused(q, Object.keys(args).at(-1)!, detail), JSON.stringify(args, (_, v) => (typeof v === 'bigint' ? `${v}` : v)));
    }
    const q = uniq('qa');
    assert.equal(await declare(q, { 'x-message-ttl': long(315_360_000_000), 'x-expires': long(315_360_000_000) }), undefined, 'ten years is the limit');
  });

  test('x-dead-letter-exchange of the wrong type is refused first, with the channel\'s own text', async () => {
    const q = uniq('qa');
    assert.equal(await declare(q, { 'x-queue-type': I(1), 'x-message-ttl': I(-1), 'x-dead-letter-exchange': I(1) }),
      `PRECONDITION_FAILED - invalid type 'signedint' for arg 'x-dead-letter-exchange' in queue '${q}' in vhost '/'`);
  });

  test('x-queue-type comes next, then the others in RabbitMQ\'s fixed order, whatever order they were sent in', async () => {
    const cases: Array<[TypedTable, string, string]> = [
      [{ 'x-expires': I(0), 'x-queue-type': str('bogus') }, 'x-queue-type', '"unsupported queue type \'bogus\'"'],
      [{ 'x-message-ttl': I(-1), 'x-expires': I(0) }, 'x-expires', '{value_zero,0}'],
      [{ 'x-max-length': I(-1), 'x-message-ttl': str('a') }, 'x-message-ttl', '"expected integer, got longstr"'],
      [{ 'x-dead-letter-routing-key': str('k'), 'x-message-ttl': I(-1) }, 'x-message-ttl', '{value_negative,-1}'],
      [{ 'x-max-length': I(-1), 'x-dead-letter-routing-key': str('k') }, 'x-dead-letter-routing-key', 'routing_key_but_no_dlx_defined'],
      [{ 'x-max-length-bytes': I(-1), 'x-max-length': I(-1) }, 'x-max-length', '{value_negative,-1}'],
      [{ 'x-overflow': str('x'), 'x-max-priority': I(-1) }, 'x-max-priority', '{value_negative,-1}'],
      [{ 'x-single-active-consumer': str('x'), 'x-overflow': str('x') }, 'x-overflow', 'invalid_overflow'],
      [{ 'x-single-active-consumer': str('x'), 'x-queue-mode': str('x') }, 'x-queue-mode', '"unsupported queue mode \'x\'"'],
      [{ 'x-queue-version': I(3), 'x-queue-mode': str('x') }, 'x-queue-mode', '"unsupported queue mode \'x\'"'],
      [{ 'x-single-active-consumer': I(1), 'x-queue-version': I(3) }, 'x-queue-version', '"unsupported queue version \'3\'"'],
      [{ 'x-max-in-memory-length': I(1), 'x-message-ttl': I(-1) }, 'x-message-ttl', '{value_negative,-1}'],
    ];
    for (const [args, arg, detail] of cases) {
      const q = uniq('qa');
      assert.equal(await declare(q, args), refused(q, arg, detail));
    }
    const named = await declare('', { 'x-message-ttl': I(-1) });
    assert.match(named ?? '', /^PRECONDITION_FAILED - invalid arg 'x-message-ttl' for queue 'amq\.gen-[A-Za-z0-9_-]{22}' in vhost '\/': \{value_negative,-1\}$/);
  });

  test('a classic queue refuses the arguments of other queue types (the first one sent)', async () => {
    for (const arg of ['x-delivery-limit', 'x-max-in-memory-length', 'x-max-in-memory-bytes', 'x-quorum-initial-group-size', 'x-max-age',
      'x-stream-max-segment-size-bytes', 'x-initial-cluster-size', 'x-queue-leader-locator', 'x-dead-letter-strategy']) {
      const q = uniq('qa');
      assert.equal(await declare(q, { [arg]: str('x') }), refusedByType(q, arg, 'rabbit_classic_queue'));
    }
    const q = uniq('qa');
    assert.equal(await declare(q, { 'x-max-age': str('1D'), 'x-delivery-limit': I(2), 'x-max-in-memory-length': I(1) }),
      refusedByType(q, 'x-max-age', 'rabbit_classic_queue'));
    for (const arg of ['x-queue-master-locator', 'x-ha-policy', 'x-cancel-on-ha-failover', 'x-anything-else']) {
      assert.equal(await declare(uniq('qa'), { [arg]: str('x') }), undefined, `${arg} is accepted`);
    }
    for (const version of [1, 2]) assert.equal(await declare(uniq('qa'), { 'x-queue-version': I(version) }), undefined, `x-queue-version ${version}`);
  });

  test('quorum: refused arguments first (values not looked at), then values, then auto-delete, exclusive, non-durable', async () => {
    const quorum = (extra: TypedTable): TypedTable => ({ 'x-queue-type': str('quorum'), ...extra });
    const cases: Array<[TypedTable, Flags, string]> = [
      [{ 'x-max-priority': str('x') }, { durable: true }, 'x-max-priority'],
      [{ 'x-queue-mode': str('lazy'), 'x-max-priority': I(1) }, { durable: true }, 'x-queue-mode'],
      [{ 'x-queue-master-locator': str('x'), 'x-queue-mode': str('lazy') }, { durable: true }, 'x-queue-master-locator'],
      [{ 'x-max-age': str('1D') }, { durable: true }, 'x-max-age'],
      [{ 'x-max-priority': I(5) }, { exclusive: true, durable: true }, 'x-max-priority'],
      [{ 'x-queue-version': I(2) }, { durable: true }, 'x-queue-version'],
    ];
    for (const [args, flags, arg] of cases) {
      const q = uniq('qq');
      assert.equal(await declare(q, quorum(args), flags), refusedByType(q, arg, 'rabbit_quorum_queue'));
    }
    let q = uniq('qq');
    assert.equal(await declare(q, quorum({ 'x-message-ttl': I(-5) }), {}), refused(q, 'x-message-ttl', '{value_negative,-5}'));
    q = uniq('qq');
    assert.equal(await declare(q, quorum({ 'x-max-in-memory-length': I(-1) }), { durable: true }), refused(q, 'x-max-in-memory-length', '{value_negative,-1}'));
    q = uniq('qq');
    assert.equal(await declare(q, quorum({ 'x-max-in-memory-bytes': str('x') }), { durable: true }), refused(q, 'x-max-in-memory-bytes', '"expected integer, got longstr"'));
    q = uniq('qq');
    assert.equal(await declare(q, quorum({ 'x-quorum-initial-group-size': I(0) }), { durable: true }), refused(q, 'x-quorum-initial-group-size', '{value_zero,0}'));
    q = uniq('qq');
    assert.equal(await declare(q, quorum({ 'x-dead-letter-strategy': str('bogus') }), { durable: true }), refused(q, 'x-dead-letter-strategy', 'invalid_dlx_strategy'));
    const property = (p: string, name: string) => `PRECONDITION_FAILED - invalid property '${p}' for queue '${name}' in vhost '/'`;
    q = uniq('qq');
    assert.equal(await declare(q, quorum({}), { autoDelete: true, exclusive: true }), property('auto-delete', q));
    q = uniq('qq');
    assert.equal(await declare(q, quorum({}), { exclusive: true }), property('exclusive-owner', q));
    q = uniq('qq');
    assert.equal(await declare(q, quorum({}), {}), property('non-durable', q));
    // Arguments a quorum queue accepts.
    q = uniq('qq');
    assert.equal(await declare(q, quorum({ 'x-overflow': str('reject-publish-dlx'), 'x-expires': I(100_000), 'x-single-active-consumer': bool(true) }), { durable: true }), undefined);
    const conn = await openRawChannel(b);
    conn.write(methodFrame(1, 50, 40, new Encoder().u16(0).shortstr(q).bit(false).bit(false).bit(false).done()));
    await conn.expectMethod(50, 41);
  });

  test('redeclare: integer types are equivalent, a string is not; no x-queue-type is classic; quorum-only arguments are compared', async () => {
    const conn = await openRawChannel(b);
    const q = uniq('qr');
    const qq = uniq('qq');
    try {
      await conn.declareQueue(1, q, { autoDelete: true, args: { 'x-max-length': I(5) } });
      await conn.declareQueue(1, q, { autoDelete: true, args: { 'x-max-length': long(5), 'x-queue-type': str('classic') } });
      await conn.declareQueue(1, q, { autoDelete: true, args: { 'x-max-length': { t: 's', v: 5 } } });
      assert.equal(await declare(q, { 'x-max-length': str('5') }, { autoDelete: true }),
        `PRECONDITION_FAILED - inequivalent arg 'x-max-length' for queue '${q}' in vhost '/': received '5' but current is '5'`);
      assert.equal(await declare(q, { 'x-max-length': I(5), 'x-queue-version': I(2) }, { autoDelete: true }),
        `PRECONDITION_FAILED - inequivalent arg 'x-queue-version' for queue '${q}' in vhost '/': received the value '2' of type 'signedint' but current is none`);
      await conn.declareQueue(1, qq, { durable: true, args: { 'x-queue-type': str('quorum'), 'x-delivery-limit': I(1) } });
      assert.equal(await declare(qq, { 'x-queue-type': str('quorum'), 'x-delivery-limit': I(2) }, { durable: true }),
        `PRECONDITION_FAILED - inequivalent arg 'x-delivery-limit' for queue '${qq}' in vhost '/': received '2' but current is '1'`);
      assert.equal(await declare(qq, { 'x-delivery-limit': I(1) }, { durable: true }),
        `PRECONDITION_FAILED - inequivalent arg 'x-queue-type' for queue '${qq}' in vhost '/': received none but current is the value 'quorum' of type 'longstr'`);
    } finally {
      for (const name of [q, qq]) {
        conn.write(methodFrame(1, 50, 40, new Encoder().u16(0).shortstr(name).bit(false).bit(false).bit(false).done()));
        await conn.expectMethod(50, 41);
      }
    }
  });

  test('a double is never an integer argument, even a whole one, and never equivalent to one (1.0e5 in the text)', async () => {
    const double = (v: number): Typed => ({ t: 'd', v });
    for (const arg of ['x-expires', 'x-message-ttl', 'x-max-length', 'x-max-length-bytes', 'x-max-priority']) {
      for (const v of [1000, 0, -1]) {
        const q = uniq('qd');
        assert.equal(await declare(q, { [arg]: double(v) }), refused(q, arg, '"expected integer, got double"'), `${arg} ${v}.0`);
      }
    }
    const conn = await openRawChannel(b);
    const q = uniq('qd');
    try {
      await conn.declareQueue(1, q, { autoDelete: true, args: { 'x-expires': I(100_000), 'x-max-length': long(1000) } });
      assert.equal(await declare(q, { 'x-expires': double(100_000), 'x-max-length': long(1000) }, { autoDelete: true }),
        `PRECONDITION_FAILED - inequivalent arg 'x-expires' for queue '${q}' in vhost '/': received '1.0e5' but current is '100000'`);
      assert.equal(await declare(q, { 'x-expires': I(100_000), 'x-max-length': double(1000.5) }, { autoDelete: true }),
        `PRECONDITION_FAILED - inequivalent arg 'x-max-length' for queue '${q}' in vhost '/': received '1000.5' but current is '1000'`);
    } finally {
      conn.write(methodFrame(1, 50, 40, new Encoder().u16(0).shortstr(q).bit(false).bit(false).bit(false).done()));
      await conn.expectMethod(50, 41);
    }
  });

  test('an exclusive queue declared durable is transient, and redeclaring it either way is equivalent', async () => {
    const conn = await openRawChannel(b);
    const q = uniq('qx');
    await conn.declareQueue(1, q, { exclusive: true, durable: true });
    await conn.declareQueue(1, q, { exclusive: true, durable: false });
    await conn.declareQueue(1, q, { exclusive: true, durable: true });
  });
});
