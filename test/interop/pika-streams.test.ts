// Stream queues (x-queue-type: stream) through Python pika: declaration rules, consumers that read
// without removing from an x-stream-offset, the x-stream-offset header, basic.get refused (540).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { runPython, pythonModuleVersion, theEvent } from './pika/support/python.js';
import { targetBrokerForSuite } from './pika/support/suite.js';
import { assertSucceeded } from './pika/support/scenario.js';

describe(`pika ${pythonModuleVersion('pika')} streams`, () => {
  const broker = targetBrokerForSuite();

  test('stream queue: declare rules, replay from first and from an offset, x-stream-offset header, basic.get 540', async () => {
    const result = await runPython(path.join('pika', 'streams.py'), [], { env: { AMQP_URL: broker.url }, timeoutMs: 60_000 });
    assertSucceeded(result);
    assert.equal(theEvent(result, 'non-durable').reply_code, 406);
    assert.match(String(theEvent(result, 'non-durable').reply_text), /invalid property 'non-durable'/);
    const expected = [0, 1, 2, 3, 4].map((i) => ({ body: `s${i}`, offset: i, i }));
    assert.deepEqual(theEvent(result, 'first').messages, expected);
    assert.deepEqual(theEvent(result, 'first-again').messages, expected, 'a second consumer reads the same messages');
    assert.deepEqual(theEvent(result, 'numeric').messages, expected.slice(3));
    assert.equal(theEvent(result, 'basic-get').reply_code, 540);
    assert.match(String(theEvent(result, 'basic-get').reply_text), /basic.get not supported by stream queues/);
  });
});
