"""Header tables with nested values (tables in arrays in tables, every field type pika can encode)
survive the broker unchanged, and a headers exchange routes on them (x-match all / any)."""
import datetime
import decimal

import pika

from common import connect, report, unique

nested = {
    "string": "héllo wörld",
    "bytes": b"\x00\x01\xfe\xff",
    "true": True,
    "false": False,
    "int32": -2147483648,
    "int64": 9007199254740993,
    "decimal": decimal.Decimal("3.1415"),
    "timestamp": datetime.datetime(2024, 2, 29, 12, 30, 45),
    "void": None,
    "empty-table": {},
    "empty-array": [],
    "table": {"level": 1, "inner": {"level": 2, "deepest": {"level": 3, "tags": ["a", "b"]}}},
    "array": [1, "two", True, None, {"k": "v", "list": [[1, 2], [3]]}, decimal.Decimal("-0.5")],
}


def normalise(value):
    """JSON-friendly form that keeps the type visible, so the test sees what the broker changed."""
    if isinstance(value, bool):
        return {"bool": value}
    if isinstance(value, int):
        return {"int": str(value)}
    if isinstance(value, decimal.Decimal):
        return {"decimal": str(value)}
    if isinstance(value, datetime.datetime):
        return {"timestamp": value.isoformat()}
    if isinstance(value, bytes):
        return {"bytes": value.hex()}
    if isinstance(value, str):
        return {"str": value}
    if value is None:
        return {"void": None}
    if isinstance(value, dict):
        return {"table": {k: normalise(v) for k, v in sorted(value.items())}}
    if isinstance(value, list):
        return {"array": [normalise(v) for v in value]}
    return {"unknown": repr(value)}


conn = connect()
ch = conn.channel()
queue = unique("pika-headers-q")
ch.queue_declare(queue, exclusive=True)
ch.basic_publish("", queue, body=b"nested", properties=pika.BasicProperties(headers=nested))
_, props, _ = ch.basic_get(queue, auto_ack=True)
report("round-trip", sent=normalise(nested), received=normalise(props.headers))

# Headers exchange: one queue wants all of format=pdf,type=report; the other any of them.
exchange = unique("pika-headers-x")
ch.exchange_declare(exchange, exchange_type="headers", auto_delete=True)
q_all, q_any = unique("pika-h-all"), unique("pika-h-any")
for q, match in ((q_all, "all"), (q_any, "any")):
    ch.queue_declare(q, exclusive=True)
    ch.queue_bind(q, exchange, arguments={"x-match": match, "format": "pdf", "type": "report"})

samples = {
    "both": {"format": "pdf", "type": "report", "extra": {"nested": [1]}},
    "format-only": {"format": "pdf"},
    "wrong-value": {"format": "zip", "type": "log"},
    "none": None,
}
for name, headers in samples.items():
    ch.basic_publish(exchange, "ignored-routing-key", body=name.encode(),
                     properties=pika.BasicProperties(headers=headers))


def drain(q):
    bodies = []
    while True:
        method, _, body = ch.basic_get(q, auto_ack=True)
        if method is None:
            return bodies
        bodies.append(body)


report("headers-exchange", all=drain(q_all), any=drain(q_any))
conn.close()
