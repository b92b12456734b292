// The interop scenarios written the way an amqplib user writes them (promise API).
// Usage: node scenarios.mjs <scenario> <amqp-url> <name-prefix>
// Prints `RESULT {json}` and exits 0; any thrown error exits 1.
import amqp from 'amqplib';

const [scenario, url, prefix] = process.argv.slice(2);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitFor(condition, what, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

async function withConnection(work) {
  const connection = await amqp.connect(url);
  try {
    return await work(connection);
  } finally {
    await connection.close();
  }
}

const scenarios = {
  async connect() {
    return withConnection(async (connection) => {
      const channel = await connection.createChannel();
      const { queue } = await channel.assertQueue('', { exclusive: true });
      channel.sendToQueue(queue, Buffer.from('hello'));
      const message = await getOne(channel, queue);
      return { body: message.content.toString() };
    });
  },

  async 'declare-bind'() {
    return withConnection(async (connection) => {
      const channel = await connection.createChannel();
      const exchange = `${prefix}.topic`;
      await channel.assertExchange(exchange, 'topic', { durable: false });
      const { queue } = await channel.assertQueue('', { exclusive: true });
      await channel.bindQueue(queue, exchange, 'a.*.c');
      channel.publish(exchange, 'x.y.z', Buffer.from('nomatch'));
      channel.publish(exchange, 'a.b.c', Buffer.from('match'));
      const received = await drain(channel, queue, 1);
      await channel.deleteExchange(exchange);
      return { received };
    });
  },

  async properties() {
    return withConnection(async (connection) => {
      const channel = await connection.createChannel();
      const { queue } = await channel.assertQueue('', { exclusive: true });
      channel.sendToQueue(queue, Buffer.from('{"hello":"world"}'), {
        contentType: 'application/json',
        contentEncoding: 'utf-8',
        headers: { 'x-str': 'hello', 'x-int': 42, 'x-bool': true },
        deliveryMode: 2,
        priority: 5,
        correlationId: 'corr-1',
        replyTo: 'reply.queue',
        expiration: '60000',
        messageId: 'msg-1',
        timestamp: 1700000000,
        type: 'interop.test',
        appId: 'interop',
      });
      const message = await getOne(channel, queue);
      const p = message.properties;
      return {
        body: message.content.toString(),
        properties: {
          content_type: p.contentType,
          content_encoding: p.contentEncoding,
          headers: p.headers,
          delivery_mode: p.deliveryMode,
          priority: p.priority,
          correlation_id: p.correlationId,
          reply_to: p.replyTo,
          expiration: p.expiration,
          message_id: p.messageId,
          timestamp: p.timestamp,
          type: p.type,
          app_id: p.appId,
        },
      };
    });
  },

  async prefetch() {
    return withConnection(async (connection) => {
      const channel = await connection.createChannel();
      const { queue } = await channel.assertQueue('', { exclusive: true });
      for (let i = 1; i <= 5; i++) channel.sendToQueue(queue, Buffer.from(`m${i}`));
      await channel.prefetch(2);
      const inFlight = [];
      const received = [];
      let maxInFlight = 0;
      const { consumerTag } = await channel.consume(queue, (message) => inFlight.push(message), { noAck: false });
      while (received.length < 5) {
        // Prefetch 2 means two deliveries at once (fewer only at the end)...
        await waitFor(() => inFlight.length >= Math.min(2, 5 - received.length), 'the prefetch window to fill');
        // ...and never more: leave time for any beyond the window to show up.
        await sleep(200);
        maxInFlight = Math.max(maxInFlight, inFlight.length);
        for (const message of inFlight.splice(0)) {
          received.push(message.content.toString());
          channel.ack(message);
        }
      }
      await channel.cancel(consumerTag);
      const { messageCount } = await channel.checkQueue(queue);
      return { received, maxInFlight, remaining: messageCount };
    });
  },

  async confirms() {
    return withConnection(async (connection) => {
      const channel = await connection.createConfirmChannel();
      const { queue } = await channel.assertQueue('', { exclusive: true });
      let returned;
      channel.on('return', (message) => {
        returned = { code: message.fields.replyCode, text: message.fields.replyText };
      });
      let acked = 0;
      let nacked = 0;
      const confirmations = [];
      for (let i = 1; i <= 10; i++) {
        confirmations.push(
          new Promise((resolve) =>
            channel.sendToQueue(queue, Buffer.from(`c${i}`), { persistent: true }, (error) => {
              if (error) nacked++;
              else acked++;
              resolve();
            }),
          ),
        );
      }
      channel.publish('amq.direct', `${prefix}.unbound`, Buffer.from('nobody'), { mandatory: true });
      await Promise.all(confirmations);
      await channel.waitForConfirms();
      await waitFor(() => returned !== undefined, 'basic.return');
      const { messageCount } = await channel.checkQueue(queue);
      return { acked, nacked, queued: messageCount, returned };
    });
  },

  async rpc() {
    return withConnection(async (connection) => {
      // Server side: answers each request on its reply_to, echoing correlation_id.
      const server = await connection.createChannel();
      const rpcQueue = `${prefix}.rpc`;
      await server.assertQueue(rpcQueue, { exclusive: true });
      await server.consume(rpcQueue, (request) => {
        const n = request.content.toString().split(' ')[1];
        server.sendToQueue(request.properties.replyTo, Buffer.from(`PONG ${n}`), {
          correlationId: request.properties.correlationId,
        });
        server.ack(request);
      });
      // Client side: a private reply queue, requests tagged with correlation ids.
      const client = await connection.createChannel();
      const { queue: replyQueue } = await client.assertQueue('', { exclusive: true });
      const replies = [];
      await client.consume(replyQueue, (reply) => {
        replies.push({ correlation_id: reply.properties.correlationId, body: reply.content.toString() });
      }, { noAck: true });
      for (let i = 1; i <= 3; i++) {
        client.sendToQueue(rpcQueue, Buffer.from(`PING ${i}`), { replyTo: replyQueue, correlationId: `c${i}` });
      }
      await waitFor(() => replies.length === 3, 'three replies');
      replies.sort((a, b) => a.correlation_id.localeCompare(b.correlation_id));
      return { replies };
    });
  },

  async 'error-404'() {
    return withConnection(async (connection) => {
      const channel = await connection.createChannel();
      channel.on('error', () => {}); // the failure is read from the rejected promise
      let code;
      let text;
      try {
        await channel.checkExchange(`${prefix}.missing`);
        throw new Error('checkExchange of a missing exchange succeeded');
      } catch (error) {
        code = error.code;
        // amqplib reports: Operation failed: ExchangeDeclare; 404 (NOT-FOUND) with message "<reply text>"
        text = /with message "(.*)"$/.exec(error.message)?.[1] ?? error.message;
      }
      const fresh = await connection.createChannel();
      await fresh.assertQueue('', { exclusive: true });
      return { code, text, recovered: true };
    });
  },
};

async function getOne(channel, queue) {
  // basic.get may race the publish on a just-declared queue; poll briefly.
  for (let attempt = 0; attempt < 100; attempt++) {
    const message = await channel.get(queue, { noAck: true });
    if (message) return message;
    await sleep(20);
  }
  throw new Error(`no message in ${queue}`);
}

async function drain(channel, queue, expected) {
  const bodies = [(await getOne(channel, queue)).content.toString()];
  while (bodies.length < expected + 1) {
    await sleep(100);
    const message = await channel.get(queue, { noAck: true });
    if (!message) break;
    bodies.push(message.content.toString());
  }
  return bodies;
}

const run = scenarios[scenario];
if (!run) {
  console.error(`unknown scenario ${scenario}; known: ${Object.keys(scenarios).join(', ')}`);
  process.exit(2);
}
try {
  const result = await run();
  console.log(`RESULT ${JSON.stringify(result)}`);
} catch (error) {
  console.error(error?.stack ?? error);
  process.exit(1);
}
