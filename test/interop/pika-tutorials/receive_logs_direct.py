#!/usr/bin/env python3
"""Tutorial 4, "Routing": a subscriber.

Usage: receive_logs_direct.py [info] [warning] [error]
Binds its own exclusive queue to "direct_logs" once per severity given, so it
gets only the messages published with one of those routing keys.
Test hook: $EXIT_AFTER=N makes it stop after N messages (default: run until Ctrl+C).
"""
import os
import sys

import pika

DEFAULT_URL = 'amqp://guest:guest@localhost:5672/%2F'


def main():
    severities = sys.argv[1:]
    if not severities:
        sys.stderr.write(f"Usage: {sys.argv[0]} [info] [warning] [error]\n")
        sys.exit(1)

    connection = pika.BlockingConnection(
        pika.URLParameters(os.environ.get('AMQP_URL', DEFAULT_URL)))
    channel = connection.channel()

    channel.exchange_declare(exchange='direct_logs', exchange_type='direct')
    result = channel.queue_declare(queue='', exclusive=True)
    queue_name = result.method.queue

    # One binding per severity: a queue may be bound several times to one exchange.
    for severity in severities:
        channel.queue_bind(exchange='direct_logs', queue=queue_name, routing_key=severity)

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
