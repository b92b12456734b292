// The interop scenarios written the way an @cloudamqp/amqp-client user writes them.
// Usage: node scenarios.mjs <scenario> <amqp-url> <name-prefix>
// Prints `RESULT {json}` and exits 0; any thrown error exits 1.
import { AMQPClient } from '@cloudamqp/amqp-client';

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
  const connection = await new AMQPClient(url).connect();
  try {
    return await work(connection);
  } finally {
    await connection.close();
  }
}

async function getOne(channel, queue) {
  // basic.get may race the publish on a just-declared queue; poll briefly.
  for (let attempt = 0; attempt < 100; attempt++) {
    const message = await channel.basicGet(queue, { noAck: true });
    if (message) return message;
    await sleep(20);
  }
  throw new Error(`no message in ${queue}`);
}

const scenarios = {
  async connect() {
    return withConnection(async (connection) => {
      const channel = await connection.channel();
      const { name } = await channel.queueDeclare('', { exclusive: true });
      await channel.basicPublish('', name, 'hello');
      return { body: (await getOne(channel, name)).bodyString() };
    });
  },

  async 'declare-bind'() {
    return withConnection(async (connection) => {
      const channel = await connection.channel();
      const exchange = `${prefix}.topic`;
      await channel.exchangeDeclare(exchange, 'topic', { durable: false });
      const { name } = await channel.queueDeclare('', { exclusive: true });
      await channel.queueBind(name, exchange, 'a.*.c');
      await channel.basicPublish(exchange, 'x.y.z', 'nomatch');
      await channel.basicPublish(exchange, 'a.b.c', 'match');
      const received = [(await getOne(channel, name)).bodyString()];
      await sleep(100);
      for (let m; (m = await channel.basicGet(name, { noAck: true })); ) received.push(m.bodyString());
      await channel.exchangeDelete(exchange);
      return { received };
    });
  },

  async properties() {
    return withConnection(async (connection) => {
      const channel = await connection.channel();
      const { name } = await channel.queueDeclare('', { exclusive: true });
      await channel.basicPublish('', name, '{"hello":"world"}', {
        contentType: 'application/json',
        contentEncoding: 'utf-8',
        headers: { 'x-str': 'hello', 'x-int': 42, 'x-bool': true },
        deliveryMode: 2,
        priority: 5,
        correlationId: 'corr-1',
        replyTo: 'reply.queue',
        expiration: '60000',
        messageId: 'msg-1',
        timestamp: new Date(1700000000 * 1000),
        type: 'interop.test',
        appId: 'interop',
      });
      const message = await getOne(channel, name);
      const p = message.properties;
      return {
        body: message.bodyString(),
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
          timestamp: p.timestamp ? p.timestamp.getTime() / 1000 : undefined,
          type: p.type,
          app_id: p.appId,
        },
      };
    });
  },

  async prefetch() {
    return withConnection(async (connection) => {
      const channel = await connection.channel();
      // Server-named queues are auto-delete by default in this client: keep it past basic.cancel.
      const { name } = await channel.queueDeclare('', { exclusive: true, autoDelete: false });
      for (let i = 1; i <= 5; i++) await channel.basicPublish('', name, `m${i}`);
      await channel.basicQos(2);
      const inFlight = [];
      const received = [];
      let maxInFlight = 0;
      const consumer = await channel.basicConsume(name, { noAck: false }, (message) => {
        inFlight.push(message);
      });
      while (received.length < 5) {
        // Prefetch 2 means two deliveries at once (fewer only at the end)...
        await waitFor(() => inFlight.length >= Math.min(2, 5 - received.length), 'the prefetch window to fill');
        // ...and never more: leave time for any beyond the window to show up.
        await sleep(200);
        maxInFlight = Math.max(maxInFlight, inFlight.length);
        for (const message of inFlight.splice(0)) {
          received.push(message.bodyString());
          await message.ack();
        }
      }
      await consumer.cancel();
      const { messageCount } = await channel.queueDeclare(name, { passive: true });
      return { received, maxInFlight, remaining: messageCount };
    });
  },

  async confirms() {
    return withConnection(async (connection) => {
      const channel = await connection.channel();
      const { name } = await channel.queueDeclare('', { exclusive: true });
      let returned;
      channel.onReturn = (message) => {
        returned = { code: message.replyCode, text: message.replyText };
      };
      await channel.confirmSelect();
      // In confirm mode basicPublish resolves on basic.ack and rejects on basic.nack.
      const outcomes = await Promise.allSettled(
        Array.from({ length: 10 }, (_, i) => channel.basicPublish('', name, `c${i + 1}`, { deliveryMode: 2 })),
      );
      await channel.basicPublish('amq.direct', `${prefix}.unbound`, 'nobody', {}, true);
      await waitFor(() => returned !== undefined, 'basic.return');
      const { messageCount } = await channel.queueDeclare(name, { passive: true });
      return {
        acked: outcomes.filter((o) => o.status === 'fulfilled').length,
        nacked: outcomes.filter((o) => o.status === 'rejected').length,
        queued: messageCount,
        returned,
      };
    });
  },

  async rpc() {
    return withConnection(async (connection) => {
      // Server side: answers each request on its reply_to, echoing correlation_id.
      const server = await connection.channel();
      const rpcQueue = `${prefix}.rpc`;
      await server.queueDeclare(rpcQueue, { exclusive: true });
      await server.basicConsume(rpcQueue, { noAck: false }, async (request) => {
        const n = request.bodyString().split(' ')[1];
        await server.basicPublish('', request.properties.replyTo, `PONG ${n}`, {
          correlationId: request.properties.correlationId,
        });
        await request.ack();
      });
      // Client side: a private reply queue, requests tagged with correlation ids.
      const client = await connection.channel();
      const { name: replyQueue } = await client.queueDeclare('', { exclusive: true });
      const replies = [];
      await client.basicConsume(replyQueue, { noAck: true }, (reply) => {
        replies.push({ correlation_id: reply.properties.correlationId, body: reply.bodyString() });
      });
      for (let i = 1; i <= 3; i++) {
        await client.basicPublish('', rpcQueue, `PING ${i}`, { replyTo: replyQueue, correlationId: `c${i}` });
      }
      await waitFor(() => replies.length === 3, 'three replies');
      replies.sort((a, b) => a.correlation_id.localeCompare(b.correlation_id));
      return { replies };
    });
  },

  async 'error-404'() {
    return withConnection(async (connection) => {
      const channel = await connection.channel();
      let code;
      let text;
      try {
        await channel.exchangeDeclare(`${prefix}.missing`, 'direct', { passive: true });
        throw new Error('passive declare of a missing exchange succeeded');
      } catch (error) {
        // amqp-client reports: channel <id> closed: <reply text> (<code>)
        const match = /closed: (.*) \((\d+)\)$/.exec(error.message);
        if (!match) throw error;
        text = match[1];
        code = Number(match[2]);
      }
      const fresh = await connection.channel();
      await fresh.queueDeclare('', { exclusive: true });
      return { code, text, recovered: true };
    });
  },
};

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
