"""mininova-compute killed with SIGKILL in the middle of a build and of a
delete, on real libvirt: when it starts again (init_host), the build is in
ERROR with a fault, the delete is finished, and nothing is left behind: no
domain, no instance directory, no half-downloaded ``.part`` base file.

The compute reaches the image service through a proxy that can slow
downloads down, so the kill surely lands while the image is being fetched.
"""

import hashlib
import os
import signal

import pytest

from tests.integration import deployment as dep
from tests.integration.conftest import run_deployment
from tests.waiting import wait_for_settled, wait_until


@pytest.fixture(scope="module")
def cloud(work_root, rabbit_url, proxy):
    path = work_root / "test_crash_recovery"
    path.mkdir(mode=0o755)
    for running in run_deployment(path, rabbit_url, f"sqlite:///{path}/mininova.sqlite",
                                  compute_config={"glance": {"api_servers": proxy.url}}):
        proxy.upstream_port = running.image_port
        yield running


def kill_compute(cloud):
    cloud.stop_service("mininova-compute", signal.SIGKILL)


def restart_compute(cloud, admin):
    cloud.start_service("mininova-compute")
    wait_until(lambda: [s["state"] for s in admin.list_services()
                        if s["binary"] == "mininova-compute"],
               lambda states: states == ["up"], 60, interval=0.5, what="the compute up")


def test_killed_mid_build_the_server_goes_to_error_and_nothing_is_left(cloud, admin,
                                                                      proxy):
    image = dep.upload_tiny_image(admin, name="slow")
    base = cloud.instances_path / "_base" / hashlib.sha1(image["id"].encode()).hexdigest()
    proxy.seconds_per_download = 30.0
    try:
        server = admin.create_server("doomed", image["id"], "42")
        wait_until(lambda: os.path.exists(f"{base}.part"), bool, 60, interval=0.1,
                   what="the download under way")
        assert admin.get_server(server["id"])["OS-EXT-STS:task_state"] == "spawning"
        kill_compute(cloud)
    finally:
        proxy.seconds_per_download = 0.0
    restart_compute(cloud, admin)
    failed = wait_for_settled(admin, server["id"], "ERROR", timeout=60)
    assert "interrupted by a restart" in failed["fault"]["message"]
    assert "Instance failed to spawn correctly, setting to ERROR state" in cloud.log(
        "mininova-compute")
    assert not os.path.exists(f"{base}.part")
    assert not (cloud.instances_path / server["id"]).exists()
    assert cloud.domain_names() == []
    admin.delete_server(server["id"])
    dep.wait_for_gone(admin, server["id"])


def test_killed_mid_delete_the_delete_finishes_after_restart(cloud, admin):
    image = dep.upload_tiny_image(admin)
    server = admin.create_server("deleted-twice", image["id"], "42")
    server = dep.wait_for_status(admin, server["id"], "ACTIVE")
    # Frozen, the compute still looks up (its last heartbeat is recent), so
    # the API casts the delete to it; the kill then loses the message or
    # leaves it unacknowledged: either way only init_host can finish.
    os.kill(cloud.processes["mininova-compute"].pid, signal.SIGSTOP)
    try:
        admin.delete_server(server["id"])
        assert admin.get_server(server["id"])["OS-EXT-STS:task_state"] == "deleting"
    finally:
        kill_compute(cloud)
    assert cloud.domain_names() == [server["OS-EXT-SRV-ATTR:instance_name"]]
    restart_compute(cloud, admin)
    dep.wait_for_gone(admin, server["id"])
    wait_until(cloud.domain_names, lambda names: names == [], 30, interval=0.5,
               what="the guest destroyed")
    assert not (cloud.instances_path / server["id"]).exists()
