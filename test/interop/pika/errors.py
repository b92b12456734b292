"""Broker errors as pika reports them: exception class, reply code and reply text for each case."""
import pika

from common import connect, describe_error, params, report, unique


def channel_error(case, action):
    """Runs action(channel) on a fresh channel and reports how the broker closed it."""
    conn = connect()
    try:
        action(conn.channel())
        report("case", case=case, raised=None)
    except pika.exceptions.AMQPError as exc:
        report("case", case=case, connection_open=conn.is_open, **describe_error(exc))
    finally:
        if conn.is_open:
            conn.close()


missing_x = unique("no-such-exchange")
channel_error("publish-missing-exchange",
              lambda ch: (ch.basic_publish(missing_x, "rk", body=b"x"), ch.queue_declare("", exclusive=True)))
channel_error("passive-missing-exchange", lambda ch: ch.exchange_declare(missing_x, passive=True))
channel_error("bind-missing-exchange",
              lambda ch: ch.queue_bind(ch.queue_declare("", exclusive=True).method.queue, missing_x, "rk"))
channel_error("consume-missing-queue", lambda ch: ch.basic_consume(unique("no-such-queue"), lambda *a: None))

q = unique("pika-err-q")


def redeclare(ch):
    # Not exclusive: RabbitMQ does not compare the durable flag of exclusive queues.
    ch.queue_declare(q, durable=False)
    ch.queue_declare(q, durable=True)


channel_error("inequivalent-durable", redeclare)
cleanup = connect()
cleanup.channel().queue_delete(q)
cleanup.close()
channel_error("reserved-prefix", lambda ch: ch.queue_declare("amq.custom-" + unique("q")))
channel_error("unknown-delivery-tag", lambda ch: (ch.basic_ack(99), ch.queue_declare("", exclusive=True)))
channel_error("exchange-type-invalid", lambda ch: ch.exchange_declare(unique("x"), exchange_type="no-such-type"))

# Exclusive queue owned by another connection: 405 RESOURCE_LOCKED.
owner = connect()
locked = owner.channel().queue_declare(unique("pika-locked-q"), exclusive=True).method.queue
channel_error("exclusive-locked", lambda ch: ch.queue_declare(locked, passive=True))
owner.close()

# Connection-level refusals.
def connection_error(case, **overrides):
    try:
        pika.BlockingConnection(params(**overrides)).close()
        report("case", case=case, raised=None)
    except pika.exceptions.AMQPError as exc:
        report("case", case=case, **describe_error(exc))


user = params().credentials.username
connection_error("wrong-password", credentials=pika.PlainCredentials(user, "definitely-wrong"))
connection_error("unknown-user", credentials=pika.PlainCredentials(unique("nobody"), "x"))
connection_error("missing-vhost", virtual_host=unique("no-such-vhost"))
