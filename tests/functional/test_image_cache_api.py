"""``GET /os-image-cache`` and the compute's image cache periodic task, with
the fake driver (which has no cache: its report is empty unless a test
gives it one)."""

import calendar
import threading
import time

import pytest

from mininova.cli.client import ClientException
from mininova.conf import CONF
from tests.functional import helpers

TWO_HOSTS = pytest.mark.hosts("host1", "host2")


def epoch(iso):
    return calendar.timegm(time.strptime(iso, "%Y-%m-%dT%H:%M:%SZ"))


@TWO_HOSTS
def test_every_up_compute_reports_its_cache(admin):
    response = admin.compute("GET", "/os-image-cache")

    assert [cache["host"] for cache in response["image_cache"]] == ["host1", "host2"]
    cache = response["image_cache"][0]
    assert set(cache) == {"host", "next_run_at", "manager_interval",
                          "remove_unused_base_images",
                          "remove_unused_original_minimum_age_seconds", "base_files"}
    assert cache["base_files"] == []
    assert cache["manager_interval"] == 2400
    assert cache["remove_unused_base_images"] is True
    assert cache["remove_unused_original_minimum_age_seconds"] == 86400
    # The first pass comes one interval after the service started.
    assert 0 < epoch(cache["next_run_at"]) - time.time() <= 2400 + 1


@TWO_HOSTS
def test_one_host(admin):
    [cache] = admin.get_image_cache(host="host2")

    assert cache["host"] == "host2"


def test_an_unknown_host_is_a_404_naming_it(admin):
    with pytest.raises(ClientException) as error:
        admin.get_image_cache(host="nowhere")

    assert error.value.code == 404
    assert error.value.message == "Compute host nowhere could not be found."


def test_only_admins_may_look(demo):
    with pytest.raises(ClientException) as error:
        demo.get_image_cache()

    assert error.value.code == 403
    assert error.value.message == ("Policy doesn't allow os_compute_api:os-image-cache:list "
                                   "to be performed.")


@pytest.fixture
def fast_heartbeats(conf):
    """Beat every second, down after four: set before the services start.
    (Down after two was too tight on a loaded machine: the living host
    missed its beats too.)"""
    CONF.set_override("report_interval", 1)
    CONF.set_override("service_down_time", 4)


@TWO_HOSTS
def test_a_compute_that_is_down_is_left_out_or_reported_down(fast_heartbeats, cloud, admin):
    cloud.computes["host2"].stop()
    # Past the down time (asking sooner would wait on the stopped host's
    # answer, as the API's call to a compute thought up does).
    time.sleep(5)

    [cache] = admin.get_image_cache(host="host2")
    assert cache == {"host": "host2", "error": "The compute service on host host2 is down.",
                     "next_run_at": None, "base_files": []}
    assert [cache["host"] for cache in admin.get_image_cache()] == ["host1"]


def test_the_driver_reports_with_this_hosts_instances(cloud, admin, image):
    server = admin.create_server("vm", image["id"], "42")
    helpers.wait_for_status(admin, server["id"], "ACTIVE")
    driver = cloud.computes["host1"].manager.driver
    asked = []
    base = {"filename": "ab" * 20, "image_id": image["id"], "image_name": "tiny",
            "size": 1024, "used_by": [server["id"]], "age_seconds": 5,
            "will_be_removed": False, "removable_at": None}

    def get_image_cache(context, all_instances, next_pass_at):
        asked.append(([i["uuid"] for i in all_instances], next_pass_at))
        return [base]
    driver.get_image_cache = get_image_cache

    [cache] = admin.get_image_cache()

    assert cache["base_files"] == [base]
    [(uuids, next_pass_at)] = asked
    assert uuids == [server["id"]]
    assert abs(next_pass_at - epoch(cache["next_run_at"])) < 1


def watch_passes(cloud, host="host1"):
    """The instance uuids of each image cache manager pass of ``host``."""
    passes = []
    driver = cloud.computes[host].manager.driver
    driver.manage_image_cache = lambda context, all_instances: passes.append(
        [i["uuid"] for i in all_instances])
    return passes


def test_the_periodic_task_hands_the_driver_this_hosts_instances(conf, cloud, admin, image):
    conf.set_override("manager_interval", 1, "image_cache")
    server = admin.create_server("vm", image["id"], "42")
    helpers.wait_for_status(admin, server["id"], "ACTIVE")
    passes = watch_passes(cloud)

    helpers.wait_until(lambda: list(passes), lambda seen: [server["id"]] in seen, timeout=5)

    admin.delete_server(server["id"])
    helpers.wait_for_gone(admin, server["id"])
    # Deleted instances are not handed over.
    helpers.wait_until(lambda: list(passes), lambda seen: seen[-1] == [], timeout=5)


@pytest.mark.parametrize("interval", [0, -1])
def test_an_interval_of_zero_or_less_turns_the_manager_off(conf, cloud, admin, interval):
    conf.set_override("manager_interval", interval, "image_cache")
    passes = watch_passes(cloud)

    done = threading.Event()
    done.wait(2.5)  # more than two ticks of the periodic loop

    assert passes == []
    [cache] = admin.get_image_cache()
    assert cache["next_run_at"] is None
    assert cache["manager_interval"] == interval
