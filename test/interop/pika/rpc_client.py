"""RPC client: sends argv[2] requests to the queue named argv[1] with reply_to + correlation_id and
matches the answers. Reply queue: an exclusive server-named queue, or with --direct-reply-to the
RabbitMQ pseudo-queue amq.rabbitmq.reply-to."""
import sys
import uuid

import pika

from common import connect, report

queue, count = sys.argv[1], int(sys.argv[2])
direct = "--direct-reply-to" in sys.argv
conn = connect()
ch = conn.channel()

if direct:
    reply_to = "amq.rabbitmq.reply-to"
else:
    reply_to = ch.queue_declare("", exclusive=True).method.queue
    report("reply-queue", name=reply_to)

answers = {}
ch.basic_consume(reply_to, lambda c, m, p, b: answers.__setitem__(p.correlation_id, b), auto_ack=True)

expected = {}
for n in range(1, count + 1):
    corr = str(uuid.uuid4())
    expected[corr] = str(n * n).encode()
    ch.basic_publish("", queue, body=str(n).encode(),
                     properties=pika.BasicProperties(reply_to=reply_to, correlation_id=corr))

for _ in range(200):
    if len(answers) >= count:
        break
    conn.process_data_events(time_limit=0.05)

report("answers", received=len(answers), all_matched=answers == expected,
       unknown_correlation_ids=[c for c in answers if c not in expected],
       bodies=sorted(int(b) for b in answers.values()))
conn.close()
