"""Connect as a non-default user to a non-default vhost (both named in AMQP_URL) with
PlainCredentials, and work there: declare, bind, publish with properties, get.
Optional checks, driven by the environment:
  GUEST_URL         guest on the default vhost: the queue declared here must not be visible there.
  CONFIGURE_PREFIX  the user may only configure names starting with it: anything else is refused (403).
  NO_ACCESS_VHOST   a vhost the user has no permissions on: connecting there is refused (530)."""
import os

import pika

from common import connect, describe_error, params, report, unique

p = params()
creds = pika.PlainCredentials(p.credentials.username, p.credentials.password)
conn = pika.BlockingConnection(params(credentials=creds))
report("connected", user=p.credentials.username, vhost=p.virtual_host,
       server_product=conn._impl.server_properties.get("product"))

prefix = os.environ.get("CONFIGURE_PREFIX", "")
ch = conn.channel()
exchange = prefix + unique("vh-x")
queue = prefix + unique("vh-q")
ch.exchange_declare(exchange, exchange_type="topic", auto_delete=True)
ch.queue_declare(queue, exclusive=True)
ch.queue_bind(queue, exchange, routing_key="orders.#")
ch.confirm_delivery()
ch.basic_publish(exchange, "orders.eu.created", body=b"in the vhost",
                 properties=pika.BasicProperties(app_id="vhost-test", headers={"vhost": p.virtual_host}))
method, props, body = ch.basic_get(queue, auto_ack=True)
report("round-trip", body=body, routing_key=method.routing_key, app_id=props.app_id, headers=props.headers)

if os.environ.get("GUEST_URL"):
    guest = pika.BlockingConnection(pika.URLParameters(os.environ["GUEST_URL"]))
    try:
        guest.channel().queue_declare(queue, passive=True)
        report("isolation", visible_from_default_vhost=True)
    except pika.exceptions.ChannelClosedByBroker as exc:
        report("isolation", visible_from_default_vhost=False, **describe_error(exc))
    guest.close()

if prefix:
    try:
        conn.channel().queue_declare(unique("forbidden-q"), exclusive=True)
        report("outside-prefix", refused=False)
    except pika.exceptions.ChannelClosedByBroker as exc:
        report("outside-prefix", refused=True, **describe_error(exc))

if os.environ.get("NO_ACCESS_VHOST"):
    try:
        pika.BlockingConnection(params(credentials=creds, virtual_host=os.environ["NO_ACCESS_VHOST"])).close()
        report("no-access-vhost", refused=False)
    except pika.exceptions.AMQPConnectionError as exc:
        report("no-access-vhost", refused=True, **describe_error(exc))
conn.close()
