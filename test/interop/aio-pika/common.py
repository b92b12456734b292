"""Shared helpers for the aio-pika programs: broker URL from AMQP_URL, JSON-line reports on stdout
({"event": ...}) for the node:test files to assert on, and how aiormq surfaces broker errors."""
import json
import os
import uuid

import aio_pika


def url():
    return os.environ["AMQP_URL"]


async def connect(amqp_url=None):
    return await aio_pika.connect(amqp_url or url(), timeout=10)


def unique(prefix):
    return "%s-%s" % (prefix, uuid.uuid4().hex[:10])


def jsonable(value):
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return repr(value)


def report(event, **fields):
    print(json.dumps(dict(event=event, **jsonable(fields))), flush=True)


def describe_error(exc):
    """How aiormq surfaces a broker error. Channel errors are mapped to a class per reply code
    (404 → ChannelNotFoundEntity ...) carrying only the reply text; codes without a class come as
    ChannelClosed(code, text); some handshake failures carry the raw Connection.Close frame."""
    args = getattr(exc, "args", ())
    code = text = None
    frames = [a for a in args if hasattr(a, "reply_code")]
    if frames:
        code, text = frames[0].reply_code, frames[0].reply_text
    elif len(args) == 2 and isinstance(args[0], int):
        code, text = args
    elif len(args) == 1 and isinstance(args[0], str):
        text = args[0]
    return {"error": "%s.%s" % (type(exc).__module__, type(exc).__name__), "reply_code": code, "reply_text": text}
