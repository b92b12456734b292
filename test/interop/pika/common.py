"""Shared helpers for the pika interop programs.

Each program connects to the broker named by the AMQP_URL environment variable and prints what it
observes as JSON lines ({"event": ..., ...}) on stdout; the node:test files assert on those lines.
A program exits non-zero (with a traceback on stderr) when something unexpected happens.
"""
import json
import os
import re
import sys
import uuid

import pika


def url():
    return os.environ["AMQP_URL"]


def params(**overrides):
    p = pika.URLParameters(url())
    # Fail fast instead of pika's default retries: a refused connection is a test result.
    p.connection_attempts = 1
    p.socket_timeout = 10
    p.blocked_connection_timeout = 30
    for key, value in overrides.items():
        setattr(p, key, value)
    return p


def connect(**overrides):
    return pika.BlockingConnection(params(**overrides))


def unique(prefix):
    """Names unique per run, so programs can share a broker (and rerun) without collisions."""
    return "%s-%s" % (prefix, uuid.uuid4().hex[:10])


def jsonable(value):
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            return {"bytes_hex": value.hex()}
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
    """How pika surfaces a broker error: exception class, reply code and text."""
    args = getattr(exc, "args", ())
    code = getattr(exc, "reply_code", None)
    text = getattr(exc, "reply_text", None)
    if code is None and len(args) >= 2 and isinstance(args[0], int):
        code, text = args[0], args[1]
    if code is None and len(args) == 1 and isinstance(args[0], str):
        # Connection refusals during the handshake arrive wrapped, as
        # ProbableAuthenticationError("ConnectionClosedByBroker: (403) 'ACCESS_REFUSED - ...'").
        found = re.search(r"\((\d+)\) (['\"])(.*)\2$", args[0])
        if found:
            code, text = int(found.group(1)), found.group(3)
    return {"error": type(exc).__name__, "reply_code": code, "reply_text": text}


def fail(message):
    print(message, file=sys.stderr, flush=True)
    sys.exit(1)
