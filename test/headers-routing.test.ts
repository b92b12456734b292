// Headers exchange matching: x-match all (the default) and any, RabbitMQ's all-with-x / any-with-x,
// x- keys ignored by all/any, value types, and a binding with no headers to match.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { brokerPerFile } from './support/broker-per-file.js';
import { uniq } from './support/test-broker.js';
import { channel, connect, drain, expectChannelError, type Channel } from './support/amqp-client.js';
import { RawConnection } from './support/raw-amqp.js';
import { Encoder, methodFrame, type TypedTable } from './support/raw-codec.js';

describe('headers routing', () => {
  const b = brokerPerFile();

  /** Binds one queue per binding-argument table, publishes each header table, returns what each queue got. */
  async function route(bindings: Record<string, unknown>[], messages: Record<string, unknown>[]): Promise<{ ch: Channel; got: number[][] }> {
    const conn = await connect(b.url);
    const ch = await channel(conn);
    const x = uniq('hdr');
    await ch.assertExchange(x, 'headers', { durable: false, autoDelete: true });
    const queues: string[] = [];
    for (const args of bindings) {
      const q = (await ch.assertQueue('', { exclusive: true })).queue;
      await ch.bindQueue(q, x, '', args);
      queues.push(q);
    }
    messages.forEach((headers, i) => ch.publish(x, 'ignored', Buffer.from(String(i)), { headers }));
    const got: number[][] = [];
    for (const q of queues) got.push((await drain(ch, q)).map(Number));
    return { ch, got };
  }

  test('x-match all (the default) needs every binding header; any needs one', async () => {
    const { got } = await route(
      [
        { format: 'pdf', type: 'report' },
        { 'x-match': 'all', format: 'pdf', type: 'report' },
        { 'x-match': 'any', format: 'pdf', type: 'report' },
      ],
      [
        { format: 'pdf', type: 'report' },
        { format: 'pdf', type: 'log' },
        { format: 'pdf' },
        { type: 'report', extra: 1 },
        {},
        { format: 'zip', type: 'log' },
      ],
    );
    assert.deepEqual(got, [[0], [0], [0, 1, 2, 3]]);
  });

  test('keys starting with x- are ignored by all/any and compared by all-with-x/any-with-x', async () => {
    const { got } = await route(
      [
        { 'x-match': 'all', 'x-tenant': 'a', kind: 'k' },
        { 'x-match': 'all-with-x', 'x-tenant': 'a', kind: 'k' },
        { 'x-match': 'any', 'x-tenant': 'a' },
        { 'x-match': 'any-with-x', 'x-tenant': 'a', kind: 'zzz' },
      ],
      [
        { 'x-tenant': 'a', kind: 'k' },
        { 'x-tenant': 'b', kind: 'k' },
        { kind: 'k' },
        { 'x-tenant': 'a' },
      ],
    );
    assert.deepEqual(got, [[0, 1, 2], [0], [], [0, 3]]);
  });

  test('values must be equal, not just present; a string never equals a number', async () => {
    const { got } = await route(
      [{ n: 42 }, { s: '42' }, { flag: true }],
      [{ n: 42 }, { n: '42' }, { n: 43 }, { s: '42' }, { s: 42 }, { flag: true }, { flag: false }],
    );
    assert.deepEqual(got, [[0], [3], [5]]);
  });

  test('a binding with no headers to match: all matches everything, any matches nothing', async () => {
    const { got } = await route([{}, { 'x-match': 'any' }], [{ a: 1 }, {}]);
    assert.deepEqual(got, [[0, 1], []]);
  });

  test('amq.match is a headers exchange', async () => {
    const conn = await connect(b.url);
    const ch = await channel(conn);
    const q = (await ch.assertQueue('', { exclusive: true })).queue;
    await ch.bindQueue(q, 'amq.match', '', { 'x-match': 'all', route: q });
    ch.publish('amq.match', '', Buffer.from('hit'), { headers: { route: q } });
    ch.publish('amq.match', '', Buffer.from('miss'), { headers: { route: 'other' } });
    assert.deepEqual(await drain(ch, q), ['hit']);
    await ch.unbindQueue(q, 'amq.match', '', { 'x-match': 'all', route: q });
  });

  test('an invalid x-match value → 406 PRECONDITION_FAILED on bind', async () => {
    const conn = await connect(b.url);
    const ch = await channel(conn);
    const q = (await ch.assertQueue('', { exclusive: true })).queue;
    await expectChannelError(conn, ch, () => ch.bindQueue(q, 'amq.headers', '', { 'x-match': 'some' }), 406,
      'PRECONDITION_FAILED - Invalid x-match field value <<"some">>; expected all, any, all-with-x, or any-with-x');
  });

  // Observed on RabbitMQ 3.10.8: values compare as numbers / bytes regardless of the field type they
  // were encoded with (pika sends 'l', amqplib 'b'/'s'/'I'/'d'...), and a void binding value matches any value.
  test('typed values (raw): integers of any width and a double compare equal; void matches presence; strings compare as bytes', async () => {
    const { conn: r } = await RawConnection.handshake(b.host, b.port);
    try {
      await r.openChannel(1);
      const bindings: Record<string, TypedTable> = {
        int: { n: { t: 'I', v: 42 } },
        void: { flag: { t: 'V' } },
        double: { f: { t: 'd', v: 1.5 } },
        string: { s: { t: 'S', v: 'x' } },
        bool: { b: { t: 't', v: true } },
      };
      const messages: TypedTable[] = [
        { n: { t: 'l', v: 42n } }, { n: { t: 'b', v: 42 } }, { n: { t: 'd', v: 42.0 } }, { n: { t: 'S', v: '42' } }, { n: { t: 'u', v: 42 } },
        { flag: { t: 'S', v: 'any' } }, { flag: { t: 'V' } }, {},
        { f: { t: 'f', v: 1.5 } }, { f: { t: 'd', v: 1.5 } },
        { s: { t: 'x', v: Buffer.from('x') } }, { s: { t: 'S', v: 'x' } },
        { b: { t: 'b', v: 1 } }, { b: { t: 't', v: true } },
      ];
      const queues: Record<string, string> = {};
      for (const [name, args] of Object.entries(bindings)) {
        const q = await r.declareQueue(1, '', { exclusive: true });
        r.write(methodFrame(1, 50, 20, new Encoder().u16(0).shortstr(q).shortstr('amq.headers').shortstr('').bit(false)
          .table({ 'x-match': { t: 'S', v: 'all' }, ...args }).done()));
        await r.expectMethod(50, 21);
        queues[name] = q;
      }
      messages.forEach((headers, i) => r.publish(1, 'amq.headers', '', Buffer.from(String(i)), { headers }));
      const got: Record<string, number[]> = {};
      for (const [name, q] of Object.entries(queues)) {
        got[name] = [];
        for (let m = await r.get(1, q); m; m = await r.get(1, q)) got[name]!.push(Number(m.body.toString()));
      }
      assert.deepEqual(got, { int: [0, 1, 2, 4], void: [5, 6], double: [8, 9], string: [10, 11], bool: [13] });
    } finally {
      r.destroy();
    }
  });
});
