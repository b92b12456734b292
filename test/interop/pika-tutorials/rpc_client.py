#!/usr/bin/env python3
"""Tutorial 6, "RPC": the client.

Usage: rpc_client.py [n]...   (default: 30)
Calls the server once per n, waiting for each answer: the request carries a
fresh correlation_id and the name of this client's exclusive callback queue in
reply_to; replies whose correlation_id is not the pending one are ignored.
Every request and every reply is printed with its correlation_id, so a test
can check that they match.
"""
import os
import sys
import uuid

import pika

DEFAULT_URL = 'amqp://guest:guest@localhost:5672/%2F'


class FibonacciRpcClient:
    def __init__(self, url):
        self.connection = pika.BlockingConnection(pika.URLParameters(url))
        self.channel = self.connection.channel()

        result = self.channel.queue_declare(queue='', exclusive=True)
        self.callback_queue = result.method.queue
        self.channel.basic_consume(
            queue=self.callback_queue,
            on_message_callback=self.on_response,
            auto_ack=True)

        self.corr_id = None
        self.response = None

    def on_response(self, ch, method, props, body):
        print(f" [.] Got {body.decode()} correlation_id={props.correlation_id}", flush=True)
        if props.correlation_id == self.corr_id:
            self.response = body
        else:
            print(f" [!] Ignored a reply with correlation_id={props.correlation_id}", flush=True)

    def call(self, n):
        self.response = None
        self.corr_id = str(uuid.uuid4())
        print(f" [x] Requesting fib({n}) correlation_id={self.corr_id}", flush=True)
        self.channel.basic_publish(
            exchange='',
            routing_key='rpc_queue',
            properties=pika.BasicProperties(
                reply_to=self.callback_queue,
                correlation_id=self.corr_id),
            body=str(n))
        while self.response is None:
            self.connection.process_data_events(time_limit=None)
        return int(self.response)

    def close(self):
        self.connection.close()


def main():
    numbers = [int(arg) for arg in sys.argv[1:]] or [30]
    client = FibonacciRpcClient(os.environ.get('AMQP_URL', DEFAULT_URL))
    for n in numbers:
        response = client.call(n)
        print(f" [.] fib({n}) = {response}", flush=True)
    client.close()


if __name__ == '__main__':
    main()
