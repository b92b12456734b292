"""A 5 MiB body (about 40 body frames at the default frame_max) arrives intact, via consume and get,
also with a small negotiated frame_max that splits it into thousands of frames."""
import hashlib
import os

from common import connect, report, unique

SIZE = 5 * 1024 * 1024
body = os.urandom(SIZE)
digest = hashlib.sha256(body).hexdigest()


def round_trip(conn, label):
    ch = conn.channel()
    ch.confirm_delivery()
    queue = unique("pika-large-q")
    ch.queue_declare(queue, exclusive=True)
    ch.basic_publish("", queue, body=body)
    ch.basic_publish("", queue, body=body)

    _, _, got = ch.basic_get(queue, auto_ack=True)
    report("received", path=label + "/get", size=len(got), sha256=hashlib.sha256(got).hexdigest())

    received = []
    ch.basic_consume(queue, lambda c, m, p, b: (received.append(b), c.basic_ack(m.delivery_tag)))
    for _ in range(300):
        if received:
            break
        conn.process_data_events(time_limit=0.1)
    got = received[0] if received else b""
    report("received", path=label + "/consume", size=len(got), sha256=hashlib.sha256(got).hexdigest())
    ch.close()


report("sent", size=SIZE, sha256=digest)
conn = connect()
report("tuned", frame_max=conn._impl.params.frame_max)
round_trip(conn, "default-frame-max")
conn.close()

small = connect(frame_max=4096)
report("tuned", frame_max=small._impl.params.frame_max)
round_trip(small, "frame-max-4096")
small.close()
