#!/usr/bin/env python3
"""How much does mininova's RPC layer cost over bare kombu request/reply?

Over the machine's RabbitMQ (127.0.0.1:5672, a vhost of the bench's own,
made and deleted with rabbitmqctl), in one run:

* **mininova**: ``mininova.rpc``'s ``RPCServer`` (topic ``bench``, an
  endpoint whose ``echo`` returns its argument) and an ``RPCClient`` calling
  it: the request context, JSON, the durable topic queue, persistent
  messages, publisher confirms, the process's reply queue (consumed without
  acknowledgements), the one consuming connection of the process (its
  thread hands each reply to the waiting caller and each request to the
  server's thread pool);
* **raw kombu, same guarantees** (the floor): a consumer on a durable queue
  answers each request on the caller's reply queue (RabbitMQ's direct
  reply-to, ``amq.rabbitmq.reply-to``) with its correlation id; requests
  are persistent and confirmed, as mininova's are; one connection and one
  channel per side, kept open;
* **raw kombu, no confirms**, for reference: the same without publisher
  confirms and with transient requests.

Each side answers the same payload (a request context's worth of JSON) in
sequential calls from one thread, the sides taking turns in blocks (so a
busy machine's changing load falls on all of them alike): round trips per
second, p50 and p90 latency, and the CPU time of a call (both its ends run
in this process: the client, the server and, for mininova, the consuming
thread and the server's worker thread). Then each from 4 threads at once
(throughput only).

On a machine shared with other work the wall-clock figures move with the
load from run to run; the CPU per call moves much less, and says how much
work mininova adds to a round trip wherever it runs.

Printed, not asserted (issue 16's targets: throughput ratio mininova ÷ raw
≥ 0.8, p50 ≤ 1.3 × raw's, both against the same-guarantees floor).

    .venv/bin/python bench/rpc.py [--calls 2000] [--rounds 10] [--threads 4]
"""

import argparse
import os
import statistics
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import kombu

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mininova import context, rpc  # noqa: E402
from mininova.conf import CONF  # noqa: E402

BROKER = "127.0.0.1:5672"
PAYLOAD = {"instance_uuid": str(uuid.uuid4()), "host": "bench-00001",
           "values": {"vm_state": "active", "task_state": None, "power_state": 1}}


def make_vhost():
    vhost = f"mininova-bench-rpc-{os.getpid()}"
    subprocess.run(["rabbitmqctl", "-q", "add_vhost", vhost], check=True)
    subprocess.run(["rabbitmqctl", "-q", "set_permissions", "-p", vhost, "guest",
                    ".*", ".*", ".*"], check=True)
    return vhost


class Echo:
    NOT_RPC = frozenset()

    def echo(self, ctxt, value):
        return value


# --- mininova's RPC -------------------------------------------------------------

class MininovaRPC:
    label = "mininova RPC"

    def __init__(self, url):
        self.transport = rpc.Transport(url, "bench")
        self.server = rpc.RPCServer("bench", "bench-host", [Echo()], transport=self.transport)
        self.server.start()
        self.client = rpc.RPCClient("bench", transport=self.transport)
        self.ctxt = context.RequestContext(user_id="bench", project_id="bench")

    def call(self, value):
        return self.client.call(self.ctxt, "echo", value=value)

    def close(self):
        self.server.stop()
        self.transport.cleanup()


# --- raw kombu ---------------------------------------------------------------------

REPLY_TO = "amq.rabbitmq.reply-to"


class RawServer(threading.Thread):
    """Answers every request of ``queue`` on its reply_to, with its correlation id."""

    def __init__(self, url, exchange, queue, confirm):
        super().__init__(daemon=True)
        self.url, self.exchange, self.queue, self.confirm = url, exchange, queue, confirm
        self.ready = threading.Event()
        self.stopping = threading.Event()

    def run(self):
        with kombu.Connection(self.url, transport_options={
                "confirm_publish": self.confirm}) as conn:
            producer = kombu.Producer(conn.default_channel)

            def answer(body, message):
                message.ack()
                producer.publish({"result": body["value"]}, exchange="",
                                 routing_key=message.properties["reply_to"],
                                 correlation_id=message.properties["correlation_id"],
                                 serializer="json", delivery_mode=1)

            with conn.Consumer([self.queue], callbacks=[answer], accept=["json"]):
                self.ready.set()
                while not self.stopping.is_set():
                    try:
                        conn.drain_events(timeout=0.25)
                    except TimeoutError:
                        pass


class RawClient:
    """One connection; requests to the server's queue, replies by direct reply-to."""

    def __init__(self, url, exchange, routing_key, confirm):
        self.conn = kombu.Connection(url, transport_options={"confirm_publish": confirm})
        self.channel = self.conn.channel()
        self.exchange, self.routing_key = exchange, routing_key
        self.delivery_mode = 2 if confirm else 1
        self.producer = kombu.Producer(self.channel)
        self.replies = {}
        # Direct reply-to: consume the pseudo-queue without acks, on the
        # channel that publishes the requests.
        self.consumer = kombu.Consumer(self.channel, [kombu.Queue(REPLY_TO, no_ack=True)],
                                       callbacks=[self._on_reply], no_ack=True,
                                       accept=["json"])
        self.consumer.consume()

    def _on_reply(self, body, message):
        self.replies[message.properties["correlation_id"]] = body

    def call(self, value):
        correlation_id = uuid.uuid4().hex
        self.producer.publish({"value": value}, exchange=self.exchange,
                              routing_key=self.routing_key, reply_to=REPLY_TO,
                              correlation_id=correlation_id, serializer="json",
                              delivery_mode=self.delivery_mode)
        while correlation_id not in self.replies:
            self.conn.drain_events(timeout=10)
        return self.replies.pop(correlation_id)["result"]

    def close(self):
        self.conn.release()


class RawRPC:
    def __init__(self, url, confirm, name):
        self.label = "raw kombu, confirms" if confirm else "raw kombu, no confirms"
        self.url, self.confirm = url, confirm
        self.exchange = kombu.Exchange(f"raw-{name}", type="topic", durable=True)
        queue = kombu.Queue(f"raw-{name}", self.exchange, routing_key=f"raw-{name}",
                            durable=confirm)
        self.routing_key = f"raw-{name}"
        self.server = RawServer(url, self.exchange, queue, confirm)
        self.server.start()
        self.server.ready.wait(10)
        self._local = threading.local()
        self._clients = []

    def call(self, value):
        client = getattr(self._local, "client", None)
        if client is None:
            client = self._local.client = RawClient(self.url, self.exchange,
                                                    self.routing_key, self.confirm)
            self._clients.append(client)
        return client.call(value)

    def close(self):
        self.server.stopping.set()
        self.server.join(5)
        for client in self._clients:
            client.close()


# --- measuring ---------------------------------------------------------------------

def sequential(side, calls):
    """The calls' latencies, and the CPU time the process spent on them
    (both ends of every side run in this process, so it is the whole
    call's; other processes of a busy machine do not count in it)."""
    timings = []
    cpu_started = time.process_time()
    for _ in range(calls):
        started = time.perf_counter()
        assert side.call(PAYLOAD) == PAYLOAD
        timings.append(time.perf_counter() - started)
    return timings, time.process_time() - cpu_started


def concurrent(side, calls, threads):
    """Round trips per second with ``threads`` callers at once."""
    per_thread = calls // threads
    barrier = threading.Barrier(threads + 1)

    def caller():
        barrier.wait()
        for _ in range(per_thread):
            side.call(PAYLOAD)

    workers = [threading.Thread(target=caller) for _ in range(threads)]
    for worker in workers:
        worker.start()
    barrier.wait()
    started = time.perf_counter()
    for worker in workers:
        worker.join()
    return per_thread * threads / (time.perf_counter() - started)


def percentile(timings, fraction):
    ordered = sorted(timings)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


def measure(sides, calls, threads, rounds):
    """Each side's sequential calls in ``rounds`` interleaved blocks (so a
    change of the machine's load during the run falls on all sides alike),
    then its calls from ``threads`` threads."""
    for side in sides:
        sequential(side, 50)  # warm up: connections, queues, the reply consumer
    timings = {side.label: [] for side in sides}
    cpu = dict.fromkeys(timings, 0.0)
    for _ in range(rounds):
        for side in sides:
            block, block_cpu = sequential(side, calls // rounds)
            timings[side.label] += block
            cpu[side.label] += block_cpu
    return {side.label: {"rate": len(timings[side.label]) / sum(timings[side.label]),
                         "p50": statistics.median(timings[side.label]),
                         "p90": percentile(timings[side.label], 0.9),
                         "cpu": cpu[side.label] / len(timings[side.label]),
                         "parallel": concurrent(side, calls, threads)}
            for side in sides}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=10,
                        help="interleaved blocks of sequential calls per side")
    args = parser.parse_args()

    vhost = make_vhost()
    url = f"amqp://guest:guest@{BROKER}/{vhost}"
    CONF([], project="mininova", default_config_files=[])
    CONF.set_override("transport_url", url.replace("amqp://", "rabbit://"))
    sides = []
    try:
        sides.append(MininovaRPC(url.replace("amqp://", "rabbit://")))
        sides.append(RawRPC(url, True, "confirm"))
        sides.append(RawRPC(url, False, "plain"))
        results = measure(sides, args.calls, args.threads, args.rounds)
    finally:
        for side in sides:
            side.close()
        rpc.cleanup()
        subprocess.run(["rabbitmqctl", "-q", "delete_vhost", vhost], check=False)

    floor = results["raw kombu, confirms"]
    print(f"RPC call round trips over RabbitMQ ({BROKER}, vhost {vhost}, deleted), "
          f"{args.calls} sequential calls each in {args.rounds} interleaved rounds, then "
          f"{args.threads} threads; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print(f"  {'':24s} {'calls/s':>8s} {'p50 ms':>8s} {'p90 ms':>8s} {'CPU ms':>8s} "
          f"{f'{args.threads} threads/s':>12s}")
    for label, result in results.items():
        print(f"  {label:24s} {result['rate']:8.0f} {result['p50'] * 1000:8.2f} "
              f"{result['p90'] * 1000:8.2f} {result['cpu'] * 1000:8.3f} "
              f"{result['parallel']:12.0f}")
    mine = results["mininova RPC"]
    print("targets (against raw kombu with the same guarantees):")
    print(f"  throughput ratio       {mine['rate'] / floor['rate']:5.2f} >= 0.8 "
          f"({args.threads} threads: {mine['parallel'] / floor['parallel']:.2f})")
    print(f"  p50 ÷ raw p50          {mine['p50'] / floor['p50']:5.2f} <= 1.3")
    print(f"  (CPU per call ÷ raw's  {mine['cpu'] / floor['cpu']:5.2f}: both ends of a call, "
          f"this process's CPU time, which a busy machine does not inflate much)")


if __name__ == "__main__":
    main()
