// The scenarios every client must pass and what a correct outcome looks like.
// The expectations are what RabbitMQ 3.10 gives each client; a program reports
// what its client library handed it, normalised to the JSON shapes below.
import assert from 'node:assert/strict';

export const scenarioNames = [
  'connect',
  'declare-bind',
  'properties',
  'prefetch',
  'confirms',
  'rpc',
  'error-404',
] as const;
export type ScenarioName = (typeof scenarioNames)[number];

/** connect: declare a server-named queue, publish "hello" to it, basic.get it back. */
export function assertConnect(result: Record<string, unknown>): void {
  assert.deepEqual(result, { body: 'hello' });
}

/** declare-bind: topic exchange, queue bound with `a.*.c`; only `a.b.c` is routed. */
export function assertDeclareBind(result: Record<string, unknown>): void {
  assert.deepEqual(result, { received: ['match'] });
}

/**
 * properties: every basic property set by the publisher arrives unchanged.
 * Property names follow the AMQP spec (snake_case); timestamp is in seconds.
 */
export const expectedProperties = {
  content_type: 'application/json',
  content_encoding: 'utf-8',
  headers: { 'x-str': 'hello', 'x-int': 42, 'x-bool': true },
  delivery_mode: 2,
  priority: 5,
  correlation_id: 'corr-1',
  reply_to: 'reply.queue',
  expiration: '60000',
  message_id: 'msg-1',
  timestamp: 1700000000,
  type: 'interop.test',
  app_id: 'interop',
};
export const expectedPropertiesBody = '{"hello":"world"}';

export function assertProperties(result: Record<string, unknown>): void {
  assert.deepEqual(result, { body: expectedPropertiesBody, properties: expectedProperties });
}

/**
 * prefetch: basic.qos(2), 5 messages, manual acks. The consumer never holds
 * more than 2 unacknowledged deliveries, gets all 5 in order, and after the
 * acks the queue is empty.
 */
export function assertPrefetch(result: Record<string, unknown>): void {
  assert.deepEqual(result, { received: ['m1', 'm2', 'm3', 'm4', 'm5'], maxInFlight: 2, remaining: 0 });
}

/**
 * confirms: confirm.select, 10 persistent publishes all acked (none nacked)
 * and all queued; one mandatory publish to an unbound routing key comes back
 * as basic.return 312 NO_ROUTE.
 */
export function assertConfirms(result: Record<string, unknown>): void {
  assert.deepEqual(result, { acked: 10, nacked: 0, queued: 10, returned: { code: 312, text: 'NO_ROUTE' } });
}

/** rpc: three requests through reply_to + correlation_id, each answered by the server side. */
export function assertRpc(result: Record<string, unknown>): void {
  assert.deepEqual(result, {
    replies: [
      { correlation_id: 'c1', body: 'PONG 1' },
      { correlation_id: 'c2', body: 'PONG 2' },
      { correlation_id: 'c3', body: 'PONG 3' },
    ],
  });
}

/**
 * error-404: exchange.declare(passive) of a missing exchange is refused with
 * channel.close 404 and RabbitMQ's reply text; the connection survives and a
 * new channel works.
 */
export function assertError404(result: Record<string, unknown>, prefix: string, vhost = '/'): void {
  assert.deepEqual(result, {
    code: 404,
    text: `NOT_FOUND - no exchange '${prefix}.missing' in vhost '${vhost}'`,
    recovered: true,
  });
}
