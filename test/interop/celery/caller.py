"""Celery caller: sends tasks to the worker(s) and reports the results it gets back via rpc://.
Usage: caller.py results | retries | ping N | share COUNT | slow SECONDS | priority | bad-login"""
import collections
import json
import sys

from app import add, app, boom, flaky, hopeless, stamp, whoami

TIMEOUT = 30


def report(event, **fields):
    print(json.dumps(dict(event=event, **fields)), flush=True)


def error_of(async_result):
    try:
        value = async_result.get(timeout=TIMEOUT)
        return {"raised": None, "value": value}
    except Exception as exc:  # the task's own exception, re-raised in the caller
        return {"raised": type(exc).__name__, "message": str(exc), "state": async_result.state}


scenario = sys.argv[1]

if scenario == "results":
    pending = [add.delay(i, i * 10) for i in range(10)]
    report("results", values=[r.get(timeout=TIMEOUT) for r in pending], states=[r.state for r in pending],
           distinct_ids=len({r.id for r in pending}))
    # apply_async with explicit message options: they travel as AMQP properties and arguments.
    r = add.apply_async((20, 22), priority=3, expires=60, headers={"x-trace": "interop"})
    report("apply-async", value=r.get(timeout=TIMEOUT))

elif scenario == "retries":
    report("flaky", **flaky.delay(3).get(timeout=TIMEOUT))
    report("hopeless", **error_of(hopeless.delay()))
    report("boom", **error_of(boom.delay()))

elif scenario == "ping":
    # Broadcast over the celery.pidbox fanout exchange; replies come back on a reply queue.
    want = int(sys.argv[2])
    replies = []
    for _ in range(10):
        replies = app.control.ping(timeout=1.0)
        if len(replies) >= want:
            break
    report("ping", workers=sorted(name for reply in replies for name in reply),
           answers=sorted({answer["ok"] for reply in replies for answer in reply.values()}))

elif scenario == "share":
    count = int(sys.argv[2])
    pending = [whoami.delay(0.3) for _ in range(count)]
    hosts = collections.Counter(r.get(timeout=TIMEOUT) for r in pending)
    report("share", per_worker=dict(hosts), total=sum(hosts.values()))

elif scenario == "slow":
    r = whoami.delay(float(sys.argv[2]))
    report("sent", id=r.id)
    report("slow", ran_on=r.get(timeout=TIMEOUT))

elif scenario == "priority":
    # Sent before any worker runs: the worker then takes them highest priority first.
    plan = [("low-1", 1), ("high-1", 9), ("mid-1", 5), ("high-2", 9), ("low-2", 1), ("mid-2", 5)]
    pending = [stamp.apply_async((label,), priority=p) for label, p in plan]
    report("sent", count=len(pending))
    done = sorted((r.get(timeout=TIMEOUT) for r in pending), key=lambda x: x[1])
    report("priority", order=[label for label, _ in done])

elif scenario == "bad-login":
    # The broker refuses the login: how kombu/py-amqp surface it to the caller.
    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1)
        report("bad-login", raised=None)
    except Exception as exc:
        report("bad-login", raised="%s.%s" % (type(exc).__module__, type(exc).__name__),
               reply_code=getattr(exc, "code", None), reply_text=getattr(exc, "reply_text", None))
else:
    sys.exit("unknown scenario " + scenario)
