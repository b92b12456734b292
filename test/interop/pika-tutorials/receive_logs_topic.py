#!/usr/bin/env python3
"""Tutorial 5, "Topics": a subscriber.

Usage: receive_logs_topic.py <binding_key>...
Binds its own exclusive queue to "topic_logs" with each binding key given.
In a binding key '*' stands for exactly one word and '#' for zero or more words.
Test hook: $EXIT_AFTER=N makes it stop after N messages (default: run until Ctrl+C).
"""
import os
import sys

import pika

DEFAULT_URL = 'amqp://guest:guest@localhost:5672/%2F'


def main():
    binding_keys = sys.argv[1:]
    if not binding_keys:
        sys.stderr.write(f"Usage: {sys.argv[0]} [binding_key]...\n")
        sys.exit(1)

    connection = pika.BlockingConnection(
        pika.URLParameters(os.environ.get('AMQP_URL', DEFAULT_URL)))
    channel = connection.channel()

    channel.exchange_declare(exchange='topic_logs', exchange_type='topic')
    result = channel.queue_declare(queue='', exclusive=True)
    queue_name = result.method.queue

    for binding_key in binding_keys:
        channel.queue_bind(exchange='topic_logs', queue=queue_name, routing_key=binding_key)

    exit_after = int(os.environ.get('EXIT_AFTER', '0'))
    received = 0

    def callback(ch, method, properties, body):
        nonlocal received
        print(f" [x] {method.routing_key}:{body.decode()}", flush=True)
        received += 1
        if received == exit_after:
            ch.stop_consuming()

    channel.basic_consume(queue=queue_name, on_message_callback=callback, auto_ack=True)

    print(' [*] Waiting for logs. To exit press CTRL+C', flush=True)
    channel.start_consuming()
    connection.close()


if __name__ == '__main__':
    try:
        main()
    except KeyboardInterrupt:
        print('Interrupted', flush=True)
        sys.exit(0)
