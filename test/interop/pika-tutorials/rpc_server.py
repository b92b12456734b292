#!/usr/bin/env python3
"""Tutorial 6, "RPC": the server.

Computes Fibonacci numbers for requests arriving on "rpc_queue" and sends each
answer to the request's reply_to queue, carrying the request's correlation_id
so the client can match it.
"""
import os
import sys

import pika

DEFAULT_URL = 'amqp://guest:guest@localhost:5672/%2F'


def fib(n):
    # Deliberately the slow recursive definition, as in the tutorial.
    if n < 2:
        return n
    return fib(n - 1) + fib(n - 2)


def main():
    connection = pika.BlockingConnection(
        pika.URLParameters(os.environ.get('AMQP_URL', DEFAULT_URL)))
    channel = connection.channel()
    channel.queue_declare(queue='rpc_queue')

    def on_request(ch, method, props, body):
        n = int(body)
        print(f" [.] fib({n})", flush=True)
        response = fib(n)
        ch.basic_publish(
            exchange='',
            routing_key=props.reply_to,
            properties=pika.BasicProperties(correlation_id=props.correlation_id),
            body=str(response))
        # Ack only after replying: a server dying mid-request leaves it for another server.
        ch.basic_ack(delivery_tag=method.delivery_tag)

    # Spread requests evenly if several servers run.
    channel.basic_qos(prefetch_count=1)
    channel.basic_consume(queue='rpc_queue', on_message_callback=on_request)

    print(' [x] Awaiting RPC requests', flush=True)
    channel.start_consuming()


if __name__ == '__main__':
    try:
        main()
    except KeyboardInterrupt:
        print('Interrupted', flush=True)
        sys.exit(0)
