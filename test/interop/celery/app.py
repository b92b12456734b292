"""The Celery application of the interop suite: tasks run by a real worker process, results back
to the caller through the rpc:// backend (a reply queue on the same AMQP broker).

Environment: AMQP_URL (broker, vhost and user) and CELERY_QUEUE (a per-test task queue, so a
leftover task from one test never reaches another test's worker)."""
import os
import time

from celery import Celery

app = Celery("warren_interop", broker=os.environ["AMQP_URL"].replace("amqp://", "pyamqp://", 1), backend="rpc://")
app.conf.update(
    task_default_queue=os.environ.get("CELERY_QUEUE", "celery"),
    task_acks_late=True,  # a task is acked after it ran: a crashed worker's task goes to the other one
    worker_prefetch_multiplier=1,  # one task at a time per worker, so two workers share the load
    broker_transport_options={"confirm_publish": True},  # py-amqp waits for the broker's basic.ack
    broker_connection_max_retries=3,
    worker_hijack_root_logger=False,
)
if os.environ.get("CELERY_MAX_PRIORITY"):
    # kombu declares the task queue with x-max-priority; tasks carry the AMQP priority property.
    app.conf.task_queue_max_priority = int(os.environ["CELERY_MAX_PRIORITY"])
    app.conf.task_default_priority = 0


@app.task
def add(x, y):
    return x + y


@app.task(bind=True)
def whoami(self, seconds):
    """Which worker ran this task; sleeps so that one worker cannot take every task."""
    time.sleep(seconds)
    return self.request.hostname


@app.task(bind=True, max_retries=5)
def flaky(self, failures):
    """Fails `failures` times, retrying each time, then reports how many retries it took."""
    if self.request.retries < failures:
        raise self.retry(exc=RuntimeError("attempt %d failed" % self.request.retries), countdown=0.2)
    return {"retries": self.request.retries, "hostname": self.request.hostname}


@app.task(bind=True, max_retries=2)
def hopeless(self):
    """Retries until max_retries is exhausted: the caller gets the last exception."""
    raise self.retry(exc=RuntimeError("still broken after %d retries" % self.request.retries), countdown=0.1)


@app.task
def boom():
    raise ValueError("boom")


@app.task
def stamp(label):
    """When this task ran: the caller orders tasks by it."""
    return [label, time.time()]
