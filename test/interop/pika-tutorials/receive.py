#!/usr/bin/env python3
"""Tutorial 1, "Hello World!": the consumer.

Prints every message of the queue "hello", one per line.
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

    # The consumer may start before any producer ran, so it declares the queue too.
    channel.queue_declare(queue='hello')

    exit_after = int(os.environ.get('EXIT_AFTER', '0'))
    received = 0

    def callback(ch, method, properties, body):
        nonlocal received
        print(f" [x] Received {body.decode()}", flush=True)
        received += 1
        if received == exit_after:
            ch.stop_consuming()

    channel.basic_consume(queue='hello', on_message_callback=callback, auto_ack=True)

    # Printed once the broker confirmed the consumer (basic_consume waits for
    # Basic.ConsumeOk), so a test can publish as soon as it sees this line.
    print(' [*] Waiting for messages. To exit press CTRL+C', flush=True)
    channel.start_consuming()
    connection.close()


if __name__ == '__main__':
    try:
        main()
    except KeyboardInterrupt:
        print('Interrupted', flush=True)
        sys.exit(0)
