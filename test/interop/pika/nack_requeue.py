"""basic.nack / basic.reject while consuming: requeued messages come back redelivered and in their
original order, multiple=True covers every earlier tag, requeue=False drops the message."""
import pika

from common import connect, report, unique

conn = connect()
ch = conn.channel()
queue = unique("pika-nack-q")
ch.queue_declare(queue, exclusive=True)
for name in ["a", "b", "c", "d"]:
    ch.basic_publish("", queue, body=name.encode())

received = []
ch.basic_qos(prefetch_count=10)
tag = ch.basic_consume(queue, lambda c, m, p, b: received.append((m, b)))


def wait_for(n):
    for _ in range(100):
        if len(received) >= n:
            return
        conn.process_data_events(time_limit=0.05)


def log(label, batch):
    report(label, deliveries=[{"body": b, "redelivered": m.redelivered} for m, b in batch])


wait_for(4)
first = received[:4]
log("first-pass", first)

# nack b..c with multiple=True from c (covers a, b, c), requeue them; reject d without requeue.
ch.basic_nack(first[2][0].delivery_tag, multiple=True, requeue=True)
ch.basic_reject(first[3][0].delivery_tag, requeue=False)
wait_for(7)
second = received[4:]
log("after-nack", second)

# Requeue one of them once more with a single nack, ack the rest.
ch.basic_nack(second[0][0].delivery_tag, multiple=False, requeue=True)
ch.basic_ack(second[2][0].delivery_tag, multiple=False)
ch.basic_ack(second[1][0].delivery_tag, multiple=False)
wait_for(8)
third = received[7:]
log("after-single-nack", third)
ch.basic_ack(third[0][0].delivery_tag)

ch.basic_cancel(tag)
conn.sleep(0.2)
log("extra", received[8:])
report("depth", message_count=ch.queue_declare(queue, passive=True).method.message_count)
conn.close()
