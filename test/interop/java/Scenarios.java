// The interop scenarios written the way a RabbitMQ Java client user writes them.
// Usage: java -cp <classes>:<amqp-client.jar>:... Scenarios <scenario> <amqp-url> <name-prefix>
// Prints `RESULT {json}` and exits 0; any exception exits 1.
import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.ConfirmListener;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import com.rabbitmq.client.DefaultConsumer;
import com.rabbitmq.client.Envelope;
import com.rabbitmq.client.GetResponse;
import com.rabbitmq.client.ShutdownSignalException;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentSkipListSet;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

public final class Scenarios {
    interface Scenario {
        Map<String, Object> run(Connection connection) throws Exception;
    }

    private static String prefix;

    public static void main(String[] args) {
        if (args.length != 3) {
            System.err.println("usage: Scenarios <scenario> <amqp-url> <name-prefix>");
            System.exit(2);
        }
        prefix = args[2];
        Map<String, Scenario> scenarios = new LinkedHashMap<>();
        scenarios.put("connect", Scenarios::connect);
        scenarios.put("declare-bind", Scenarios::declareBind);
        scenarios.put("properties", Scenarios::properties);
        scenarios.put("prefetch", Scenarios::prefetch);
        scenarios.put("confirms", Scenarios::confirms);
        scenarios.put("rpc", Scenarios::rpc);
        scenarios.put("error-404", Scenarios::error404);
        Scenario scenario = scenarios.get(args[0]);
        if (scenario == null) {
            System.err.println("unknown scenario " + args[0] + "; known: " + scenarios.keySet());
            System.exit(2);
        }
        try {
            ConnectionFactory factory = new ConnectionFactory();
            factory.setUri(args[1]);
            try (Connection connection = factory.newConnection()) {
                Map<String, Object> result = scenario.run(connection);
                System.out.println("RESULT " + Json.encode(result));
            }
            System.exit(0);
        } catch (Exception e) {
            e.printStackTrace();
            System.exit(1);
        }
    }

    private static String text(byte[] body) {
        return new String(body, StandardCharsets.UTF_8);
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static String exclusiveQueue(Channel channel) throws IOException {
        return channel.queueDeclare("", false, true, false, null).getQueue();
    }

    /** basic.get may race the publish on a just-declared queue; poll briefly. */
    private static GetResponse getOne(Channel channel, String queue) throws Exception {
        for (int attempt = 0; attempt < 100; attempt++) {
            GetResponse response = channel.basicGet(queue, true);
            if (response != null) return response;
            Thread.sleep(20);
        }
        throw new IllegalStateException("no message in " + queue);
    }

    private static <T> T take(BlockingQueue<T> queue, String what) throws InterruptedException {
        T item = queue.poll(5, TimeUnit.SECONDS);
        if (item == null) throw new IllegalStateException("timed out waiting for " + what);
        return item;
    }

    private static Map<String, Object> map(Object... pairs) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < pairs.length; i += 2) m.put((String) pairs[i], pairs[i + 1]);
        return m;
    }

    static Map<String, Object> connect(Connection connection) throws Exception {
        Channel channel = connection.createChannel();
        String queue = exclusiveQueue(channel);
        channel.basicPublish("", queue, null, bytes("hello"));
        return map("body", text(getOne(channel, queue).getBody()));
    }

    static Map<String, Object> declareBind(Connection connection) throws Exception {
        Channel channel = connection.createChannel();
        String exchange = prefix + ".topic";
        channel.exchangeDeclare(exchange, "topic", false);
        String queue = exclusiveQueue(channel);
        channel.queueBind(queue, exchange, "a.*.c");
        channel.basicPublish(exchange, "x.y.z", null, bytes("nomatch"));
        channel.basicPublish(exchange, "a.b.c", null, bytes("match"));
        List<Object> received = new ArrayList<>();
        received.add(text(getOne(channel, queue).getBody()));
        Thread.sleep(100);
        for (GetResponse r; (r = channel.basicGet(queue, true)) != null; ) received.add(text(r.getBody()));
        channel.exchangeDelete(exchange);
        return map("received", received);
    }

    static Map<String, Object> properties(Connection connection) throws Exception {
        Channel channel = connection.createChannel();
        String queue = exclusiveQueue(channel);
        Map<String, Object> headers = map("x-str", "hello", "x-int", 42, "x-bool", true);
        AMQP.BasicProperties sent = new AMQP.BasicProperties.Builder()
            .contentType("application/json")
            .contentEncoding("utf-8")
            .headers(headers)
            .deliveryMode(2)
            .priority(5)
            .correlationId("corr-1")
            .replyTo("reply.queue")
            .expiration("60000")
            .messageId("msg-1")
            .timestamp(new Date(1700000000L * 1000))
            .type("interop.test")
            .appId("interop")
            .build();
        channel.basicPublish("", queue, sent, bytes("{\"hello\":\"world\"}"));
        GetResponse response = getOne(channel, queue);
        AMQP.BasicProperties p = response.getProps();
        return map(
            "body", text(response.getBody()),
            "properties", map(
                "content_type", p.getContentType(),
                "content_encoding", p.getContentEncoding(),
                "headers", p.getHeaders(),
                "delivery_mode", p.getDeliveryMode(),
                "priority", p.getPriority(),
                "correlation_id", p.getCorrelationId(),
                "reply_to", p.getReplyTo(),
                "expiration", p.getExpiration(),
                "message_id", p.getMessageId(),
                "timestamp", p.getTimestamp() == null ? null : p.getTimestamp().getTime() / 1000,
                "type", p.getType(),
                "app_id", p.getAppId()));
    }

    static Map<String, Object> prefetch(Connection connection) throws Exception {
        Channel channel = connection.createChannel();
        String queue = exclusiveQueue(channel);
        for (int i = 1; i <= 5; i++) channel.basicPublish("", queue, null, bytes("m" + i));
        channel.basicQos(2);
        BlockingQueue<Object[]> deliveries = new LinkedBlockingQueue<>();
        String tag = channel.basicConsume(queue, false, new DefaultConsumer(channel) {
            @Override
            public void handleDelivery(String consumerTag, Envelope envelope, AMQP.BasicProperties props, byte[] body) {
                deliveries.add(new Object[] {envelope.getDeliveryTag(), text(body)});
            }
        });
        List<Object> received = new ArrayList<>();
        int maxInFlight = 0;
        while (received.size() < 5) {
            // Prefetch 2 means two deliveries at once (fewer only at the end)...
            List<Object[]> inFlight = new ArrayList<>();
            int want = Math.min(2, 5 - received.size());
            while (inFlight.size() < want) inFlight.add(take(deliveries, "the prefetch window to fill"));
            // ...and never more: leave time for any beyond the window to show up.
            Thread.sleep(200);
            deliveries.drainTo(inFlight);
            maxInFlight = Math.max(maxInFlight, inFlight.size());
            for (Object[] delivery : inFlight) {
                received.add(delivery[1]);
                channel.basicAck((Long) delivery[0], false);
            }
        }
        channel.basicCancel(tag);
        return map("received", received, "maxInFlight", maxInFlight, "remaining", channel.messageCount(queue));
    }

    static Map<String, Object> confirms(Connection connection) throws Exception {
        Channel channel = connection.createChannel();
        String queue = exclusiveQueue(channel);
        BlockingQueue<Map<String, Object>> returns = new LinkedBlockingQueue<>();
        channel.addReturnListener((code, text, exchange, routingKey, props, body) ->
            returns.add(map("code", code, "text", text)));
        // Publishes 1..10 go to the queue; publish 11 is the mandatory one that comes back.
        ConcurrentSkipListSet<Long> outstanding = new ConcurrentSkipListSet<>();
        for (long tag = 1; tag <= 10; tag++) outstanding.add(tag);
        AtomicInteger acked = new AtomicInteger();
        AtomicInteger nacked = new AtomicInteger();
        channel.addConfirmListener(new ConfirmListener() {
            @Override
            public void handleAck(long tag, boolean multiple) {
                settle(tag, multiple, acked);
            }

            @Override
            public void handleNack(long tag, boolean multiple) {
                settle(tag, multiple, nacked);
            }

            private void settle(long tag, boolean multiple, AtomicInteger counter) {
                List<Long> settled = new ArrayList<>(multiple ? outstanding.headSet(tag, true) : List.of(tag));
                for (Long t : settled) if (outstanding.remove(t)) counter.incrementAndGet();
            }
        });
        channel.confirmSelect();
        for (int i = 1; i <= 10; i++) {
            channel.basicPublish("", queue, new AMQP.BasicProperties.Builder().deliveryMode(2).build(), bytes("c" + i));
        }
        channel.basicPublish("amq.direct", prefix + ".unbound", true, null, bytes("nobody"));
        channel.waitForConfirmsOrDie(5000);
        Map<String, Object> returned = take(returns, "basic.return");
        return map("acked", acked.get(), "nacked", nacked.get(), "queued", channel.messageCount(queue), "returned", returned);
    }

    static Map<String, Object> rpc(Connection connection) throws Exception {
        // Server side: answers each request on its reply_to, echoing correlation_id.
        Channel server = connection.createChannel();
        String rpcQueue = prefix + ".rpc";
        server.queueDeclare(rpcQueue, false, true, false, null);
        server.basicConsume(rpcQueue, false, new DefaultConsumer(server) {
            @Override
            public void handleDelivery(String tag, Envelope envelope, AMQP.BasicProperties props, byte[] body) throws IOException {
                String n = text(body).split(" ")[1];
                AMQP.BasicProperties reply = new AMQP.BasicProperties.Builder().correlationId(props.getCorrelationId()).build();
                server.basicPublish("", props.getReplyTo(), reply, bytes("PONG " + n));
                server.basicAck(envelope.getDeliveryTag(), false);
            }
        });
        // Client side: a private reply queue, requests tagged with correlation ids.
        Channel client = connection.createChannel();
        String replyQueue = exclusiveQueue(client);
        BlockingQueue<Map<String, Object>> replies = new LinkedBlockingQueue<>();
        client.basicConsume(replyQueue, true, new DefaultConsumer(client) {
            @Override
            public void handleDelivery(String tag, Envelope envelope, AMQP.BasicProperties props, byte[] body) {
                replies.add(map("correlation_id", props.getCorrelationId(), "body", text(body)));
            }
        });
        for (int i = 1; i <= 3; i++) {
            AMQP.BasicProperties request = new AMQP.BasicProperties.Builder()
                .replyTo(replyQueue).correlationId("c" + i).build();
            client.basicPublish("", rpcQueue, request, bytes("PING " + i));
        }
        List<Map<String, Object>> answers = new ArrayList<>();
        for (int i = 0; i < 3; i++) answers.add(take(replies, "a reply"));
        answers.sort(Comparator.comparing(a -> (String) a.get("correlation_id")));
        return map("replies", answers);
    }

    static Map<String, Object> error404(Connection connection) throws Exception {
        Channel channel = connection.createChannel();
        AMQP.Channel.Close close;
        try {
            channel.exchangeDeclarePassive(prefix + ".missing");
            throw new IllegalStateException("passive declare of a missing exchange succeeded");
        } catch (IOException e) {
            // The Java client wraps the channel.close in a ShutdownSignalException.
            ShutdownSignalException signal = (ShutdownSignalException) e.getCause();
            close = (AMQP.Channel.Close) signal.getReason();
        }
        exclusiveQueue(connection.createChannel());
        return map("code", close.getReplyCode(), "text", close.getReplyText(), "recovered", true);
    }

    /** Just enough JSON for the RESULT line (the JDK ships no encoder). */
    static final class Json {
        static String encode(Object value) {
            StringBuilder out = new StringBuilder();
            write(out, value);
            return out.toString();
        }

        private static void write(StringBuilder out, Object value) {
            if (value == null) {
                out.append("null");
            } else if (value instanceof Map) {
                out.append('{');
                boolean first = true;
                for (Map.Entry<?, ?> e : ((Map<?, ?>) value).entrySet()) {
                    if (!first) out.append(',');
                    first = false;
                    write(out, String.valueOf(e.getKey()));
                    out.append(':');
                    write(out, e.getValue());
                }
                out.append('}');
            } else if (value instanceof List) {
                out.append('[');
                boolean first = true;
                for (Object item : (List<?>) value) {
                    if (!first) out.append(',');
                    first = false;
                    write(out, item);
                }
                out.append(']');
            } else if (value instanceof Number || value instanceof Boolean) {
                out.append(value);
            } else {
                // Strings, and the client's LongString for header values.
                String s = value.toString();
                out.append('"');
                for (char c : s.toCharArray()) {
                    if (c == '"' || c == '\\') out.append('\\').append(c);
                    else if (c < 0x20) out.append(String.format("\\u%04x", (int) c));
                    else out.append(c);
                }
                out.append('"');
            }
        }
    }
}
