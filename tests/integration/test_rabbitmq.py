"""RPC over a real RabbitMQ that goes away and comes back.

The machine's RabbitMQ is shared with other test runs and is never stopped
here: these tests run the cloud on a RabbitMQ node of their own
(private_rabbit.py), stopped and started as a real restart would be.

* A POST /servers while the broker is down is answered within
  ``[api] rpc_publish_timeout``: a 503 that says so, and no server; or, if
  the broker is back in time, a 202 and a server that is built.
* A loop of boots and deletes across a 20 s outage, with a cast in flight:
  the build cast to a compute that is frozen (SIGSTOP) when the broker
  stops, so the broker still holds it, unacknowledged. Every server ends
  ACTIVE and then deleted (none stuck, none in ERROR; the cast in flight
  is delivered after the restart), no service is ever reported down, every
  service reconnects by itself, and no build waits a whole RPC timeout
  behind a periodic task (the slowest ``Took … seconds to build
  instance.`` is printed).
* Queues and an exchange that an older mininova declared transient (on the
  shared broker, in the session's vhost) are replaced by durable ones.
"""

import os
import re
import secrets
import signal
import threading
import time

import pytest

from mininova.cli.client import ClientException
from tests.integration import deployment as dep
from tests.integration.conftest import run_deployment
from tests.integration.private_rabbit import PrivateRabbit

OUTAGE_SECONDS = 20
CYCLES = 20
# [api] rpc_publish_timeout here: long enough for a stopped node to start
# again inside it (about 5 s on the first development machine; more than
# 15 s once on a machine 2-3 times slower, 1 Dec 2026, where 15 was too
# short for the restart test).
API_PUBLISH_TIMEOUT = 30
# [DEFAULT] rpc_response_timeout (the default): what a build must never
# wait behind a periodic task.
RPC_RESPONSE_TIMEOUT = 60
SERVICES = ("mininova-conductor", "mininova-scheduler", "mininova-compute")


@pytest.fixture(scope="module")
def broker(work_root):
    rabbit = PrivateRabbit(work_root / "rabbitmq_node")
    try:
        yield rabbit.start()
    finally:
        rabbit.destroy()


@pytest.fixture(scope="module")
def cloud(work_root, broker):
    path = work_root / "rabbitmq"
    path.mkdir(mode=0o755)
    yield from run_deployment(
        path, broker.url, f"sqlite:///{path}/mininova.sqlite",
        config={"DEFAULT": {
            # Nova's default: an outage of 20 s must not make anyone "down".
            "service_down_time": 60,
            "rpc_response_timeout": RPC_RESPONSE_TIMEOUT,
            # The periodic recount runs during the outage too.
            "update_resources_interval": 2,
        }, "api": {"rpc_publish_timeout": API_PUBLISH_TIMEOUT}})


@pytest.fixture
def patient_admin(cloud):
    """An admin client that gives up a little after the API's own bound:
    if the API blocked longer, the test fails with a timeout."""
    client = cloud.client()
    client.timeout = API_PUBLISH_TIMEOUT + 10
    return client


def test_a_post_while_the_broker_is_down_is_a_503_and_creates_nothing(
        cloud, patient_admin, tiny, broker):
    broker.stop()
    try:
        started = time.monotonic()
        with pytest.raises(ClientException) as caught:
            patient_admin.create_server("during-outage", tiny["id"], "42")
        print(f"\nPOST /servers with the broker down: {caught.value.code} after "
              f"{time.monotonic() - started:.1f} s")
        assert caught.value.code == 503
        assert caught.value.message.startswith(
            f"Could not send schedule_and_build_instances to conductor: the message broker "
            f"was unreachable for {API_PUBLISH_TIMEOUT} s (")
        assert patient_admin.list_servers() == []
    finally:
        broker.start()


def test_a_post_while_the_broker_restarts_succeeds_after_the_reconnect(
        cloud, patient_admin, tiny, broker):
    broker.stop()
    restart = threading.Thread(target=broker.start)
    restart.start()
    try:
        started = time.monotonic()
        server = patient_admin.create_server("across-restart", tiny["id"], "42")
        print(f"\nPOST /servers during a broker restart: 202 after "
              f"{time.monotonic() - started:.1f} s")
    finally:
        restart.join()
    dep.wait_for_status(patient_admin, server["id"], "ACTIVE", timeout=180)
    patient_admin.delete_server(server["id"])
    dep.wait_for_gone(patient_admin, server["id"], timeout=180)


class ServiceWatcher(threading.Thread):
    """Polls os-services; remembers every service seen down."""

    def __init__(self, client):
        super().__init__(daemon=True)
        self.client = client
        self.seen_down = []
        self.polls = 0
        self._stop_event = threading.Event()

    def run(self):
        while not self._stop_event.wait(0.5):
            for service in self.client.list_services():
                if service["state"] != "up":
                    self.seen_down.append((time.monotonic(), service["binary"]))
            self.polls += 1

    def stop(self):
        self._stop_event.set()
        self.join()


def retrying(action, what, refused, *args):
    """``action(*args)`` again while the API answers 503 (the broker is away)."""
    while True:
        try:
            return action(*args)
        except ClientException as exc:
            if exc.code != 503:
                raise
            refused.append(what)
            time.sleep(1)


def test_boots_and_deletes_across_a_broker_restart_leave_nothing_stuck(
        cloud, patient_admin, tiny, broker):
    admin = patient_admin
    watcher = ServiceWatcher(admin)
    watcher.start()
    refused = []
    loop_ids = []
    for cycle in range(CYCLES):
        if cycle == 2:
            server = boot_with_its_cast_in_flight_across_an_outage(cloud, admin, tiny, broker)
            in_flight_id = server["id"]
        else:
            server = retrying(admin.create_server, "POST", refused,
                              f"loop-{cycle}", tiny["id"], "42")
        loop_ids.append(server["id"])
        dep.wait_for_status(admin, server["id"], "ACTIVE", timeout=180)
        retrying(admin.delete_server, "DELETE", refused, server["id"])
        dep.wait_for_gone(admin, server["id"], timeout=180)
    watcher.stop()

    compute = cloud.log("mininova-compute")
    builds = {uuid: float(took) for uuid, took in re.findall(
        r"\[instance: ([0-9a-f-]+)\] Took (\d+\.\d+) seconds to build instance", compute)
        if uuid in loop_ids}
    in_flight = builds.pop(in_flight_id)
    print(f"\n{CYCLES} boot/delete cycles across a {OUTAGE_SECONDS} s broker outage: "
          f"the build whose cast was in flight took {in_flight:.2f} s; slowest of the "
          f"others 'Took {max(builds.values()):.2f} seconds to build instance.'; requests "
          f"answered 503 and retried: {refused or 'none'}")
    assert watcher.polls > 0 and watcher.seen_down == [], watcher.seen_down
    assert admin.list_servers() == []
    assert cloud.domain_names() == []
    assert len(builds) == CYCLES - 1
    assert max([in_flight, *builds.values()]) < RPC_RESPONSE_TIMEOUT, (
        "a build waited a whole RPC timeout")
    # The cast in flight was built once: a copy redelivered after the
    # restart (if the frozen compute had it in its socket already) is dropped.
    assert compute.count(f"[instance: {in_flight_id}] Starting instance...") == 1
    for service in SERVICES:
        assert "Reconnected to AMQP server" in cloud.log(service), service
    assert "Lost connection to mininova-conductor for reporting service status" in compute
    assert "Recovered from being unable to report status." in compute


def boot_with_its_cast_in_flight_across_an_outage(cloud, admin, tiny, broker):
    """POST a server while its compute is frozen: the conductor's
    build_and_run_instance cast waits in the broker, unacknowledged, when
    the broker stops; the compute is thawed to live through the outage."""
    compute = cloud.processes["mininova-compute"]
    os.kill(compute.pid, signal.SIGSTOP)
    try:
        server = admin.create_server("cast-in-flight", tiny["id"], "42")
        dep.wait_until(lambda: cloud.log("mininova-conductor"),
                       lambda log: re.search(rf"\[instance: {server['id']}\] Selected host", log),
                       timeout=60, interval=0.1, what="the build cast to the compute")
        broker.stop()
    finally:
        os.kill(compute.pid, signal.SIGCONT)
    time.sleep(OUTAGE_SECONDS)
    broker.start()
    return server


def test_queues_an_older_mininova_declared_without_durability_are_replaced(rabbit_url, conf,
                                                                          caplog):
    """Upgrading a deployment: RabbitMQ refuses to declare a durable queue or
    exchange over a transient one of the same name; mininova replaces it.
    (Names of this test's own: the session's vhost is shared by the
    deployments of the other modules.)"""
    import kombu

    from mininova import rpc

    topic = f"upgrade-{secrets.token_hex(3)}"
    transport = rpc.Transport(rabbit_url, f"{topic}-exchange")
    with transport.connection() as conn, conn.channel() as channel:
        old_exchange = kombu.Exchange(f"{topic}-exchange", type="topic", durable=False)
        kombu.Queue(topic, old_exchange, routing_key=topic, durable=False,
                    auto_delete=False)(channel).declare()
    server = rpc.RPCServer(topic, "host1", [], transport=transport)
    server.start()
    try:
        assert server._consumer.ready.is_set()
    finally:
        server.stop()
    assert f"Queue {topic} exists without durability" in caplog.text
    assert f"Exchange {topic}-exchange exists without durability" in caplog.text
    with transport.connection() as conn, conn.channel() as channel:
        # RabbitMQ would refuse these if what is there were still transient.
        kombu.Exchange(f"{topic}-exchange", type="topic", durable=True)(channel).declare()
        kombu.Queue(topic, durable=True, auto_delete=False)(channel).declare()
        # Not left in the session's vhost.
        kombu.Queue(topic)(channel).delete()
        kombu.Queue(f"{topic}.host1")(channel).delete()
        kombu.Exchange(f"{topic}-exchange")(channel).delete()
