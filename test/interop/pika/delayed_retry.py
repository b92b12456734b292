"""Delayed retry with back-off through an x-delayed-message exchange: a failing job is republished
with x-delay growing per attempt and comes back to the work queue once the delay has passed."""
import time

from common import connect, report, unique

conn = connect()
ch = conn.channel()
work = unique("pika-delayed-work")
retry = unique("pika-delayed-retry")
ch.exchange_declare(retry, "x-delayed-message", arguments={"x-delayed-type": "direct"}, auto_delete=True)
ch.queue_declare(work, exclusive=True)
ch.queue_bind(work, retry, routing_key=work)
ch.basic_publish("", work, body=b"job", properties=__import__("pika").BasicProperties(headers={"attempt": 0}))

attempts = []
done = []
last = [time.monotonic()]


def on_message(c, method, props, body):
    now = time.monotonic()
    attempt = (props.headers or {}).get("attempt", 0)
    attempts.append({"attempt": attempt, "waited_ms": int((now - last[0]) * 1000)})
    last[0] = now
    if attempt < 3:
        delay = 200 * (attempt + 1)
        c.basic_publish(retry, work, body=body, properties=__import__("pika").BasicProperties(
            headers={"attempt": attempt + 1, "x-delay": delay}))
    else:
        done.append(body)
    c.basic_ack(method.delivery_tag)


ch.basic_consume(work, on_message)
for _ in range(400):
    if done:
        break
    conn.process_data_events(time_limit=0.05)

report("delayed-retry", attempts=attempts, done=bool(done))
conn.close()
