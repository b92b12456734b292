"""RPC server: consumes requests from the queue named by argv[1], answers each one on its reply_to
queue with the request's correlation_id, and exits after argv[2] requests."""
import sys

import pika

from common import connect, report

queue, count = sys.argv[1], int(sys.argv[2])
conn = connect()
ch = conn.channel()
ch.queue_declare(queue, auto_delete=True)
ch.basic_qos(prefetch_count=1)
served = []


def on_request(channel, method, props, body):
    n = int(body)
    answer = str(n * n).encode()
    channel.basic_publish("", props.reply_to, body=answer,
                          properties=pika.BasicProperties(correlation_id=props.correlation_id,
                                                          content_type="text/plain"))
    channel.basic_ack(method.delivery_tag)
    served.append({"reply_to": props.reply_to, "correlation_id": props.correlation_id})
    if len(served) == count:
        channel.stop_consuming()


ch.basic_consume(queue, on_request)
report("ready", queue=queue)
ch.start_consuming()
report("served", requests=served)
conn.close()
