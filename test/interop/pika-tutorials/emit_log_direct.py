#!/usr/bin/env python3
"""Tutorial 4, "Routing": the producer.

Usage: emit_log_direct.py [severity] [message]
Publishes the message to the direct exchange "direct_logs" with the severity
as routing key.
"""
import os
import sys

import pika

DEFAULT_URL = 'amqp://guest:guest@localhost:5672/%2F'


def main():
    severity = sys.argv[1] if len(sys.argv) > 1 else 'info'
    message = ' '.join(sys.argv[2:]) or 'Hello World!'
    connection = pika.BlockingConnection(
        pika.URLParameters(os.environ.get('AMQP_URL', DEFAULT_URL)))
    channel = connection.channel()

    channel.exchange_declare(exchange='direct_logs', exchange_type='direct')
    channel.basic_publish(exchange='direct_logs', routing_key=severity, body=message)
    print(f" [x] Sent {severity}:{message}", flush=True)
    connection.close()


if __name__ == '__main__':
    main()
