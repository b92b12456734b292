// The per-message `expiration` property is validated on publish as RabbitMQ does (Erlang's
// string:to_integer, 0 ≤ TTL ≤ ten years): an invalid value closes the channel with 406 and
// RabbitMQ's text naming the reason, including its line-wrapped Erlang term and 255-byte cut. Expiry
// happens at the head of the queue only, and a basic.get's message count leaves out what expired there.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { brokerPerFile } from './support/broker-per-file.js';
import { uniq } from './support/test-broker.js';
import { channel, connect, expectChannelError } from './support/amqp-client.js';

const invalid: Array<[string, string]> = [
  ['abc', "invalid expiration 'abc': no_integer"],
  ['', "invalid expiration '': no_integer"],
  [' 10', "invalid expiration ' 10': no_integer"],
  ['-1', "invalid expiration '-1': {value_negative,-1}"],
  ['1.5', 'invalid expiration \'1.5\': {leftover_string,".5"}'],
  ['10x', 'invalid expiration \'10x\': {leftover_string,"x"}'],
  ['315360000001', "invalid expiration '315360000001': {value_too_large,315360000001}"],
  // Erlang's ~p moves the value to a second line once the term would reach column 78.
  ['999999999999999999', "invalid expiration '999999999999999999': {value_too_large,999999999999999999}"],
  ['9999999999999999999', `invalid expiration '9999999999999999999': {value_too_large,\n${' '.repeat(43)}9999999999999999999}`],
  ['1111111111111111111111111111111111x', `invalid expiration '1111111111111111111111111111111111x': {leftover_string,\n${' '.repeat(59)}"x"}`],
];

describe('message expiration property', () => {
  const b = brokerPerFile();

  for (const [expiration, text] of invalid) {
    test(`expiration '${expiration}' → 406 PRECONDITION_FAILED`, async () => {
      const conn = await connect(b.url);
      const ch = await channel(conn);
      await expectChannelError(conn, ch, () => ch.publish('amq.direct', 'nowhere', Buffer.from('x'), { expiration }), 406, `PRECONDITION_FAILED - ${text}`);
    });
  }

  test('a reply text longer than 255 bytes keeps 252 and ends in "..."', async () => {
    const conn = await connect(b.url);
    const ch = await channel(conn);
    const expiration = `1${'x'.repeat(100)}`;
    const full = `PRECONDITION_FAILED - invalid expiration '${expiration}': {leftover_string,\n${' '.repeat(88)}"${'x'.repeat(100)}"}`;
    await expectChannelError(conn, ch, () => ch.publish('amq.direct', 'nowhere', Buffer.from('x'), { expiration }), 406, `${full.slice(0, 252)}...`);
  });

  test('valid forms are accepted and delivered: sign, leading zeros, zero, the ten-year maximum', async () => {
    const conn = await connect(b.url);
    const ch = await channel(conn);
    const q = (await ch.assertQueue(uniq('exp'), { exclusive: true })).queue;
    const valid = ['+60000', '-0', '0100000', '315360000000', '60000'];
    for (const expiration of valid) ch.sendToQueue(q, Buffer.from(expiration), { expiration });
    const got: string[] = [];
    for (const _ of valid) {
      const m = await ch.get(q, { noAck: true });
      if (m) got.push(m.content.toString());
    }
    // '-0' is a TTL of 0: expired at once with no consumer waiting, as any TTL-0 message.
    assert.deepEqual(got, ['+60000', '0100000', '315360000000', '60000']);
  });

  test('an expired message reached by a basic.get goes before get-ok counts the rest (RabbitMQ 3.10.8)', async () => {
    const conn = await connect(b.url);
    const ch = await channel(conn);
    const q = uniq('ttl-head');
    await ch.assertQueue(q, { exclusive: true });
    ch.sendToQueue(q, Buffer.from('A'), { expiration: '60000' });
    ch.sendToQueue(q, Buffer.from('B'), { expiration: '10' });
    // Only the head expires: B waits behind A until A is taken.
    await new Promise((r) => setTimeout(r, 200));
    assert.equal((await ch.checkQueue(q)).messageCount, 2);
    const a = await ch.get(q, { noAck: true });
    assert.ok(a);
    assert.equal(a.content.toString(), 'A');
    assert.equal(a.fields.messageCount, 0, 'B expired once it was at the head');
    assert.equal(await ch.get(q, { noAck: true }), false);
  });
});
