"""Broker errors as aio-pika / aiormq report them, one report per case."""
import asyncio
import os
import urllib.parse

import aio_pika

from common import connect, describe_error, report, unique


async def channel_case(connection, case, action):
    channel = await connection.channel()
    try:
        await action(channel)
        report("case", case=case, raised=None)
    except aio_pika.exceptions.AMQPError as exc:
        report("case", case=case, channel_closed=channel.is_closed, **describe_error(exc))


def with_url(**changes):
    parts = urllib.parse.urlsplit(os.environ["AMQP_URL"])
    netloc = "%s:%s@%s:%s" % (changes.get("user", parts.username), changes.get("password", parts.password),
                              parts.hostname, parts.port)
    path = "/" + urllib.parse.quote(changes["vhost"], safe="") if "vhost" in changes else parts.path
    return urllib.parse.urlunsplit((parts.scheme, netloc, path, "", ""))


async def connection_case(case, amqp_url):
    try:
        connection = await connect(amqp_url)
        await connection.close()
        report("case", case=case, raised=None)
    except Exception as exc:  # handshake failures are not all AMQPError subclasses
        report("case", case=case, **describe_error(exc))


async def main():
    connection = await connect()
    async with connection:
        missing = unique("no-such-exchange")
        await channel_case(connection, "passive-missing-exchange", lambda ch: ch.get_exchange(missing))
        await channel_case(connection, "passive-missing-queue", lambda ch: ch.get_queue(unique("no-such-queue")))

        async def bind_missing(ch):
            queue = await ch.declare_queue(exclusive=True)
            await queue.bind(missing, routing_key="rk")

        await channel_case(connection, "bind-missing-exchange", bind_missing)

        name = unique("aio-err-x")

        async def redeclare(ch):
            await ch.declare_exchange(name, aio_pika.ExchangeType.DIRECT, auto_delete=True)
            await ch.declare_exchange(name, aio_pika.ExchangeType.FANOUT, auto_delete=True)

        await channel_case(connection, "inequivalent-type", redeclare)
        await (await connection.channel()).exchange_delete(name)  # never bound, so never auto-deleted
        await channel_case(connection, "reserved-prefix",
                           lambda ch: ch.declare_exchange("amq.custom-" + unique("x"), aio_pika.ExchangeType.DIRECT))
        report("connection", open=not connection.is_closed)

    await connection_case("wrong-password", with_url(password="definitely-wrong"))
    await connection_case("missing-vhost", with_url(vhost=unique("no-such-vhost")))


asyncio.run(main())
