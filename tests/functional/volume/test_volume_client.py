"""Nova's side of the contract, driven through Nova's client
(mininova/volume/cinder.py) against the whole cloud in one process
(mininova-all's launcher): the calls and the order in which Nova's API and
compute make them for a boot from an image-backed volume, an attach and a
detach, and the errors Nova sees. docs/volumes.md describes the same flow."""

import time

import pytest

from mininova import context as mn_context
from mininova import exception, utils
from mininova.volume import cinder
from tests.functional.helpers import make_client
from tests.functional.volume.helpers import MIB, daemons_under, pattern_reads_back, qemu_io

SERVER = "9a0b0000-0000-4000-8000-000000000001"
OTHER_SERVER = "9a0b0000-0000-4000-8000-000000000002"
CONNECTOR = {"host": "host1", "ip": "127.0.0.1", "initiator": None, "platform": "x86_64",
             "os_type": "linux", "multipath": False}


@pytest.fixture
def demo():
    return mn_context.RequestContext(user_id="demo", project_id="demo",
                                     roles=["member", "reader"])


@pytest.fixture
def volumes(volume_conf, cloud):
    return cinder.API()


def wait_available(volumes, context, volume_id):
    deadline = time.monotonic() + 20
    while True:
        volume = volumes.get(context, volume_id)
        if volume["status"] not in ("creating", "downloading"):
            return volume
        assert time.monotonic() < deadline, volume
        time.sleep(0.05)


def test_nova_boots_from_an_image_backed_volume(volumes, demo, cloud, tmp_path):
    # The image: what Nova's API would name in block_device_mapping_v2
    # (source_type image, destination_type volume, boot_index 0).
    image_path = tmp_path / "tiny.qcow2"
    utils.execute("qemu-img", "create", "-f", "qcow2", str(image_path), "32M")
    qemu_io(str(image_path), f"write -P 0x2b 0 {MIB}", fmt="qcow2")
    image = make_client(cloud, "admin:admin").create_image("tiny", str(image_path), "qcow2")

    # 1. The compute asks for the volume and waits for it to be available.
    created = volumes.create(demo, 1, "bfv", "", image_id=image["id"])
    assert created["status"] == "creating"
    volume = wait_available(volumes, demo, created["id"])
    assert volume["status"] == "available" and volume["bootable"] is True
    assert volume["volume_image_metadata"]["image_id"] == image["id"]

    # 2. Reserved for the server (the API does it when the boot is accepted).
    attachment = volumes.attachment_create(demo, volume["id"], SERVER)
    assert attachment["status"] == "reserved"
    assert volumes.get(demo, volume["id"])["status"] == "reserved"

    # 3. The compute gives its connector: the export opens.
    updated = volumes.attachment_update(demo, attachment["id"], CONNECTOR, "/dev/vda")
    info = updated["connection_info"]
    assert info["driver_volume_type"] == "nbd"
    data = info["data"]
    assert data["name"] == f"volume-{volume['id']}" and data["hosts"] == ["127.0.0.1"]
    assert volumes.get(demo, volume["id"])["status"] == "attaching"
    # What libvirt's QEMU would open: the image's bytes.
    url = f"nbd://{data['host']}:{data['port']}/{data['name']}"
    assert pattern_reads_back(url, "0x2b", 0, MIB)

    # 4. The guest has its disk: complete.
    volumes.attachment_complete(demo, attachment["id"])
    volume = volumes.get(demo, volume["id"], microversion="3.48")
    assert volume["status"] == "in-use" and volume["attach_status"] == "attached"
    assert volume["attachments"] == {SERVER: {"attachment_id": attachment["id"],
                                              "mountpoint": "/dev/vda"}}
    assert volume["shared_targets"] is False

    # 5. Detach: the API marks it detaching, the compute deletes the attachment.
    volumes.begin_detaching(demo, volume["id"])
    assert volumes.get(demo, volume["id"])["status"] == "detaching"
    volumes.attachment_delete(demo, attachment["id"])
    assert volumes.get(demo, volume["id"])["status"] == "available"
    assert daemons_under(str(tmp_path)) == []
    # A second delete (a retry) is no error, as in Nova.
    volumes.attachment_delete(demo, attachment["id"])

    # 6. delete_on_termination.
    volumes.delete(demo, volume["id"])


def test_a_failed_detach_is_rolled_back(volumes, demo):
    volume = wait_available(volumes, demo, volumes.create(demo, 1, "v", "")["id"])
    attachment = volumes.attachment_create(demo, volume["id"], SERVER, connector=CONNECTOR)
    assert attachment["connection_info"]["data"]["port"]
    volumes.attachment_complete(demo, attachment["id"])
    volumes.begin_detaching(demo, volume["id"])
    volumes.roll_detaching(demo, volume["id"])
    assert volumes.get(demo, volume["id"])["status"] == "in-use"
    volumes.attachment_delete(demo, attachment["id"])


def test_the_errors_nova_sees(volumes, demo):
    unknown = "00000000-0000-4000-8000-00000000beef"
    with pytest.raises(exception.VolumeNotFound):
        volumes.get(demo, unknown)
    with pytest.raises(exception.VolumeAttachmentNotFound):
        volumes.attachment_get(demo, unknown)
    with pytest.raises(exception.SnapshotNotFound):
        volumes.get_snapshot(demo, unknown)
    with pytest.raises(exception.CinderAPIVersionNotAvailable):
        volumes.get(demo, unknown, microversion="3.69")

    volume = wait_available(volumes, demo, volumes.create(demo, 1, "v", "")["id"])
    volumes.attachment_create(demo, volume["id"], SERVER)
    with pytest.raises(exception.InvalidInput, match="status must be available to reserve"):
        volumes.attachment_create(demo, volume["id"], OTHER_SERVER)
    with pytest.raises(exception.InvalidInput, match="must not be migrating, attached"):
        volumes.delete(demo, volume["id"])


def test_a_volume_from_a_snapshot_for_nova(volumes, demo):
    volume = wait_available(volumes, demo, volumes.create(demo, 1, "v", "")["id"])
    snapshot = volumes.create_snapshot(demo, volume["id"], "s", "")
    deadline = time.monotonic() + 20
    while volumes.get_snapshot(demo, snapshot["id"])["status"] != "available":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    copy = wait_available(volumes, demo,
                          volumes.create(demo, 1, "copy", "", snapshot=snapshot)["id"])
    assert copy["status"] == "available" and copy["snapshot_id"] == snapshot["id"]
