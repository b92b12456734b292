"""Publisher confirms with aio-pika/aiormq: 200 concurrent publishes all acked, a mandatory
unroutable message returned (PublishError with on_return_raises), a reject-publish queue nacks
(DeliveryError), and a missing exchange closes the channel (ChannelNotFoundEntity)."""
import asyncio

import aio_pika
from pamqp.commands import Basic

from common import connect, describe_error, report, unique


async def main():
    connection = await connect()
    async with connection:
        channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
        queue = await channel.declare_queue(unique("aio-confirm-q"), exclusive=True)

        results = await asyncio.gather(*[
            channel.default_exchange.publish(aio_pika.Message(b"m%d" % i, message_id=str(i)), routing_key=queue.name)
            for i in range(200)
        ])
        declared = await channel.declare_queue(queue.name, passive=True)
        report("acked", acks=sum(isinstance(r, Basic.Ack) for r in results),
               depth=declared.declaration_result.message_count)

        try:
            await channel.default_exchange.publish(aio_pika.Message(b"lost", message_id="lost-1"),
                                                   routing_key=unique("nobody-bound"), mandatory=True)
            report("unroutable", raised=None)
        except aio_pika.exceptions.PublishError as exc:
            report("unroutable", raised=type(exc).__name__, reply_code=exc.message.delivery.reply_code,
                   reply_text=exc.message.delivery.reply_text, body=exc.message.body)

        full = await channel.declare_queue(unique("aio-full-q"), exclusive=True,
                                           arguments={"x-max-length": 1, "x-overflow": "reject-publish"})
        await channel.default_exchange.publish(aio_pika.Message(b"fits"), routing_key=full.name)
        try:
            confirmation = await channel.default_exchange.publish(aio_pika.Message(b"overflows"), routing_key=full.name)
            report("overflow", raised=None, confirmation=type(confirmation).__name__)
        except aio_pika.exceptions.DeliveryError as exc:
            report("overflow", raised=type(exc).__name__, frame=type(exc.frame).__name__)

        missing = unique("no-such-exchange")
        try:
            exchange = await channel.get_exchange(missing, ensure=False)
            await exchange.publish(aio_pika.Message(b"nowhere"), routing_key="rk")
            report("missing-exchange", raised=None)
        except aio_pika.exceptions.AMQPError as exc:
            report("missing-exchange", exchange=missing, **describe_error(exc))


asyncio.run(main())
