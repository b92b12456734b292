"""Async connect, declare, bind, publish with properties (confirmed), consume with manual ack and
a prefetch window via queue.iterator(), basic.get."""
import asyncio
import datetime

import aio_pika
from pamqp.commands import Basic

from common import connect, report, unique


async def main():
    connection = await connect()
    async with connection:
        channel = await connection.channel()
        exchange = await channel.declare_exchange(unique("aio-x"), aio_pika.ExchangeType.TOPIC, auto_delete=True)
        queue = await channel.declare_queue(unique("aio-q"), exclusive=True)
        await queue.bind(exchange, routing_key="events.*")
        report("declared", queue=queue.name, exchange=exchange.name)

        confirmations = []
        for i in range(10):
            confirmations.append(await exchange.publish(
                aio_pika.Message(
                    body=("event-%d" % i).encode(),
                    content_type="text/plain",
                    headers={"seq": i, "meta": {"source": "aio-pika", "tags": ["x", "y"]}},
                    correlation_id="corr-%d" % i,
                    message_id="id-%d" % i,
                    priority=i % 10,
                    timestamp=datetime.datetime(2024, 1, 1, 0, 0, i),
                    app_id="aio-interop",
                    type="event",
                    delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                ),
                routing_key="events.created",
            ))
        report("confirmed", acks=sum(isinstance(c, Basic.Ack) for c in confirmations))

        # basic.get of the first one, then requeue it by rejecting
        first = await queue.get(no_ack=False)
        report("get", body=first.body, redelivered=first.redelivered, message_count=first.message_count)
        await first.reject(requeue=True)

        await channel.set_qos(prefetch_count=4)
        received = []
        acking = asyncio.Event()  # set once the prefetch window has been observed
        async with queue.iterator() as it:
            async def pull():
                async for message in it:
                    received.append(message)
                    if acking.is_set():
                        await message.ack()
                    if len(received) == 10:
                        return

            task = asyncio.ensure_future(pull())
            for _ in range(60):  # up to 3 s for the window to fill, then a while for any excess
                if len(received) >= 4:
                    break
                await asyncio.sleep(0.05)
            await asyncio.sleep(0.5)
            report("window-full", unacked=len(received))
            acking.set()
            for message in list(received):
                await message.ack()
            await asyncio.wait_for(task, 10)

        m = received[0]
        report("consumed",
               bodies=[r.body for r in received],
               redelivered=[r.redelivered for r in received],
               routing_key=m.routing_key,
               exchange=m.exchange,
               properties={"content_type": m.content_type, "headers": m.properties.headers,
                           "correlation_id": m.correlation_id, "message_id": m.message_id,
                           "priority": m.priority, "timestamp": m.timestamp.isoformat() if m.timestamp else None,
                           "app_id": m.app_id, "type": m.type, "delivery_mode": int(m.delivery_mode)})
        declared = await channel.declare_queue(queue.name, passive=True)
        report("after-drain", message_count=declared.declaration_result.message_count)


asyncio.run(main())
