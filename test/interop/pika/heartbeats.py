"""Heartbeats: the server's proposed timeout, a negotiated 1 s timeout kept alive across an idle
period (the broker must send heartbeat frames, or pika drops the connection), and a client that goes
silent is disconnected by the broker."""
import time

import pika

from common import connect, describe_error, report, unique

# heartbeat=None accepts whatever the server proposes in connection.tune.
conn = connect(heartbeat=None)
report("server-proposed", heartbeat=conn._impl.params.heartbeat)
conn.close()

conn = connect(heartbeat=1)
report("negotiated", heartbeat=conn._impl.params.heartbeat)
ch = conn.channel()
queue = unique("pika-hb-q")
ch.queue_declare(queue, exclusive=True)
conn.sleep(5)  # idle, but pika's I/O loop runs: it sends heartbeats and watches for the broker's
checker = conn._impl._heartbeat_checker
report("after-idle", open=conn.is_open, heartbeats_received=checker._heartbeat_frames_received,
       heartbeats_sent=checker._heartbeat_frames_sent)
ch.basic_publish("", queue, body=b"still alive")
method, _, body = ch.basic_get(queue, auto_ack=True)
report("still-usable", body=body)
conn.close()

# A client that stops talking: blocking the thread stops pika from sending heartbeats.
silent = connect(heartbeat=1)
silent.channel()
time.sleep(4.5)
try:
    silent.process_data_events(time_limit=1)
    silent.channel().queue_declare("", exclusive=True)
    report("silent-client", disconnected=False)
except pika.exceptions.AMQPError as exc:
    report("silent-client", disconnected=True, **describe_error(exc))
