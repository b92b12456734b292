#!/usr/bin/env python3
"""Tutorial 1, "Hello World!": the producer.

Sends one message to the queue "hello" through the default exchange.
The broker comes from $AMQP_URL (default: a local broker as guest).
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

    # Declaring is idempotent: whichever program runs first creates the queue.
    channel.queue_declare(queue='hello')

    channel.basic_publish(exchange='', routing_key='hello', body=message)
    print(f" [x] Sent '{message}'", flush=True)
    connection.close()


if __name__ == '__main__':
    main()
