#!/usr/bin/env python3
"""Tutorial 3, "Publish/Subscribe": the producer.

Broadcasts one log message through the fanout exchange "logs". With no
subscriber bound, the message is simply dropped.
"""
import os
import sys

import pika

DEFAULT_URL = 'amqp://guest:guest@localhost:5672/%2F'


def main():
    message = ' '.join(sys.argv[1:]) or 'info: Hello World!'
    connection = pika.BlockingConnection(
        pika.URLParameters(os.environ.get('AMQP_URL', DEFAULT_URL)))
    channel = connection.channel()

    channel.exchange_declare(exchange='logs', exchange_type='fanout')
    # A fanout exchange ignores the routing key.
    channel.basic_publish(exchange='logs', routing_key='', body=message)
    print(f" [x] Sent {message}", flush=True)
    connection.close()


if __name__ == '__main__':
    main()
