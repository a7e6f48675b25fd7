"""Every server action on real libvirt + QEMU, through the whole multi-process
deployment (API, conductor, scheduler, compute over RabbitMQ): the states
the API shows, what libvirt shows, the files on disk, the instance actions.

The guests are the tiny image's: its busybox runs acpid, so the ACPI power
button (a graceful stop, a soft reboot) works once ``login:`` is on the
console. The stop timeout is short here, so a guest that ignored the
button would only cost seconds.
"""

import hashlib
import json
import subprocess
import xml.etree.ElementTree as ET

import libvirt
import pytest

from tests.integration import deployment as dep
from tests.integration.conftest import run_deployment
from tests.waiting import server_or_none, wait_for_settled, wait_until

NANO, MICRO = "42", "84"


@pytest.fixture(scope="module")
def cloud(work_root, rabbit_url):
    path = work_root / "test_lifecycle"
    path.mkdir(mode=0o755)
    config = {"DEFAULT": {"shutdown_timeout": 20, "allow_resize_to_same_host": True},
              "compute": {"shutdown_retry_interval": 2}}
    yield from run_deployment(path, rabbit_url, f"sqlite:///{path}/mininova.sqlite",
                              config=config)


@pytest.fixture
def server(admin, tiny, cloud):
    created = admin.create_server("life", tiny["id"], NANO)
    server = dep.wait_for_status(admin, created["id"], "ACTIVE")
    dep.wait_for_console(admin, server["id"])
    yield server
    if server_or_none(admin, server["id"]):
        admin.delete_server(server["id"])
        dep.wait_for_gone(admin, server["id"])
    assert cloud.domain_names() == []


def act(client, server_id, body, status=202):
    response = client.session.post(f"{client.compute_url}/servers/{server_id}/action",
                                   json=body, timeout=30)
    assert response.status_code == status, response.text
    return response


def settle(client, server_id, body, status, timeout=120):
    act(client, server_id, body)
    return wait_for_settled(client, server_id, status, timeout)


def domain_state(server_id):
    conn = libvirt.open("qemu:///system")
    try:
        domain = conn.lookupByUUIDString(server_id)
        state, _reason = domain.state()
        return state, domain.hasManagedSaveImage(0) == 1
    finally:
        conn.close()


def domain_memory_kib(server_id):
    conn = libvirt.open("qemu:///system")
    try:
        return int(ET.fromstring(conn.lookupByUUIDString(server_id).XMLDesc(0))
                   .findtext("memory"))
    finally:
        conn.close()


def power(server):
    return server["OS-EXT-STS:power_state"]


def test_stop_start_reboot_pause_suspend_on_real_libvirt(admin, server, cloud):
    sid = server["id"]
    stopped = settle(admin, sid, {"os-stop": None}, "SHUTOFF")
    assert power(stopped) == 4
    assert domain_state(sid) == (libvirt.VIR_DOMAIN_SHUTOFF, False)
    assert "Instance shutdown successfully after" in cloud.log("mininova-compute")

    assert power(settle(admin, sid, {"os-start": None}, "ACTIVE")) == 1
    assert domain_state(sid)[0] == libvirt.VIR_DOMAIN_RUNNING
    dep.wait_for_console(admin, sid)

    assert power(settle(admin, sid, {"reboot": {"type": "SOFT"}}, "ACTIVE")) == 1
    assert power(settle(admin, sid, {"reboot": {"type": "HARD"}}, "ACTIVE")) == 1

    paused = settle(admin, sid, {"pause": None}, "PAUSED")
    assert power(paused) == 3
    assert domain_state(sid)[0] == libvirt.VIR_DOMAIN_PAUSED
    assert power(settle(admin, sid, {"unpause": None}, "ACTIVE")) == 1

    suspended = settle(admin, sid, {"suspend": None}, "SUSPENDED")
    assert power(suspended) == 7
    assert domain_state(sid) == (libvirt.VIR_DOMAIN_SHUTOFF, True)
    assert power(settle(admin, sid, {"resume": None}, "ACTIVE")) == 1
    assert domain_state(sid) == (libvirt.VIR_DOMAIN_RUNNING, False)

    # The console survived all of it, and --length gives its tail.
    tail = admin.console_output(sid, length=1)
    assert len(tail.splitlines()) <= 1

    events = events_by_action(cloud, sid)
    for action, event in (("stop", "compute_stop_instance"),
                          ("start", "compute_start_instance"),
                          ("reboot", "compute_reboot_instance"),
                          ("pause", "compute_pause_instance"),
                          ("unpause", "compute_unpause_instance"),
                          ("suspend", "compute_suspend_instance"),
                          ("resume", "compute_resume_instance")):
        assert (event, "Success") in events[action], action


def events_by_action(cloud, server_id):
    """``{action: [(event, result), ...]}`` from the API's os-instance-actions."""
    admin = cloud.client()
    base = f"{admin.compute_url}/servers/{server_id}/os-instance-actions"
    found = {}
    for action in admin.session.get(base).json()["instanceActions"]:
        detail = admin.session.get(f"{base}/{action['request_id']}").json()
        found.setdefault(action["action"], []).extend(
            (e["event"], e["result"]) for e in detail["instanceAction"]["events"])
    return found


def test_snapshot_boots_and_rebuild_replaces_the_disk(admin, server, cloud, tiny):
    sid = server["id"]
    response = act(admin, sid, {"createImage": {"name": "life-snap"}})
    image_id = response.headers["Location"].rsplit("/", 1)[1]
    snapshot = wait_until(lambda: admin.get_image(image_id),
                          lambda image: image["status"] in ("active", "killed"), 120,
                          what="the snapshot uploaded")
    assert snapshot["status"] == "active"
    assert snapshot["disk_format"] == "qcow2"
    assert snapshot["instance_uuid"] == sid
    assert power(wait_for_settled(admin, sid, "ACTIVE")) == 1
    # Flattened: no backing file in the uploaded image.
    assert "backing" not in json.dumps(snapshot).lower()

    from_snap = admin.create_server("from-snap", image_id, NANO)
    dep.wait_for_status(admin, from_snap["id"], "ACTIVE")
    dep.wait_for_console(admin, from_snap["id"])
    admin.delete_server(from_snap["id"])
    dep.wait_for_gone(admin, from_snap["id"])

    disk = cloud.instances_path / sid / "disk"
    assert backing_file(disk) == base_of(cloud, tiny["id"])
    act(admin, sid, {"rebuild": {"imageRef": image_id, "name": "rebuilt"}})
    rebuilt = wait_for_settled(admin, sid, "ACTIVE", timeout=120)
    assert (rebuilt["image"]["id"], rebuilt["name"]) == (image_id, "rebuilt")
    # A new overlay, on the snapshot's base file now.
    assert backing_file(disk) == base_of(cloud, image_id)
    dep.wait_for_console(admin, sid)
    admin.delete_image(image_id)


def backing_file(disk):
    info = subprocess.run(["qemu-img", "info", "--force-share", "--output", "json", "-f",
                           "qcow2", str(disk)], check=True, capture_output=True, text=True)
    return json.loads(info.stdout)["backing-filename"]


def base_of(cloud, image_id):
    return str(cloud.instances_path / "_base" / hashlib.sha1(image_id.encode()).hexdigest())


def test_resize_on_the_same_host_confirm_and_revert(admin, server, cloud):
    sid = server["id"]
    assert domain_memory_kib(sid) == 64 * 1024
    resized = settle(admin, sid, {"resize": {"flavorRef": MICRO}}, "VERIFY_RESIZE")
    assert resized["flavor"]["id"] == MICRO
    assert domain_memory_kib(sid) == 128 * 1024
    assert (cloud.instances_path / f"{sid}_resize").exists()
    act(admin, sid, {"revertResize": None})
    reverted = wait_for_settled(admin, sid, "ACTIVE")
    assert reverted["flavor"]["id"] == NANO
    assert domain_memory_kib(sid) == 64 * 1024
    assert not (cloud.instances_path / f"{sid}_resize").exists()

    settle(admin, sid, {"resize": {"flavorRef": MICRO}}, "VERIFY_RESIZE")
    act(admin, sid, {"confirmResize": None}, status=204)
    confirmed = wait_for_settled(admin, sid, "ACTIVE")
    assert (confirmed["flavor"]["id"], power(confirmed)) == (MICRO, 1)
    assert not (cloud.instances_path / f"{sid}_resize").exists()
    dep.wait_for_console(admin, sid)


def test_a_guest_that_powers_itself_off_becomes_shutoff(admin, server, cloud):
    """``virsh shutdown`` presses the power button from outside mininova:
    to mininova the guest shut down by itself."""
    conn = libvirt.open("qemu:///system")
    try:
        conn.lookupByUUIDString(server["id"]).shutdown()
    finally:
        conn.close()
    # Nova delays a STOPPED event 15 s (it may be a reboot): allow for it.
    stopped = wait_for_settled(admin, server["id"], "SHUTOFF", timeout=90)
    assert power(stopped) == 4
    log = cloud.log("mininova-compute")
    assert "VM Stopped (Lifecycle Event)" in log
    assert "Instance shutdown by itself. Calling the stop API." in log
    assert "stop" in events_by_action(cloud, server["id"])


def test_a_domain_destroyed_behind_mininovas_back_is_noticed(admin, server, cloud):
    conn = libvirt.open("qemu:///system")
    try:
        conn.lookupByUUIDString(server["id"]).destroy()
    finally:
        conn.close()
    stopped = wait_for_settled(admin, server["id"], "SHUTOFF", timeout=90)
    assert power(stopped) == 4

