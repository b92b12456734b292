/**
 * Broker-made property lists (stream deliveries over AMQP 0-9-1, firehose copies, management
 * publishes) are encoded by one shared writer (protocol/properties.ts): each must be a copy of its
 * own, unchanged by the lists encoded after it, whatever their sizes.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readPropertyFields, writePropertyFields, type BasicProperties } from '../src/protocol/properties.js';

test('property lists encoded one after another are independent copies that decode to what was given', () => {
  const given: BasicProperties[] = [];
  const encoded: Buffer[] = [];
  for (let i = 0; i < 500; i++) {
    // Sizes from a few bytes to over a slab, so the shared writer moves to new slabs on the way.
    const props: BasicProperties = i % 3 === 0
      ? { headers: { 'x-stream-offset': i, pad: 'p'.repeat(i * 13) }, deliveryMode: 2 }
      : { contentType: `type-${i}`, messageId: String(i), timestamp: 1_700_000_000 + i };
    given.push(props);
    encoded.push(writePropertyFields(props));
  }
  const snapshot = encoded.map((b) => Buffer.from(b));
  writePropertyFields({ headers: { overwrite: 'x'.repeat(9000) } });
  for (let i = 0; i < encoded.length; i++) {
    assert.ok(encoded[i]!.equals(snapshot[i]!), `list ${i} unchanged by later ones`);
    assert.deepEqual(readPropertyFields(encoded[i]!), given[i], `list ${i} decodes to its properties`);
  }
});
