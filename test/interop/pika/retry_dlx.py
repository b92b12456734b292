"""A retry pattern built from dead-lettering: a worker rejects a message, the work queue
dead-letters it to a wait queue with a TTL, the wait queue dead-letters it back to the work queue.
x-death counts the rounds; after three failures the worker gives up retrying and acks."""
from common import connect, report, unique

conn = connect()
ch = conn.channel()
work = unique("pika-retry-work")
wait = unique("pika-retry-wait")
ch.queue_declare(work, arguments={"x-dead-letter-exchange": "", "x-dead-letter-routing-key": wait})
ch.queue_declare(wait, arguments={"x-message-ttl": 50, "x-dead-letter-exchange": "", "x-dead-letter-routing-key": work})
ch.basic_publish("", work, body=b"job-1")

rounds = []
done = []


def on_message(c, method, props, body):
    deaths = (props.headers or {}).get("x-death", [])
    by = {(d["queue"], d["reason"]): d["count"] for d in deaths}
    rounds.append({"rejected": by.get((work, "rejected"), 0), "expired": by.get((wait, "expired"), 0),
                   "redelivered": method.redelivered})
    if len(rounds) <= 3:
        c.basic_reject(method.delivery_tag, requeue=False)
    else:
        c.basic_ack(method.delivery_tag)
        done.append(body)


ch.basic_consume(work, on_message)
for _ in range(200):
    if done:
        break
    conn.process_data_events(time_limit=0.05)

report("rounds", rounds=rounds, body=done[0].decode() if done else None)
ch.queue_delete(work)
ch.queue_delete(wait)
conn.close()
