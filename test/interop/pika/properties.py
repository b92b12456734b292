"""All 14 basic properties survive a round trip through the broker, via basic.get and basic.consume.
Also: a user_id that differs from the authenticated user is refused (RabbitMQ validates it)."""
import pika

from common import connect, describe_error, params, report, unique

conn = connect()
ch = conn.channel()
queue = unique("pika-props-q")
ch.queue_declare(queue, exclusive=True)

user = params().credentials.username
props = pika.BasicProperties(
    content_type="application/json",
    content_encoding="utf-8",
    headers={"x-origin": "pika", "attempt": 1},
    delivery_mode=2,
    priority=7,
    correlation_id="corr-42",
    reply_to="reply-queue",
    expiration="600000",
    message_id="msg-42",
    timestamp=1700000000,
    type="order.created",
    user_id=user,
    app_id="warren-interop",
    cluster_id="cluster-a",
)

names = ["content_type", "content_encoding", "headers", "delivery_mode", "priority", "correlation_id",
         "reply_to", "expiration", "message_id", "timestamp", "type", "user_id", "app_id", "cluster_id"]


def as_dict(p):
    return {name: getattr(p, name) for name in names}


ch.basic_publish("", queue, body=b'{"n":1}', properties=props)
ch.basic_publish("", queue, body=b'{"n":2}', properties=props)

method, got, body = ch.basic_get(queue, auto_ack=True)
report("via-get", body=body, properties=as_dict(got))

received = []
ch.basic_consume(queue, lambda c, m, p, b: received.append((p, b)), auto_ack=True)
for _ in range(100):
    if received:
        break
    conn.process_data_events(time_limit=0.1)
report("via-consume", body=received[0][1], properties=as_dict(received[0][0]))

# A message with no properties at all arrives with every property absent.
ch.basic_publish("", queue, body=b"bare")
for _ in range(100):
    if len(received) == 2:
        break
    conn.process_data_events(time_limit=0.1)
report("bare", properties=as_dict(received[1][0]))

# user_id must match the authenticated user.
try:
    ch.basic_publish("", queue, body=b"spoofed", properties=pika.BasicProperties(user_id="someone-else"))
    ch.queue_declare(queue, passive=True)  # the channel error arrives asynchronously; a sync call surfaces it
    report("spoofed-user-id", accepted=True)
except pika.exceptions.ChannelClosedByBroker as exc:
    report("spoofed-user-id", accepted=False, **describe_error(exc))
conn.close()
