"""Durability across a broker restart, in two runs around it:
  durability.py before NAME   declares durable + transient entities and publishes (with confirms)
  durability.py after NAME    checks what survived, then deletes what it made
Expected after the restart: the durable exchange, queue and binding exist; the transient queue is
gone; persistent messages are back with their properties and order; the transient message and the
acked one are gone."""
import sys

import pika

from common import connect, describe_error, report

phase, name = sys.argv[1], sys.argv[2]
exchange, durable_q, transient_q = name + "-x", name + "-durable", name + "-transient"

conn = connect()
ch = conn.channel()
ch.confirm_delivery()

if phase == "before":
    ch.exchange_declare(exchange, exchange_type="topic", durable=True)
    ch.queue_declare(durable_q, durable=True)
    ch.queue_declare(transient_q, durable=False)
    ch.queue_bind(durable_q, exchange, routing_key="orders.#")
    ch.queue_bind(transient_q, exchange, routing_key="orders.#")
    for i in range(4):
        ch.basic_publish(exchange, "orders.%d" % i, body=b"persistent-%d" % i,
                         properties=pika.BasicProperties(delivery_mode=2, message_id="p%d" % i,
                                                         content_type="text/plain",
                                                         headers={"n": i, "tags": ["a", {"b": True}]}))
    ch.basic_publish("", durable_q, body=b"transient", properties=pika.BasicProperties(delivery_mode=1))
    # Delivered and acked before the restart: must not come back.
    method, _, body = ch.basic_get(durable_q)
    ch.basic_ack(method.delivery_tag)
    report("acked-before-restart", body=body)
    report("published", durable_depth=ch.queue_declare(durable_q, passive=True).method.message_count,
           transient_depth=ch.queue_declare(transient_q, passive=True).method.message_count)
    conn.close()
    sys.exit(0)

try:
    conn.channel().exchange_declare(exchange, passive=True)
    report("exchange", exists=True)
except pika.exceptions.ChannelClosedByBroker as exc:
    report("exchange", exists=False, **describe_error(exc))

try:
    conn.channel().queue_declare(transient_q, passive=True)
    report("transient-queue", exists=True)
    conn.channel().queue_delete(transient_q)
except pika.exceptions.ChannelClosedByBroker as exc:
    report("transient-queue", exists=False, **describe_error(exc))

ok = ch.queue_declare(durable_q, passive=True)
report("durable-queue", exists=True, message_count=ok.method.message_count)

# The binding survived: a message published through the exchange now lands in the queue.
ch.basic_publish(exchange, "orders.after", body=b"after-restart", properties=pika.BasicProperties(delivery_mode=2))

messages = []
while True:
    method, props, body = ch.basic_get(durable_q, auto_ack=True)
    if method is None:
        break
    messages.append({"body": body, "redelivered": method.redelivered, "routing_key": method.routing_key,
                     "delivery_mode": props.delivery_mode, "message_id": props.message_id,
                     "content_type": props.content_type, "headers": props.headers})
report("messages", messages=messages)

ch.queue_delete(durable_q)
ch.exchange_delete(exchange)
conn.close()
