#!/usr/bin/env python3
"""Tutorial 2, "Work queues": the worker.

Takes tasks from "task_queue" one at a time (prefetch 1), "works" one second
per '.' in the body, then acknowledges. An unacknowledged task goes back to the
queue if the worker dies, and the broker marks it redelivered.

Test hooks:
  $SECONDS_PER_DOT  seconds of work per '.' (default 1) - makes slow and fast workers
  $EXIT_AFTER=N     stop after N acknowledged tasks (default: run until Ctrl+C)
"""
import os
import sys
import time

import pika

DEFAULT_URL = 'amqp://guest:guest@localhost:5672/%2F'


def main():
    connection = pika.BlockingConnection(
        pika.URLParameters(os.environ.get('AMQP_URL', DEFAULT_URL)))
    channel = connection.channel()
    channel.queue_declare(queue='task_queue', durable=True)

    seconds_per_dot = float(os.environ.get('SECONDS_PER_DOT', '1'))
    exit_after = int(os.environ.get('EXIT_AFTER', '0'))
    done = 0

    def callback(ch, method, properties, body):
        nonlocal done
        task = body.decode()
        # The redelivered mark is how the test sees that a dead worker's task came back.
        mark = ' (redelivered)' if method.redelivered else ''
        print(f" [x] Received {task}{mark}", flush=True)
        time.sleep(task.count('.') * seconds_per_dot)
        print(' [x] Done', flush=True)
        ch.basic_ack(delivery_tag=method.delivery_tag)
        done += 1
        if done == exit_after:
            ch.stop_consuming()

    # Fair dispatch: no new task for this worker until it acknowledged the last one.
    channel.basic_qos(prefetch_count=1)
    channel.basic_consume(queue='task_queue', on_message_callback=callback)

    print(' [*] Waiting for messages. To exit press CTRL+C', flush=True)
    channel.start_consuming()
    connection.close()


if __name__ == '__main__':
    try:
        main()
    except KeyboardInterrupt:
        print('Interrupted', flush=True)
        sys.exit(0)
