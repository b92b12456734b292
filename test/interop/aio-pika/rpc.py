"""RPC with aio-pika, server and client on separate connections:
- aio_pika.patterns.RPC (exclusive reply queue, reply_to + correlation_id, mandatory calls, and a
  headers dead-letter exchange that brings expired calls back to the caller);
- the same by hand: an exclusive server-named reply queue and correlation ids."""
import asyncio
import uuid

import aio_pika
from aio_pika.patterns import RPC

from common import connect, describe_error, report, unique


async def multiply(*, x, y):
    return x * y


async def fail(*, why):
    raise ValueError(why)


async def pattern(server_conn, client_conn):
    prefix = unique("aio-rpc")
    server = await RPC.create(await server_conn.channel())
    await server.register(prefix + ".multiply", multiply, auto_delete=True)
    await server.register(prefix + ".fail", fail, auto_delete=True)
    # A method queue nobody consumes: a call with an expiration dead-letters back as a timeout.
    await server.channel.declare_queue(prefix + ".unserved", exclusive=True,
                                       arguments={"x-dead-letter-exchange": RPC.DLX_NAME})

    client = await RPC.create(await client_conn.channel())
    results = await asyncio.gather(*[client.call(prefix + ".multiply", kwargs={"x": i, "y": 7}) for i in range(10)])
    report("pattern-results", values=results)

    try:
        await client.call(prefix + ".fail", kwargs={"why": "remote failure"})
        report("pattern-remote-error", raised=None)
    except ValueError as exc:
        report("pattern-remote-error", raised=type(exc).__name__, message=str(exc))

    try:
        await client.call(prefix + ".no-such-method", kwargs={})
        report("pattern-unroutable", raised=None)
    except aio_pika.exceptions.MessageProcessError as exc:
        report("pattern-unroutable", raised=type(exc).__name__, message=str(exc.args[0]))

    try:
        await asyncio.wait_for(client.call(prefix + ".unserved", kwargs={}, expiration=1), 15)
        report("pattern-expired", raised=None)
    except asyncio.TimeoutError as exc:
        # aio-pika's own TimeoutError carries the dead-lettered message; wait_for's carries nothing.
        report("pattern-expired", raised=type(exc).__name__, dead_lettered=bool(exc.args))
    await client.close()
    await server.close()


async def by_hand(server_conn, client_conn):
    server_channel = await server_conn.channel()
    await server_channel.set_qos(prefetch_count=1)
    requests = await server_channel.declare_queue(unique("aio-rpc-manual"), exclusive=True)

    async def serve(message: aio_pika.abc.AbstractIncomingMessage):
        async with message.process():  # acks after the block
            reply = aio_pika.Message(body=message.body.upper(), correlation_id=message.correlation_id)
            await server_channel.default_exchange.publish(reply, routing_key=message.reply_to)

    await requests.consume(serve)

    channel = await client_conn.channel()
    callback = await channel.declare_queue("", exclusive=True)  # server-named: amq.gen-...
    pending = {}

    async def on_reply(message: aio_pika.abc.AbstractIncomingMessage):
        future = pending.pop(message.correlation_id, None)
        if future:
            future.set_result(message.body)

    await callback.consume(on_reply, no_ack=True)
    words = ["alpha", "beta", "gamma", "delta"]
    futures = []
    for word in words:
        corr = str(uuid.uuid4())
        pending[corr] = asyncio.get_running_loop().create_future()
        futures.append(pending[corr])
        await channel.default_exchange.publish(
            aio_pika.Message(word.encode(), reply_to=callback.name, correlation_id=corr), routing_key=requests.name)
    answers = await asyncio.wait_for(asyncio.gather(*futures), 10)
    report("manual-results", reply_queue=callback.name, answers=answers)


async def main():
    server_conn, client_conn = await connect(), await connect()
    try:
        await pattern(server_conn, client_conn)
        await by_hand(server_conn, client_conn)
    finally:
        await client_conn.close()
        await server_conn.close()


asyncio.run(main())
