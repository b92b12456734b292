"""100 channels on one connection, each with its own queue and traffic, then a channel-level error on
one of them leaves the other 99 working (channel errors close the channel, not the connection)."""
import pika

from common import connect, describe_error, report, unique

COUNT = 100
conn = connect()
channels = [conn.channel() for _ in range(COUNT)]
# Confirm mode makes each publish return only once the broker has enqueued it: publishes on different
# channels are not ordered against each other, and the reads below go through other channels.
for ch in channels:
    ch.confirm_delivery()
report("opened", count=len(channels), distinct_numbers=len({c.channel_number for c in channels}))

queues = []
for i, ch in enumerate(channels):
    q = ch.queue_declare(unique("pika-ch%03d" % i), exclusive=True).method.queue
    queues.append(q)
    ch.basic_publish("", q, body=("from channel %d" % i).encode())

# Read every queue back through a *different* channel than the one that wrote it.
mismatches = []
for i, q in enumerate(queues):
    reader = channels[(i + 1) % COUNT]
    method, _, body = reader.basic_get(q, auto_ack=True)
    if method is None or body != ("from channel %d" % i).encode():
        mismatches.append(i)
report("cross-channel-get", mismatches=mismatches)

victim = channels[50]
try:
    victim.queue_declare(unique("missing"), passive=True)
    report("victim", closed=False)
except pika.exceptions.ChannelClosedByBroker as exc:
    report("victim", closed=True, **describe_error(exc))

survivors = [c for c in channels if c.is_open]
for ch in survivors:
    ch.basic_publish("", queues[0], body=b"x")
report("survivors", open=len(survivors), connection_open=conn.is_open,
       queue0_depth=survivors[0].queue_declare(queues[0], passive=True).method.message_count)

for ch in survivors:
    ch.close()
conn.close()
