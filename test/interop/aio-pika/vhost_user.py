"""Connect as the user and vhost named in AMQP_URL; declare, bind, publish, consume there."""
import asyncio

import aio_pika

from common import connect, report, unique


async def main():
    connection = await connect()
    async with connection:
        channel = await connection.channel()
        report("connected", user=connection.url.user, vhost=connection.url.path[1:] or "/",
               server_product=connection.transport.connection.server_properties.get("product"))
        exchange = await channel.declare_exchange(unique("aio-vh-x"), aio_pika.ExchangeType.DIRECT, auto_delete=True)
        queue = await channel.declare_queue(unique("aio-vh-q"), exclusive=True)
        await queue.bind(exchange, routing_key="rk")
        await exchange.publish(aio_pika.Message(b"in the vhost", app_id="aio-vhost"), routing_key="rk")
        async with queue.iterator() as it:
            async for message in it:
                async with message.process():
                    report("round-trip", body=message.body, app_id=message.app_id)
                break


asyncio.run(main())
