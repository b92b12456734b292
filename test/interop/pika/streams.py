"""Stream queues through pika: declare (and its 406 for a non-durable stream), publish with
confirms, two consumers each reading everything from x-stream-offset 'first', a numeric offset,
the x-stream-offset header, and basic.get refused with 540 (a connection error)."""
import pika

from common import connect, describe_error, report, unique

conn = connect()
ch = conn.channel()
queue = unique("pika-stream")

try:
    ch.queue_declare(unique("pika-stream-nd"), durable=False, arguments={"x-queue-type": "stream"})
except pika.exceptions.ChannelClosedByBroker as e:
    report("non-durable", **describe_error(e))
ch = conn.channel()
ch.queue_declare(queue, durable=True, arguments={"x-queue-type": "stream"})
ch.confirm_delivery()
for i in range(5):
    ch.basic_publish("", queue, body=("s%d" % i).encode(), properties=pika.BasicProperties(headers={"i": i}))
report("published")


def read(offset, count):
    c = conn.channel()
    c.basic_qos(prefetch_count=10)
    got = []

    def on_message(channel, method, props, body):
        got.append({"body": body, "offset": props.headers.get("x-stream-offset"), "i": props.headers.get("i")})
        channel.basic_ack(method.delivery_tag)
        if len(got) == count:
            channel.stop_consuming()

    c.basic_consume(queue, on_message, arguments={"x-stream-offset": offset})
    c.start_consuming()
    c.close()
    return got


report("first", messages=read("first", 5))
report("first-again", messages=read("first", 5))
report("numeric", messages=read(3, 2))

try:
    ch.basic_get(queue)
except pika.exceptions.ConnectionClosedByBroker as e:
    report("basic-get", **describe_error(e))

conn = connect()
conn.channel().queue_delete(queue)
conn.close()
