// Bindings and exchanges where RabbitMQ 3.10.8's rules are easy to get subtly wrong, over the raw
// client: which missing resource a bind reports, how unbind compares arguments (sorted by key, typed),
// unbind on another connection's exclusive queue, exchange.delete if-unused (only bindings the
// exchange is the source of count), and the 406 texts for a non-string alternate-exchange or x-match.
// Observed on RabbitMQ 3.10.8; the file passes there unchanged.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { brokerPerFile, openRawChannel } from './support/broker-per-file.js';
import { uniq } from './support/test-broker.js';
import type { CloseReason, RawConnection } from './support/raw-amqp.js';
import { Encoder, methodFrame, type TypedTable } from './support/raw-codec.js';

const LOCKED = "cannot obtain exclusive access to locked queue '%s' in vhost '/'. It could be originally declared on another connection or the exclusive property value does not match that of the original declaration.";

describe('binding rules', () => {
  const b = brokerPerFile();
  const open = () => openRawChannel(b);
  const bindArgs = (dest: string, source: string, key: string, args: TypedTable | Record<string, unknown> = {}) =>
    new Encoder().u16(0).shortstr(dest).shortstr(source).shortstr(key).bit(false).table(args).done();
  const queueBind = (c: RawConnection, q: string, x: string, key: string, args: TypedTable | Record<string, unknown> = {}) =>
    c.write(methodFrame(1, 50, 20, bindArgs(q, x, key, args)));
  const queueUnbind = (c: RawConnection, q: string, x: string, key: string, args: TypedTable | Record<string, unknown> = {}) =>
    c.write(methodFrame(1, 50, 50, new Encoder().u16(0).shortstr(q).shortstr(x).shortstr(key).table(args).done()));
  const exchangeDeclare = async (c: RawConnection, x: string, type: string, args: TypedTable | Record<string, unknown> = {}) => {
    c.write(methodFrame(1, 40, 10, new Encoder().u16(0).shortstr(x).shortstr(type).bit(false).bit(false).bit(true).bit(false).bit(false).table(args).done()));
  };
  const exchangeDelete = (c: RawConnection, x: string, ifUnused: boolean) =>
    c.write(methodFrame(1, 40, 20, new Encoder().u16(0).shortstr(x).bit(ifUnused).bit(false).done()));
  const close = (code: number, text: string, classId: number, methodId: number): CloseReason => ({ code, text, classId, methodId });
  /** Publishes to amq.headers with header a=1 and says whether the queue got it. */
  const routedByHeaders = async (c: RawConnection, q: string): Promise<boolean> => {
    c.publish(1, 'amq.headers', '', Buffer.from('h'), { headers: { a: 1 } });
    return (await c.get(1, q, true)) !== undefined;
  };

  test('bind with both ends missing reports the source exchange (queue.bind and exchange.bind)', async () => {
    const c = await open();
    const q = uniq('q');
    const x = uniq('x');
    queueBind(c, q, x, 'k');
    assert.deepEqual(await c.expectChannelClose(1), close(404, `NOT_FOUND - no exchange '${x}' in vhost '/'`, 50, 20));
    await c.openChannel(1);
    c.write(methodFrame(1, 40, 30, bindArgs(uniq('dest'), x, 'k')));
    assert.deepEqual(await c.expectChannelClose(1), close(404, `NOT_FOUND - no exchange '${x}' in vhost '/'`, 40, 30));
  });

  test('unbind matches arguments in any key order, but not a value of another type', async () => {
    const c = await open();
    const q = uniq('q');
    await c.declareQueue(1, q, { exclusive: true });
    queueBind(c, q, 'amq.headers', '', { 'x-match': 'any', a: 1, b: 2 });
    await c.expectMethod(50, 21);
    queueUnbind(c, q, 'amq.headers', '', { b: 2, a: 1, 'x-match': 'any' });
    await c.expectMethod(50, 51);
    assert.equal(await routedByHeaders(c, q), false, 'the binding is gone');
    queueBind(c, q, 'amq.headers', '', { 'x-match': 'any', a: 1 });
    await c.expectMethod(50, 21);
    queueUnbind(c, q, 'amq.headers', '', { 'x-match': 'any', a: { t: 'S', v: '1' } });
    await c.expectMethod(50, 51);
    assert.equal(await routedByHeaders(c, q), true, 'a string 1 is not the integer 1: the binding stays');
  });

  test('unbind on another connection\'s exclusive queue: refused only when the binding exists', async () => {
    const owner = await open();
    const q = uniq('q');
    await owner.declareQueue(1, q, { exclusive: true });
    queueBind(owner, q, 'amq.direct', 'k');
    await owner.expectMethod(50, 21);
    const other = await open();
    queueUnbind(other, q, 'amq.direct', 'no-such-key');
    await other.expectMethod(50, 51);
    queueUnbind(other, q, 'amq.direct', 'k');
    assert.deepEqual(await other.expectChannelClose(1), close(405, `RESOURCE_LOCKED - ${LOCKED.replace('%s', q)}`, 50, 50));
  });

  test('exchange.delete if-unused: being the destination of an exchange binding does not count', async () => {
    const c = await open();
    const src = uniq('src');
    const dest = uniq('dest');
    await exchangeDeclare(c, src, 'direct');
    await c.expectMethod(40, 11);
    await exchangeDeclare(c, dest, 'direct');
    await c.expectMethod(40, 11);
    c.write(methodFrame(1, 40, 30, bindArgs(dest, src, 'k')));
    await c.expectMethod(40, 31);
    exchangeDelete(c, src, true);
    assert.deepEqual(await c.expectChannelClose(1), close(406, `PRECONDITION_FAILED - exchange '${src}' in vhost '/' in use`, 40, 20));
    await c.openChannel(1);
    exchangeDelete(c, dest, true);
    await c.expectMethod(40, 21);
    // Deleting the destination took the binding with it, so the source is unused now.
    exchangeDelete(c, src, true);
    await c.expectMethod(40, 21);
  });

  test('a non-string alternate-exchange or x-match → RabbitMQ\'s 406 texts', async () => {
    const c = await open();
    const x = uniq('x');
    await exchangeDeclare(c, x, 'direct', { 'alternate-exchange': 1 });
    assert.deepEqual(await c.expectChannelClose(1),
      close(406, `PRECONDITION_FAILED - invalid type 'signedint' for arg 'alternate-exchange' in exchange '${x}' in vhost '/'`, 40, 10));
    await c.openChannel(1);
    const q = uniq('q');
    await c.declareQueue(1, q, { exclusive: true });
    queueBind(c, q, 'amq.headers', '', { 'x-match': 1 });
    assert.deepEqual(await c.expectChannelClose(1),
      close(406, 'PRECONDITION_FAILED - Invalid x-match field type signedint (value 1); expected longstr', 50, 20));
    await c.openChannel(1);
    queueBind(c, q, 'amq.headers', '', { 'x-match': true });
    assert.deepEqual(await c.expectChannelClose(1),
      close(406, 'PRECONDITION_FAILED - Invalid x-match field type bool (value true); expected longstr', 50, 20));
  });
});
