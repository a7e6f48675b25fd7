"""Services or the broker away, in one process over memory://.

The API while the message broker cannot be reached: an answer within
``[api] rpc_publish_timeout`` (a 503 that says so), and no server left in a
state nobody will move it out of. The outage is staged: every publish fails
as a refused connection would, until the broker "returns".

A boot with no scheduler running ends in ERROR after rpc_response_timeout
(the call monitor), while a slow scheduler that works on it is waited for.
(tests/integration/test_faults.py does both with real processes.)
"""

import pytest

from mininova import rpc
from mininova.cli.client import ClientException
from tests.functional import helpers


@pytest.fixture
def broker(cloud, monkeypatch, conf):
    """``broker.down = True`` makes every publish fail as if RabbitMQ were
    stopped; the API gives up after one second."""
    conf.set_override("rpc_publish_timeout", 1, "api")
    transport = rpc.get_transport()
    real_publish_once = transport._publish_once

    class Broker:
        down = False

    def publish_once(*args, **kwargs):
        if Broker.down:
            raise ConnectionRefusedError(111, "Connection refused")
        return real_publish_once(*args, **kwargs)

    monkeypatch.setattr(transport, "_publish_once", publish_once)
    return Broker


def test_a_create_while_the_broker_is_away_is_a_503_and_leaves_no_server(
        admin, image, broker):
    broker.down = True
    with pytest.raises(ClientException) as caught:
        admin.create_server("vm1", image["id"], "42")
    assert caught.value.code == 503
    assert caught.value.message == (
        "Could not send schedule_and_build_instances to conductor: the message broker "
        "was unreachable for 1 s ([Errno 111] Connection refused)")
    assert admin.list_servers() == []

    broker.down = False
    server = admin.create_server("vm1", image["id"], "42")
    helpers.wait_for_status(admin, server["id"], "ACTIVE")


def test_a_delete_while_the_broker_is_away_is_a_503_and_the_server_stays_as_it_was(
        admin, image, broker):
    server = admin.create_server("vm1", image["id"], "42")
    helpers.wait_for_status(admin, server["id"], "ACTIVE")
    broker.down = True
    with pytest.raises(ClientException) as caught:
        admin.delete_server(server["id"])
    assert caught.value.code == 503
    shown = admin.get_server(server["id"])
    assert (shown["status"], shown["OS-EXT-STS:task_state"]) == ("ACTIVE", None)

    broker.down = False
    admin.delete_server(server["id"])
    helpers.wait_for_gone(admin, server["id"])


@pytest.mark.parametrize("action, info", [
    ("os-stop", None), ("pause", None), ("suspend", None),
    ("reboot", {"type": "HARD"}), ("resize", {"flavorRef": "84"}),
])
def test_an_action_the_broker_never_took_is_put_back(admin, image, broker, action, info):
    """No compute will ever clear a task_state whose cast was refused: the
    server goes back to how it was, and the action can be asked again."""
    server = admin.create_server("vm1", image["id"], "42")
    helpers.wait_for_status(admin, server["id"], "ACTIVE")
    broker.down = True
    with pytest.raises(ClientException) as caught:
        admin.server_action(server["id"], action, info)
    assert caught.value.code == 503
    shown = admin.get_server(server["id"])
    assert (shown["status"], shown["OS-EXT-STS:task_state"]) == ("ACTIVE", None)

    broker.down = False
    admin.server_action(server["id"], "os-stop")
    helpers.wait_for_settled(admin, server["id"], "SHUTOFF")


def test_a_snapshot_the_broker_never_took_leaves_no_queued_image(admin, image, broker):
    server = admin.create_server("vm1", image["id"], "42")
    helpers.wait_for_status(admin, server["id"], "ACTIVE")
    images_before = [i["id"] for i in admin.list_images()]
    broker.down = True
    with pytest.raises(ClientException) as caught:
        admin.server_action(server["id"], "createImage", {"name": "snap"})
    assert caught.value.code == 503
    assert [i["id"] for i in admin.list_images()] == images_before
    assert admin.get_server(server["id"])["OS-EXT-STS:task_state"] is None


def test_a_confirm_the_broker_never_took_can_be_asked_again(admin, image, broker, conf):
    conf.set_override("allow_resize_to_same_host", True)
    server = admin.create_server("vm1", image["id"], "42")
    helpers.wait_for_status(admin, server["id"], "ACTIVE")
    admin.server_action(server["id"], "resize", {"flavorRef": "84"})
    helpers.wait_for_settled(admin, server["id"], "VERIFY_RESIZE")
    broker.down = True
    with pytest.raises(ClientException) as caught:
        admin.server_action(server["id"], "confirmResize")
    assert caught.value.code == 503
    assert admin.get_server(server["id"])["status"] == "VERIFY_RESIZE"

    broker.down = False
    admin.server_action(server["id"], "confirmResize")
    helpers.wait_for_settled(admin, server["id"], "ACTIVE")


# --- the scheduler away, or slow ------------------------------------------------------

def test_a_boot_with_no_scheduler_running_ends_in_error_with_a_fault_that_says_so(
        cloud, admin, image, conf):
    conf.set_override("rpc_response_timeout", 1)
    [scheduler] = [s for s in cloud.services if getattr(s, "binary", "") == "mininova-scheduler"]
    scheduler.stop()
    server = admin.create_server("vm1", image["id"], "42")
    server = helpers.wait_for_status(admin, server["id"], "ERROR", timeout=30)
    assert server["fault"]["code"] == 504
    assert server["fault"]["message"].startswith("Timed out waiting for a reply to message ID ")
    assert server["fault"]["message"].endswith(
        ": scheduler did not answer select_destinations: no reply and no heartbeat for 1 s "
        "(is any mininova-scheduler running?)")


@pytest.fixture
def slow_scheduler(conf, monkeypatch):
    """Every scheduling takes 3 s: three times rpc_response_timeout, far
    less than long_rpc_timeout. Set before the cloud starts."""
    conf.set_override("rpc_response_timeout", 1)
    conf.set_override("available_filters", ["mininova.scheduler.filters.all_filters",
                                            "tests.functional.custom_filters.SlowFilter"],
                      "filter_scheduler")
    conf.set_override("enabled_filters", ["SlowFilter"], "filter_scheduler")
    monkeypatch.setenv("MININOVA_TEST_SLOW_FILTER_SECONDS", "3")


def test_a_slow_scheduler_is_waited_for_thanks_to_its_heartbeats(slow_scheduler, admin, image):
    server = admin.create_server("vm1", image["id"], "42")
    helpers.wait_for_status(admin, server["id"], "ACTIVE", timeout=30)
