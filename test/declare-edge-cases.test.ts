// Small RabbitMQ 3.10.8 rules around names and declares, over the raw client: CR and LF dropped from
// declared and deleted names, declares of the direct reply-to pseudo-queue and of reply addresses,
// the queue.bind shortcut (no queue, no key: the last queue's name is the key), an unknown exchange
// type refused before the name is looked up, amq.default as a system exchange, a stream offset for a
// classic queue's consumer, and no exclusive consumer on a single-active-consumer queue. Observed on
// RabbitMQ 3.10.8; passes there unchanged.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { brokerPerFile, openRawChannel } from './support/broker-per-file.js';
import { uniq } from './support/test-broker.js';
import { basicConsumeArgs, queueDeclareArgs, type CloseReason, type RawConnection } from './support/raw-amqp.js';
import { Encoder, methodFrame } from './support/raw-codec.js';

describe('declare edge cases', () => {
  const b = brokerPerFile();
  const open = () => openRawChannel(b);
  const close = (code: number, text: string, classId: number, methodId: number): CloseReason => ({ code, text, classId, methodId });
  const declareOk = async (c: RawConnection, name: string, flags: Parameters<typeof queueDeclareArgs>[1]) => {
    c.write(methodFrame(1, 50, 10, queueDeclareArgs(name, flags)));
    const ok = await c.expectMethod(50, 11);
    return { queue: ok.args.shortstr(), messages: ok.args.u32(), consumers: ok.args.u32() };
  };
  const exchangeDeclare = (c: RawConnection, name: string, type: string, passive = false) =>
    c.write(methodFrame(1, 40, 10, new Encoder().u16(0).shortstr(name).shortstr(type).bit(passive).bit(false).bit(true).bit(false).bit(false).table({}).done()));

  test('CR and LF are dropped from the names of declared and deleted queues and exchanges', async () => {
    const c = await open();
    const q = uniq('q');
    assert.equal((await declareOk(c, `${q}\r\n`, { exclusive: true })).queue, q);
    assert.equal((await declareOk(c, q, { passive: true })).queue, q);
    const x = uniq('x');
    exchangeDeclare(c, `\n${x}`, 'fanout');
    await c.expectMethod(40, 11);
    exchangeDeclare(c, x, 'fanout', true);
    await c.expectMethod(40, 11);
    c.write(methodFrame(1, 40, 20, new Encoder().u16(0).shortstr(`${x}\r`).bit(false).bit(false).done()));
    await c.expectMethod(40, 21);
    exchangeDeclare(c, x, 'fanout', true);
    assert.deepEqual(await c.expectChannelClose(1), close(404, `NOT_FOUND - no exchange '${x}' in vhost '/'`, 40, 10));
  });

  test('declaring amq.rabbitmq.reply-to (passive or not) says 1 consumer; an unknown reply address is 404', async () => {
    const c = await open();
    assert.deepEqual(await declareOk(c, 'amq.rabbitmq.reply-to', {}), { queue: 'amq.rabbitmq.reply-to', messages: 0, consumers: 1 });
    assert.deepEqual(await declareOk(c, 'amq.rabbitmq.reply-to', { passive: true }), { queue: 'amq.rabbitmq.reply-to', messages: 0, consumers: 1 });
    const address = 'amq.rabbitmq.reply-to.g2dkAA1yYWJiaXRAbG9jYWxob3N0AAAAAAAAAAAA';
    c.write(methodFrame(1, 50, 10, queueDeclareArgs(address, { passive: true })));
    assert.deepEqual(await c.expectChannelClose(1), close(404, `NOT_FOUND - no queue '${address}' in vhost '/'`, 50, 10));
  });

  test('queue.bind with no queue name and no routing key binds the last queue with its name as key', async () => {
    const c = await open();
    const q = uniq('q');
    await declareOk(c, q, { exclusive: true });
    c.write(methodFrame(1, 50, 20, new Encoder().u16(0).shortstr('').shortstr('amq.direct').shortstr('').bit(false).table({}).done()));
    await c.expectMethod(50, 21);
    c.publish(1, 'amq.direct', q, Buffer.from('by name'));
    const m = await c.get(1, q, true);
    assert.equal(m?.body.toString(), 'by name');
  });

  test('an unknown exchange type is refused (503) before the name is looked up; amq.default is a system exchange', async () => {
    let c = await open();
    exchangeDeclare(c, 'amq.direct', '');
    assert.deepEqual(await c.expectConnectionClose(), close(503, "COMMAND_INVALID - invalid exchange type ''", 40, 10));
    c = await open();
    c.write(methodFrame(1, 40, 20, new Encoder().u16(0).shortstr('amq.default').bit(false).bit(false).done()));
    assert.deepEqual(await c.expectChannelClose(1),
      close(403, "ACCESS_REFUSED - deletion of system exchange 'amq.default' in vhost '/' not allowed", 40, 20));
  });

  test('x-stream-offset on a classic queue\'s consumer → 406 naming the queue type', async () => {
    const c = await open();
    const q = uniq('q');
    await declareOk(c, q, { exclusive: true });
    c.write(methodFrame(1, 60, 20, new Encoder().u16(0).shortstr(q).shortstr('').bit(false).bit(false).bit(false).bit(false)
      .table({ 'x-stream-offset': 'first' }).done()));
    assert.deepEqual(await c.expectChannelClose(1),
      close(406, `PRECONDITION_FAILED - invalid arg 'x-stream-offset' for queue '${q}' in vhost '/' of queue type rabbit_classic_queue`, 60, 20));
  });

  test('a single-active-consumer queue takes no exclusive consumer', async () => {
    const c = await open();
    const q = uniq('sac');
    await declareOk(c, q, { exclusive: true, args: { 'x-single-active-consumer': true } });
    c.write(methodFrame(1, 60, 20, basicConsumeArgs(q, 'only', false, true)));
    assert.deepEqual(await c.expectChannelClose(1), close(403, `ACCESS_REFUSED - queue '${q}' in vhost '/' in exclusive use`, 60, 20));
  });
});
