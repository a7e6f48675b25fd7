"""Service heartbeats and the compute's distance from the database."""

import os
import socket
import threading
import time

import pytest

from mininova import exception, service
from mininova.conf import CONF
from mininova.db import api as db_api
from tests.functional import helpers


@pytest.fixture
def fast_heartbeats(conf):
    """Beat every second, down after two: set before the services start."""
    CONF.set_override("report_interval", 1)
    CONF.set_override("service_down_time", 2)


def test_heartbeats_keep_services_up(fast_heartbeats, admin):
    time.sleep(3)
    assert {s["binary"]: s["state"] for s in admin.list_services()} == {
        "mininova-conductor": "up", "mininova-scheduler": "up", "mininova-compute": "up"}


def test_a_stopped_compute_is_reported_down(fast_heartbeats, admin, cloud):
    cloud.computes["host1"].stop()
    time.sleep(3)
    services = {s["binary"]: s["state"] for s in admin.list_services()}
    assert services == {"mininova-conductor": "up", "mininova-scheduler": "up",
                        "mininova-compute": "down"}
    assert admin.list_hypervisors()[0]["state"] == "down"


@pytest.fixture
def compute_threads_without_database(monkeypatch):
    """Make any database access from a compute thread fail: in one process
    with the controller services, the compute's code could otherwise reach
    the database the conductor opened (the structural wall is checked by
    tests/unit/test_db_wall.py)."""
    real_get_engine = db_api.get_engine

    def guarded_get_engine(url=None):
        name = threading.current_thread().name
        if name.startswith(("rpc-compute", "rpc-consumer-compute", "mininova-compute")):
            raise exception.DBNotAllowed(binary=f"mininova-compute thread {name}")
        return real_get_engine(url)

    monkeypatch.setattr(db_api, "get_engine", guarded_get_engine)


def test_compute_builds_and_deletes_without_touching_the_database(
        compute_threads_without_database, admin, image):
    server = admin.create_server("vm1", image["id"], "1")
    helpers.wait_for_status(admin, server["id"], "ACTIVE")
    admin.delete_server(server["id"])
    helpers.wait_for_gone(admin, server["id"])


def test_a_compute_restarting_mid_build_puts_the_instance_in_error(cloud, admin, image):
    """init_host: a build the old process left in 'spawning' can never finish."""
    from mininova import context as mn_context

    ctxt = mn_context.get_admin_context()
    server = admin.create_server("vm1", image["id"], "42")
    helpers.wait_for_status(admin, server["id"], "ACTIVE")
    db_api.instance_update(ctxt, server["id"], {"vm_state": "building",
                                                "task_state": "spawning"})
    cloud.computes["host1"].manager.init_host()
    server = admin.get_server(server["id"])
    assert (server["status"], server["OS-EXT-STS:task_state"]) == ("ERROR", None)
    assert cloud.computes["host1"].manager.driver.list_instance_uuids() == []


def test_a_compute_restarting_mid_delete_finishes_the_delete(cloud, admin, image):
    from mininova import context as mn_context

    ctxt = mn_context.get_admin_context()
    server = admin.create_server("vm1", image["id"], "42")
    helpers.wait_for_status(admin, server["id"], "ACTIVE")
    db_api.instance_update(ctxt, server["id"], {"task_state": "deleting"})
    cloud.computes["host1"].manager.init_host()
    helpers.wait_for_gone(admin, server["id"])


# --- stopping a WSGI service --------------------------------------------------------

def tiny_wsgi_service():
    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]
    return service.WSGIService("tiny", app, "127.0.0.1", 0, 1)


def test_a_wsgi_service_stops_without_waiting_for_its_next_poll():
    server = tiny_wsgi_service()
    server.POLL_SECONDS = 30  # only the wake-up can end the loop in time
    server.start()
    started = time.monotonic()
    server.stop()
    assert not server._thread.is_alive()
    assert time.monotonic() - started < server.POLL_SECONDS
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", server.port), timeout=5)


def test_stopping_a_wsgi_service_whose_loop_has_closed_its_sockets_writes_nowhere():
    """The loop may close its sockets (the wake-up pipe too) before stop()
    gets to pull the trigger; that fd number may already belong to a file."""
    server = tiny_wsgi_service()
    server.start()
    server._stopping.set()
    server._thread.join(timeout=5)
    reused_read, reused_write = os.pipe()  # may take the trigger's old numbers
    try:
        server.stop()
        os.set_blocking(reused_read, False)
        with pytest.raises(BlockingIOError):
            os.read(reused_read, 1)
    finally:
        os.close(reused_read)
        os.close(reused_write)


def _reply_consumers():
    """The consuming threads of the transports (each transport's one
    connection consumes its reply queue and its RPC servers' queues)."""
    return [t.name for t in threading.enumerate()
            if t.name.startswith("rpc-consumer-") and t.is_alive()]


def test_the_api_calls_on_the_current_transport_and_leaves_no_consumer(cloud):
    """The API's RPC clients are made with its application, so each cloud
    started in this process calls on the transport of its time, and its
    stop (rpc.cleanup) ends the reply consumer its calls started."""
    from mininova.cmd.all import AllInOne
    from tests.functional.helpers import make_client

    cloud.stop()
    for _ in range(2):
        running = AllInOne().start(compute_hosts=["host1"], api_port=0, image_port=0,
                                   volume_port=0)
        try:
            # The image cache view asks the compute: an RPC call.
            make_client(running, "admin:admin").compute("GET", "/os-image-cache")
        finally:
            running.stop()
        assert _reply_consumers() == []


def test_a_compute_started_before_any_conductor_waits_for_one(conf, caplog):
    """Its first call would go to a queue nobody declared yet, and be lost:
    it pings until a conductor answers, as Nova's compute does."""
    from mininova import context as mn_context
    from mininova.cmd import conductor as conductor_cmd
    from mininova.conductor import api as conductor_api
    from mininova.db import migration

    caplog.set_level("INFO", logger="mininova.conductor.api")
    migration.db_sync()
    waiter = threading.Thread(target=conductor_api.API().wait_until_ready,
                              args=(mn_context.get_admin_context(),),
                              kwargs={"early_timeout": 0.2})
    waiter.start()
    time.sleep(0.6)
    assert waiter.is_alive()
    conductor = conductor_cmd.build_service()
    conductor.start()
    try:
        waiter.join(timeout=10)
        assert not waiter.is_alive()
    finally:
        conductor.stop()
    assert "Timed out waiting for mininova-conductor." in caplog.text
    assert "mininova-conductor connection established successfully" in caplog.text
