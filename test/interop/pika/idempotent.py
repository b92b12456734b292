"""Deletes and unbinds that RabbitMQ treats as idempotent (they succeed when there is nothing to
remove), and an auto-delete queue disappearing with its last consumer. Clients rely on these in
their cleanup paths (aio-pika's RPC.close unbinds its already auto-deleted reply queue)."""
import pika

from common import connect, describe_error, report, unique

conn = connect()
ch = conn.channel()


def attempt(case, action):
    global ch
    try:
        action()
        report("case", case=case, ok=True)
    except pika.exceptions.ChannelClosedByBroker as exc:
        report("case", case=case, ok=False, **describe_error(exc))
        ch = conn.channel()


queue = ch.queue_declare("", exclusive=True).method.queue
attempt("unbind-missing-binding", lambda: ch.queue_unbind(queue, "amq.direct", routing_key="never-bound"))
attempt("unbind-missing-queue", lambda: ch.queue_unbind(unique("never-existed-q"), "amq.direct", routing_key="rk"))
attempt("unbind-missing-exchange", lambda: ch.queue_unbind(queue, unique("never-existed-x"), routing_key="rk"))
attempt("delete-missing-queue", lambda: ch.queue_delete(unique("never-existed-q")))
attempt("delete-missing-exchange", lambda: ch.exchange_delete(unique("never-existed-x")))
attempt("exchange-unbind-missing", lambda: ch.exchange_unbind(unique("never-x1"), unique("never-x2"), routing_key="rk"))

auto = ch.queue_declare("", auto_delete=True).method.queue
tag = ch.basic_consume(auto, lambda *a: None, auto_ack=True)
ch.basic_cancel(tag)
attempt("auto-delete-gone-after-cancel", lambda: ch.queue_declare(auto, passive=True))
conn.close()
