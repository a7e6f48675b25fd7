"""os-server-external-events: the API answers each event, casts the
accepted ones to the server's compute, where a waiting build gets them and
any other is logged as unexpected, with Nova's lines."""

import threading
import uuid

import pytest
from oslo_log import formatters

from mininova.compute import instance_events
from tests.functional import helpers


@pytest.fixture
def server(admin, image):
    created = admin.create_server("vm1", image["id"], "42")
    return helpers.wait_for_status(admin, created["id"], "ACTIVE")


@pytest.fixture
def log_lines():
    capture = helpers.LogCapture(formatters.ContextFormatter())
    yield capture.lines
    capture.remove()


def post_events(client, events):
    return client.session.post(f"{client.compute_url}/os-server-external-events",
                               json={"events": events})


def test_an_event_nobody_waits_for_is_logged_as_unexpected(admin, server, log_lines):
    port = str(uuid.uuid4())
    response = post_events(admin, [{"name": "network-vif-plugged", "server_uuid": server["id"],
                                    "tag": port}])
    assert response.status_code == 200
    assert response.json()["events"] == [{"name": "network-vif-plugged",
                                          "server_uuid": server["id"], "tag": port,
                                          "status": "completed", "code": 200}]
    expected = (f"Received unexpected event network-vif-plugged-{port} for instance with "
                "vm_state active and task_state None.")
    helpers.wait_until(lambda: "\n".join(log_lines()), lambda text: expected in text,
                       what="the compute's unexpected-event line")
    text = "\n".join(log_lines())
    assert (f"Creating event network-vif-plugged:{port} for instance {server['id']} "
            f"on host1") in text


def test_network_changed_refreshes_the_cache_and_is_not_unexpected(admin, server, log_lines):
    port = str(uuid.uuid4())
    response = post_events(admin, [{"name": "network-changed", "server_uuid": server["id"],
                                    "tag": port}])
    assert response.status_code == 200
    expected = f"Refreshing instance network info cache due to event network-changed-{port}."
    helpers.wait_until(lambda: "\n".join(log_lines()), lambda text: expected in text,
                       what="the compute's refresh line")
    assert "Received unexpected event network-changed" not in "\n".join(log_lines())


def test_a_waiting_build_gets_its_event(admin, server, cloud):
    compute = cloud.computes["host1"].manager
    port = str(uuid.uuid4())
    failures = []
    done = threading.Event()

    def wait():
        with compute.driver.virtapi.wait_for_instance_event(
                {"uuid": server["id"]}, [("network-vif-plugged", port)], 10,
                lambda name, instance: failures.append(name)):
            pass
        done.set()
    waiter = threading.Thread(target=wait)
    waiter.start()
    post_events(admin, [{"name": "network-vif-plugged", "server_uuid": server["id"],
                         "tag": port}])
    assert done.wait(10)
    waiter.join()
    assert failures == []


def test_unknown_servers_and_bad_events(admin):
    unknown = str(uuid.uuid4())
    response = post_events(admin, [{"name": "network-vif-plugged", "server_uuid": unknown}])
    assert response.status_code == 207
    assert response.json()["events"][0]["code"] == 404
    assert post_events(admin, [{"name": "reboot", "server_uuid": unknown}]).status_code == 400


def test_only_services_and_admins_send_events(demo, server):
    response = post_events(demo, [{"name": "network-vif-plugged",
                                   "server_uuid": server["id"]}])
    assert response.status_code == 403


def test_a_timeout_calls_the_error_callback():
    class Compute:
        instance_events = instance_events.InstanceEvents()
    virtapi = instance_events.ComputeVirtAPI(Compute())
    failures = []
    with virtapi.wait_for_instance_event({"uuid": "u1"}, [("network-vif-plugged", "p1")],
                                         0.05, lambda name, inst: failures.append(name)):
        pass
    assert failures == ["network-vif-plugged-p1"]
    assert Compute.instance_events.clear_events_for_instance("u1") == {}
