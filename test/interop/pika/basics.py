"""Connect, declare, bind, publish with properties, consume with manual ack and a prefetch window."""
import pika

from common import connect, report, unique

conn = connect()
ch = conn.channel()
exchange = unique("pika-basics-x")
queue = unique("pika-basics-q")

ch.exchange_declare(exchange, exchange_type="direct", auto_delete=True)
ok = ch.queue_declare(queue, exclusive=True)
report("queue-declared", queue=ok.method.queue, message_count=ok.method.message_count,
       consumer_count=ok.method.consumer_count)
ch.queue_bind(queue, exchange, routing_key="task")

for i in range(10):
    ch.basic_publish(exchange, "task", body=("msg-%d" % i).encode(),
                     properties=pika.BasicProperties(content_type="text/plain", message_id="id-%d" % i,
                                                     headers={"seq": i}))
ch.basic_publish(exchange, "no-such-binding", body=b"dropped")  # routed nowhere, silently dropped

ch.basic_qos(prefetch_count=3)
deliveries = []
consumer_tag = ch.basic_consume(queue, lambda _ch, method, props, body: deliveries.append((method, props, body)))



def settle(expected):
    """Waits (up to 3 s) for `expected` deliveries, then a little longer to catch any excess."""
    for _ in range(60):
        if len(deliveries) >= expected:
            break
        conn.sleep(0.05)
    conn.sleep(0.5)


# Without acks the broker must stop at the prefetch window.
settle(3)
report("window-full", unacked=len(deliveries))

# One single ack frees exactly one slot.
ch.basic_ack(deliveries[0][0].delivery_tag)
settle(4)
report("after-one-ack", delivered=len(deliveries))

# Multiple-acks of everything delivered so far until the queue is drained.
while len(deliveries) < 10:
    ch.basic_ack(deliveries[-1][0].delivery_tag, multiple=True)
    before = len(deliveries)
    for _ in range(40):
        conn.sleep(0.05)
        if len(deliveries) > before:
            break
    if len(deliveries) == before:
        break
ch.basic_ack(deliveries[-1][0].delivery_tag, multiple=True)

first_method, first_props, _ = deliveries[0]
report("consumed",
       bodies=[body for _, _, body in deliveries],
       delivery_tags=[m.delivery_tag for m, _, _ in deliveries],
       redelivered=[m.redelivered for m, _, _ in deliveries],
       consumer_tag_matches=first_method.consumer_tag == consumer_tag,
       exchange=first_method.exchange,
       routing_key=first_method.routing_key,
       content_type=first_props.content_type,
       message_ids=[p.message_id for _, p, _ in deliveries],
       headers=[p.headers for _, p, _ in deliveries])

ch.basic_cancel(consumer_tag)
after = ch.queue_declare(queue, passive=True)
report("after-drain", message_count=after.method.message_count, consumer_count=after.method.consumer_count)
conn.close()
report("closed")
