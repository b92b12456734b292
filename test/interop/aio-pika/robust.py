"""connect_robust across a broker restart: the connection comes back by itself, re-declares its
durable queue and re-subscribes its consumer; a persistent message published before the restart
and one published after it both arrive. Prints "ready" and then waits: the test restarts the
broker in between. Usage: robust.py QUEUE_NAME"""
import asyncio
import sys

import aio_pika

from common import report, url


async def main():
    name = sys.argv[1]
    received = asyncio.Queue()
    connection = await aio_pika.connect_robust(url(), reconnect_interval=0.5, timeout=10)
    reconnected = asyncio.Event()
    connection.reconnect_callbacks.add(lambda *args: reconnected.set())

    channel = await connection.channel()
    queue = await channel.declare_queue(name, durable=True)

    async def on_message(message):
        async with message.process():
            await received.put(message.body.decode())

    # Publish persistently before consuming, so the message waits in the queue across the restart.
    await channel.default_exchange.publish(
        aio_pika.Message(b"before-restart", delivery_mode=aio_pika.DeliveryMode.PERSISTENT), routing_key=name)
    report("ready")
    # The test restarts the broker now; the consumer is registered once we are told it is back,
    # so the persisted message can only be delivered by the restarted broker.
    await asyncio.wait_for(reconnected.wait(), 60)
    report("reconnected")
    await queue.consume(on_message)
    first = await asyncio.wait_for(received.get(), 15)
    await channel.default_exchange.publish(aio_pika.Message(b"after-restart"), routing_key=name)
    second = await asyncio.wait_for(received.get(), 15)
    report("received", bodies=[first, second])
    await queue.delete(if_unused=False, if_empty=False)
    await connection.close()


asyncio.run(main())
