#!/usr/bin/env python3
"""Tutorial 2, "Work queues": the producer.

Sends one task to the durable queue "task_queue" as a persistent message.
Each '.' in the task stands for one second of work in worker.py.
"""
import os
import sys

import pika

DEFAULT_URL = 'amqp://guest:guest@localhost:5672/%2F'


def main():
    message = ' '.join(sys.argv[1:]) or 'Hello World!'
    connection = pika.BlockingConnection(
        pika.URLParameters(os.environ.get('AMQP_URL', DEFAULT_URL)))
    channel = connection.channel()

    # durable + persistent: the task must survive a broker restart.
    channel.queue_declare(queue='task_queue', durable=True)
    channel.basic_publish(
        exchange='',
        routing_key='task_queue',
        body=message,
        properties=pika.BasicProperties(delivery_mode=pika.spec.PERSISTENT_DELIVERY_MODE))
    print(f" [x] Sent {message}", flush=True)
    connection.close()


if __name__ == '__main__':
    main()
