"""The conductor's call to select_destinations is monitored (oslo.messaging's
call_monitor_timeout): it may last long_rpc_timeout, but only while the
scheduler sends heartbeats. A scheduler that is slow but alive is waited
for; one that is gone fails the boot after rpc_response_timeout, with a
fault that says the scheduler did not answer, and its request does not run
later when a scheduler comes back.

Timeouts are lowered for the test: rpc_response_timeout 5 s (so the call
monitor's 5 s, heartbeats every 2.5 s), long_rpc_timeout 60 s."""

import re
import signal
import time

import pytest

from tests.integration import deployment as dep
from tests.integration.conftest import run_deployment

RPC_RESPONSE_TIMEOUT = 5
LONG_RPC_TIMEOUT = 60
# Longer than rpc_response_timeout, far shorter than long_rpc_timeout.
SLOW_SCHEDULING_SECONDS = 12


@pytest.fixture(scope="module")
def cloud(work_root, rabbit_url):
    path = work_root / "scheduler_outage"
    path.mkdir(mode=0o755)
    filters = ("RetryFilter,AvailabilityZoneFilter,RamFilter,DiskFilter,ComputeFilter,"
               "SlowFilter")
    yield from run_deployment(
        path, rabbit_url, f"sqlite:///{path}/mininova.sqlite",
        config={"DEFAULT": {"rpc_response_timeout": RPC_RESPONSE_TIMEOUT,
                            "long_rpc_timeout": LONG_RPC_TIMEOUT},
                "filter_scheduler": {
                    "available_filters": "mininova.scheduler.filters.all_filters,"
                                         "tests.functional.custom_filters.SlowFilter",
                    "enabled_filters": filters}},
        # The scheduler imports the test filter from the repository.
        service_env={"mininova-scheduler": {"PYTHONPATH": str(dep.REPO)}})


def start_scheduler(cloud, slow_seconds=0):
    """Start the scheduler and wait until it consumes its queue."""
    def starts():
        return cloud.log("mininova-scheduler").count("Join ServiceGroup membership")
    before = starts()
    cloud.start_service("mininova-scheduler",
                        env={"MININOVA_TEST_SLOW_FILTER_SECONDS": str(slow_seconds)})
    dep.wait_until(starts, lambda now: now > before, timeout=60, interval=0.2,
                   what="the scheduler's start")


def test_a_slow_scheduler_is_waited_for_thanks_to_its_heartbeats(cloud, admin, tiny):
    cloud.stop_service("mininova-scheduler")
    start_scheduler(cloud, slow_seconds=SLOW_SCHEDULING_SECONDS)
    server = admin.create_server("slowly-scheduled", tiny["id"], "42")
    dep.wait_for_status(admin, server["id"], "ACTIVE", timeout=LONG_RPC_TIMEOUT)
    # The call lasted longer than rpc_response_timeout, and succeeded.
    [took] = re.findall(r"Took (\d+\.\d+) seconds to select destinations",
                        cloud.log("mininova-conductor"))
    assert float(took) >= SLOW_SCHEDULING_SECONDS > RPC_RESPONSE_TIMEOUT
    assert "Sending call-monitor heartbeat for active call to select_destinations" in (
        cloud.log("mininova-scheduler"))
    admin.delete_server(server["id"])
    dep.wait_for_gone(admin, server["id"])


def test_a_boot_with_the_scheduler_killed_ends_in_error_and_says_why(cloud, admin, tiny):
    cloud.stop_service("mininova-scheduler", sig=signal.SIGKILL)
    started = time.monotonic()
    server = admin.create_server("unscheduled", tiny["id"], "42")
    server = dep.wait_for_status(admin, server["id"], "ERROR",
                                 timeout=2 * RPC_RESPONSE_TIMEOUT)
    print(f"\nboot with the scheduler killed: ERROR after {time.monotonic() - started:.1f} s "
          f"(rpc_response_timeout {RPC_RESPONSE_TIMEOUT} s)")
    fault = server["fault"]
    assert fault["code"] == 504
    assert fault["message"].startswith("Timed out waiting for a reply to message ID ")
    assert fault["message"].endswith(
        f": scheduler did not answer select_destinations: no reply and no heartbeat for "
        f"{RPC_RESPONSE_TIMEOUT} s (is any mininova-scheduler running?)")
    assert "Failed to schedule instances" in cloud.log("mininova-conductor")

    # The request expired in the scheduler's queue: a scheduler started now
    # does not run it (it would count a phantom instance on a host).
    request_id = admin.list_instance_actions(server["id"])[0]["request_id"]
    start_scheduler(cloud)
    later = admin.create_server("scheduled-again", tiny["id"], "42")
    dep.wait_for_status(admin, later["id"], "ACTIVE")
    assert request_id not in cloud.log("mininova-scheduler")
    for server_id in (server["id"], later["id"]):
        admin.delete_server(server_id)
        dep.wait_for_gone(admin, server_id)
    assert cloud.domain_names() == []
