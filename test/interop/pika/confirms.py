"""Publisher confirms: every publish acked, mandatory+unroutable returned (UnroutableError), a full
reject-publish queue nacks (NackError), and a missing exchange closes the channel with 404."""
import time

import pika

from common import connect, describe_error, report, unique

conn = connect()
ch = conn.channel()
ch.confirm_delivery()
queue = unique("pika-confirm-q")
ch.queue_declare(queue, exclusive=True)

started = time.monotonic()
for i in range(200):
    ch.basic_publish("", queue, body=b"m%d" % i, properties=pika.BasicProperties(delivery_mode=2))
report("acked", count=200, depth=ch.queue_declare(queue, passive=True).method.message_count,
       seconds=round(time.monotonic() - started, 3))

try:
    ch.basic_publish("", unique("nobody-bound"), body=b"lost", mandatory=True)
    report("unroutable", raised=None)
except pika.exceptions.UnroutableError as exc:
    returned = exc.messages[0]
    report("unroutable", raised="UnroutableError", reply_code=returned.method.reply_code,
           reply_text=returned.method.reply_text, body=returned.body)

# Not mandatory: an unroutable message is simply confirmed.
ch.basic_publish("", unique("nobody-bound"), body=b"dropped")
report("unroutable-not-mandatory", acked=True)

full = unique("pika-full-q")
ch.queue_declare(full, exclusive=True, arguments={"x-max-length": 1, "x-overflow": "reject-publish"})
ch.basic_publish("", full, body=b"fits")
try:
    ch.basic_publish("", full, body=b"overflows")
    report("overflow", raised=None)
except pika.exceptions.NackError as exc:
    report("overflow", raised="NackError")
report("overflow-depth", message_count=ch.queue_declare(full, passive=True).method.message_count)

missing = unique("no-such-exchange")
try:
    ch.basic_publish(missing, "rk", body=b"nowhere")
    report("missing-exchange", closed=False)
except pika.exceptions.ChannelClosedByBroker as exc:
    report("missing-exchange", closed=True, exchange=missing, **describe_error(exc))
report("connection", open=conn.is_open)
conn.close()
