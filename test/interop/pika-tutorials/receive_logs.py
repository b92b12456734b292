#!/usr/bin/env python3
"""Tutorial 3, "Publish/Subscribe": a subscriber.

Binds its own fresh, exclusive, server-named queue to the fanout exchange
"logs", so every running subscriber gets a copy of every log message.
Test hook: $EXIT_AFTER=N makes it stop after N messages (default: run until Ctrl+C).
"""
import os
import sys

import pika

DEFAULT_URL = 'amqp://guest:guest@localhost:5672/%2F'


def main():
    connection = pika.BlockingConnection(
        pika.URLParameters(os.environ.get('AMQP_URL', DEFAULT_URL)))
    channel = connection.channel()

    channel.exchange_declare(exchange='logs', exchange_type='fanout')

    # queue='' lets the broker pick a name; exclusive deletes it when we disconnect.
    result = channel.queue_declare(queue='', exclusive=True)
    queue_name = result.method.queue
    channel.queue_bind(exchange='logs', queue=queue_name)

    exit_after = int(os.environ.get('EXIT_AFTER', '0'))
    received = 0

    def callback(ch, method, properties, body):
        nonlocal received
        print(f" [x] {body.decode()}", flush=True)
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
