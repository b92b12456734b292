"""basic.get: empty queue (get-empty), message_count of what is left, manual ack vs auto ack,
redelivered flag after a reject with requeue, and 404 on a missing queue."""
import pika

from common import connect, describe_error, report, unique

conn = connect()
ch = conn.channel()
queue = unique("pika-get-q")
ch.queue_declare(queue, exclusive=True)

method, props, body = ch.basic_get(queue)
report("empty", got_message=method is not None)

for i in range(3):
    ch.basic_publish("", queue, body=("m%d" % i).encode(), properties=pika.BasicProperties(message_id=str(i)))
ch.queue_declare(queue, passive=True)  # a round trip, so the publishes above are enqueued


def get(auto_ack):
    m, p, b = ch.basic_get(queue, auto_ack=auto_ack)
    return m, {"body": b, "message_count": m.message_count, "redelivered": m.redelivered,
               "delivery_tag": m.delivery_tag, "exchange": m.exchange, "routing_key": m.routing_key,
               "message_id": p.message_id}


m0, first = get(auto_ack=False)
report("get", **first)
ch.basic_reject(m0.delivery_tag, requeue=True)

m0b, again = get(auto_ack=False)
report("get", **again)
ch.basic_ack(m0b.delivery_tag)

_, second = get(auto_ack=True)
report("get", **second)
_, third = get(auto_ack=True)
report("get", **third)

method, _, _ = ch.basic_get(queue)
report("empty", got_message=method is not None)
report("depth", message_count=ch.queue_declare(queue, passive=True).method.message_count)

try:
    ch.basic_get(unique("no-such-queue"))
    report("missing-queue", closed=False)
except pika.exceptions.ChannelClosedByBroker as exc:
    report("missing-queue", closed=True, **describe_error(exc))
conn.close()
