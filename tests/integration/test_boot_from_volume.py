"""Block devices end to end on real libvirt, each service its own process,
the real mininova-volume: a server booted from an image-backed volume to
its login prompt with no ``_base`` file and no overlay, deleted with its
volume (delete_on_termination); a volume → snapshot → volume → boot with an
ext4 ephemeral disk and the flavor's swap, which the guest sees and turns
on, the volume left ``available`` after the delete (delete_on_termination
false); a blank volume hot-plugged into a running server, written by it,
detached, attached to a second server that reads it back; a compute
SIGKILLed in the middle of an attach.

The guest reports what it sees from a user_data script (config drive),
written straight to its console."""

import base64
import signal
import time
import xml.etree.ElementTree as ET

import pytest
import requests

from tests.integration import deployment as dep
from tests.waiting import wait_until

USER_DATA = """#!/bin/sh
exec > /dev/console 2>&1
echo "DISKS:$(ls /sys/block | grep vd | tr '\\n' ' ')"
echo "EPHEMERAL $(findfs LABEL=ephemeral0)"
swapon /dev/vdc; echo "SWAPON-STATUS $?"
echo "SWAPS $(grep -c vdc /proc/swaps)"
"""


class VolumeAPI:
    """The deployment's mininova-volume, as the admin (noauth2)."""

    def __init__(self, cloud):
        self.url = f"http://127.0.0.1:{cloud.volume_port}/v3/admin"
        self.headers = {"X-Auth-Token": "admin:admin", "OpenStack-API-Version": "volume 3.48"}

    def call(self, method, path, expect=200, **kwargs):
        response = requests.request(method, self.url + path, headers=self.headers,
                                    timeout=60, **kwargs)
        assert response.status_code == expect, response.text
        return response.json() if response.content else None

    def get(self, volume_id):
        response = requests.get(f"{self.url}/volumes/{volume_id}", headers=self.headers,
                                timeout=60)
        return None if response.status_code == 404 else response.json()["volume"]

    def wait(self, volume_id, status, timeout=120):
        return wait_until(lambda: self.get(volume_id),
                          lambda v: (v is None and status is None)
                          or (v is not None and v["status"] == status),
                          timeout, interval=0.5, what=f"volume {volume_id} {status}")

    def create(self, **volume):
        created = self.call("POST", "/volumes", expect=202, json={"volume": volume})["volume"]
        return self.wait(created["id"], "available")

    def snapshot(self, volume_id):
        snapshot = self.call("POST", "/snapshots", expect=202, json={
            "snapshot": {"volume_id": volume_id}})["snapshot"]
        return wait_until(lambda: self.call("GET", f"/snapshots/{snapshot['id']}")["snapshot"],
                          lambda s: s["status"] == "available", 120, interval=0.5,
                          what="the snapshot")

    def delete_quietly(self, path):
        requests.delete(self.url + path, headers=self.headers, timeout=60)


@pytest.fixture(scope="module")
def volumes(cloud):
    return VolumeAPI(cloud)


def domain_disks(cloud, server_id):
    xml = ET.parse(cloud.instances_path / server_id / "libvirt.xml").getroot()
    return {d.find("target").get("dev"): d for d in xml.findall("devices/disk")}


def delete_server(admin, server_id):
    admin.delete_server(server_id)
    dep.wait_for_gone(admin, server_id, timeout=120)


def test_boot_from_an_image_backed_volume(cloud, admin, tiny, volumes):
    server = admin.create_server("bfv", "", "42", block_device_mapping_v2=[{
        "boot_index": 0, "uuid": tiny["id"], "source_type": "image",
        "destination_type": "volume", "volume_size": 1, "delete_on_termination": True}])
    try:
        server = dep.wait_for_status(admin, server["id"], "ACTIVE", timeout=180)
        dep.wait_for_console(admin, server["id"], "login:", timeout=180)
        instance_dir = cloud.instances_path / server["id"]
        # No image cache and no overlay: the root is the volume.
        assert not (cloud.instances_path / "_base").exists() or \
            not list((cloud.instances_path / "_base").iterdir())
        assert not (instance_dir / "disk").exists()
        vda = domain_disks(cloud, server["id"])["vda"]
        assert vda.get("type") == "network"
        assert vda.find("source").get("protocol") == "nbd"
        volume_id = vda.findtext("serial")
        assert volumes.get(volume_id)["status"] == "in-use"
        log = cloud.log("mininova-compute")
        assert f"Booting with volume-backed-image {tiny['id']} at /dev/vda" in log
        assert "Image download" in cloud.log("mininova-volume")
    finally:
        delete_server(admin, server["id"])
    # delete_on_termination: the volume went with the server.
    volumes.wait(volume_id, None)
    assert cloud.domain_names() == []
    assert dep.export_daemons_under(cloud.dir) == []


def test_snapshot_to_volume_to_boot_with_ephemeral_and_swap(cloud, admin, tiny, volumes):
    admin.create_flavor("bdm.eph.swap", 64, 0, 1, flavor_id="4242", ephemeral=1, swap=32)
    origin = volumes.create(size=1, imageRef=tiny["id"], name="origin")
    snapshot = volumes.snapshot(origin["id"])
    server = admin.create_server(
        "bfs", "", "4242", config_drive=True,
        user_data=base64.b64encode(USER_DATA.encode()).decode(),
        block_device_mapping_v2=[
            {"boot_index": 0, "uuid": snapshot["id"], "source_type": "snapshot",
             "destination_type": "volume", "volume_size": 1,
             "delete_on_termination": False},
            {"boot_index": -1, "source_type": "blank", "destination_type": "local",
             "guest_format": "ext4", "volume_size": 1}])
    made = None
    try:
        server = dep.wait_for_status(admin, server["id"], "ACTIVE", timeout=180)
        disks = domain_disks(cloud, server["id"])
        made = disks["vda"].findtext("serial")
        instance_dir = cloud.instances_path / server["id"]
        assert disks["vdb"].find("source").get("file") == str(instance_dir / "disk.eph0")
        assert disks["vdc"].find("source").get("file") == str(instance_dir / "disk.swap")
        assert f"Booting with volume snapshot {snapshot['id']} at /dev/vda" in \
            cloud.log("mininova-compute")
        out = dep.wait_for_console(admin, server["id"], "SWAPS", timeout=240)
        assert "DISKS:vda vdb vdc" in out
        assert "EPHEMERAL /dev/vdb" in out
        assert "SWAPON-STATUS 0" in out and "SWAPS 1" in out
    finally:
        delete_server(admin, server["id"])
        try:
            # delete_on_termination false: the volume stays, available.
            if made:
                assert volumes.wait(made, "available")["status"] == "available"
        finally:
            for volume_id in filter(None, (made,)):
                volumes.delete_quietly(f"/volumes/{volume_id}")
            volumes.delete_quietly(f"/snapshots/{snapshot['id']}")
            wait_until(lambda: volumes.call("GET", "/snapshots")["snapshots"], lambda s: not s,
                       60, interval=0.5, what="the snapshot deleted")
            volumes.delete_quietly(f"/volumes/{origin['id']}")
            admin.compute("DELETE", "/flavors/4242", expect_json=False)
    assert cloud.domain_names() == []


MARKER = "mininova-volume-marker-4f1c"

# The first server writes the marker at the start of the volume once it
# arrives; the second reads it back.
WRITER = f"""#!/bin/sh
exec > /dev/console 2>&1
while [ ! -b /dev/vdb ]; do sleep 1; done
echo "VDB-ARRIVED sectors=$(cat /sys/block/vdb/size)"
echo {MARKER} > /tmp/marker
dd if=/tmp/marker of=/dev/vdb conv=fsync 2>/dev/null && echo WROTE-VDB
while [ -b /dev/vdb ]; do sleep 1; done
echo VDB-GONE
"""
READER = f"""#!/bin/sh
exec > /dev/console 2>&1
while [ ! -b /dev/vdb ]; do sleep 1; done
echo "READ: $(head -c {len(MARKER)} /dev/vdb)"
"""


def _user_data(script):
    return base64.b64encode(script.encode()).decode()


def test_a_volume_written_by_one_server_is_read_by_another(cloud, admin, tiny, volumes):
    volume = volumes.create(size=1, name="shared")
    writer = admin.create_server("writer", tiny["id"], "42", config_drive=True,
                                 user_data=_user_data(WRITER))
    reader = admin.create_server("reader", tiny["id"], "42", config_drive=True,
                                 user_data=_user_data(READER))
    try:
        for server in (writer, reader):
            dep.wait_for_status(admin, server["id"], "ACTIVE", timeout=180)
            dep.wait_for_console(admin, server["id"], "running user-data", timeout=240)
        attached = admin.attach_volume(writer["id"], {"volumeId": volume["id"]})
        assert attached["device"] == "/dev/vdb"
        volumes.wait(volume["id"], "in-use")
        out = dep.wait_for_console(admin, writer["id"], "WROTE-VDB", timeout=120)
        # A 1 GiB blank volume, hot-plugged as the guest's /dev/vdb.
        assert f"VDB-ARRIVED sectors={1024 ** 3 // 512}" in out
        assert [a["volumeId"] for a in admin.list_volume_attachments(writer["id"])] == [
            volume["id"]]

        admin.detach_volume(writer["id"], volume["id"])
        volumes.wait(volume["id"], "available")
        dep.wait_for_console(admin, writer["id"], "VDB-GONE", timeout=120)
        # The row goes a moment after the volume is available (the
        # attachment is deleted first, as in Nova).
        wait_until(lambda: admin.list_volume_attachments(writer["id"]), lambda a: a == [],
                   30, interval=0.2, what="the writer's attachment row removed")

        admin.attach_volume(reader["id"], {"volumeId": volume["id"]})
        volumes.wait(volume["id"], "in-use")
        dep.wait_for_console(admin, reader["id"], f"READ: {MARKER}", timeout=120)
    finally:
        for server in (writer, reader):
            delete_server(admin, server["id"])
        # Not delete_on_termination (the default of an attach): it stays.
        volumes.wait(volume["id"], "available")
        volumes.delete_quietly(f"/volumes/{volume['id']}")
        volumes.wait(volume["id"], None)
    assert cloud.domain_names() == []
    assert dep.export_daemons_under(cloud.dir) == []


def test_compute_killed_in_the_middle_of_an_attach(cloud, admin, tiny, volumes):
    """SIGKILL the compute as soon as it logs that it is attaching: after
    the restart the volume is attached (in-use, in the guest's definition)
    or available (no attachment left), never reserved or attaching."""
    volume = volumes.create(size=1, name="killed")
    server = admin.create_server("victim", tiny["id"], "42")
    server = dep.wait_for_status(admin, server["id"], "ACTIVE", timeout=180)
    log_path = cloud.log_dir / "mininova-compute.log"
    offset = log_path.stat().st_size
    try:
        admin.attach_volume(server["id"], {"volumeId": volume["id"]})
        wait_until(lambda: log_path.read_bytes()[offset:],
                   lambda new: f"Attaching volume {volume['id']}".encode() in new,
                   60, interval=0.01, what="the compute attaching")
        cloud.stop_service("mininova-compute", signal.SIGKILL)
        left = volumes.get(volume["id"])["status"]
        cloud.start_service("mininova-compute")

        def volume_and_attachments():
            attached = [a["volumeId"] for a in admin.list_volume_attachments(server["id"])]
            return volumes.get(volume["id"])["status"], attached

        def agree(seen):
            # The volume service and Nova's block device mappings are two
            # services, settled one after the other (the attachment is
            # deleted, then the row, as Nova does): wait until both agree.
            status, attached = seen
            return (status, attached) in (("in-use", [volume["id"]]), ("available", []))

        seen = wait_until(volume_and_attachments, agree, 120, interval=0.5,
                          what="the volume and the server's attachments settled")
        settled = seen[0]
        xml = ET.parse(cloud.instances_path / server["id"] / "libvirt.xml").getroot()
        in_guest = [d for d in xml.findall("devices/disk") if d.findtext("serial") ==
                    volume["id"]]
        print(f"killed while the volume was {left}; after the restart: {settled}")
        assert bool(in_guest) == (settled == "in-use")
        # And it stays so: nothing later moves it (a redelivered attach, the
        # restart's own settling).
        time.sleep(3)
        assert volume_and_attachments() == seen
    finally:
        delete_server(admin, server["id"])
        volumes.wait(volume["id"], "available")
        volumes.delete_quietly(f"/volumes/{volume['id']}")
        volumes.wait(volume["id"], None)
    assert cloud.domain_names() == []
