#!/usr/bin/env python3
"""Tutorial 5, "Topics": the producer.

Usage: emit_log_topic.py <routing.key> <message>
Publishes the message to the topic exchange "topic_logs". Routing keys are
words separated by dots, e.g. "kern.critical" or "quick.orange.rabbit".
"""
import os
import sys

import pika

DEFAULT_URL = 'amqp://guest:guest@localhost:5672/%2F'


def main():
    routing_key = sys.argv[1] if len(sys.argv) > 2 else 'anonymous.info'
    message = ' '.join(sys.argv[2:]) or 'Hello World!'
    connection = pika.BlockingConnection(
        pika.URLParameters(os.environ.get('AMQP_URL', DEFAULT_URL)))
    channel = connection.channel()

    channel.exchange_declare(exchange='topic_logs', exchange_type='topic')
    channel.basic_publish(exchange='topic_logs', routing_key=routing_key, body=message)
    print(f" [x] Sent {routing_key}:{message}", flush=True)
    connection.close()


if __name__ == '__main__':
    main()
