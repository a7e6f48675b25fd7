"""A compute service that goes away and comes back: the API deletes a
server of a down compute from the database alone, and the compute reaps
the guest it finds orphaned when it starts again."""

import signal
import time

from tests.integration import deployment as dep


def wait_for_state(admin, host, state, timeout=40):
    deadline = time.monotonic() + timeout
    while True:
        services = {s["host"]: s["state"] for s in admin.list_services()
                    if s["binary"] == "mininova-compute"}
        if services.get(host) == state:
            return
        assert time.monotonic() < deadline, f"compute on {host} never {state}: {services}"
        time.sleep(0.5)


def test_guest_of_a_server_deleted_while_its_compute_was_down_is_reaped(cloud):
    admin = cloud.client()
    image = dep.upload_tiny_image(admin)
    server = admin.create_server("orphan", image["id"], "42")
    server = dep.wait_for_status(admin, server["id"], "ACTIVE")
    domain = server["OS-EXT-SRV-ATTR:instance_name"]

    cloud.stop_service("mininova-compute", signal.SIGTERM)
    wait_for_state(admin, cloud.host, "down")
    admin.delete_server(server["id"])
    dep.wait_for_gone(admin, server["id"])
    assert "instance's host" in cloud.log("mininova-api")
    assert cloud.domain_names() == [domain]  # nobody destroyed it: its compute is down

    cloud.start_service("mininova-compute")
    wait_for_state(admin, cloud.host, "up")
    deadline = time.monotonic() + 30
    while cloud.domain_names():
        assert time.monotonic() < deadline, "the orphaned guest was not reaped"
        time.sleep(0.5)
    assert (f"Destroying instance with name label '{server['id']}' which is marked as "
            "DELETED but still present on host.") in cloud.log("mininova-compute")
    assert not (cloud.instances_path / server["id"]).exists()
