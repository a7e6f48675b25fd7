"""mininova/virt/block_device.py: rows turned into driver block devices,
and their attach against an in-memory volume service that keeps Cinder's
statuses."""

import logging

import pytest

from mininova import exception
from mininova.conf import CONF
from mininova.virt import block_device

INSTANCE = {"uuid": "11111111-2222-3333-4444-555555555555", "root_device_name": None}


class FakeVolumeAPI:
    """The volume service's statuses as mininova-volume keeps them."""

    def __init__(self, statuses_after_create=("available",)):
        self.volumes = {}
        self.attachments = {}
        self.calls = []
        self._after_create = list(statuses_after_create)
        self.fail_update = None

    def add_volume(self, volume_id, status="available", size=1):
        self.volumes[volume_id] = {"id": volume_id, "status": status, "size": size,
                                   "statuses": []}

    def create(self, context, size, name, description, snapshot=None, image_id=None,
               volume_type=None, metadata=None, availability_zone=None):
        volume_id = f"vol-{len(self.volumes) + 1}"
        self.calls.append(("create", size, name, snapshot and snapshot["id"], image_id))
        self.volumes[volume_id] = {"id": volume_id, "status": "creating", "size": size,
                                   "statuses": list(self._after_create)}
        return dict(self.volumes[volume_id])

    def get(self, context, volume_id):
        volume = self.volumes[volume_id]
        if volume["statuses"]:
            volume["status"] = volume["statuses"].pop(0)
        return dict(volume)

    def get_snapshot(self, context, snapshot_id):
        return {"id": snapshot_id, "size": 2, "status": "available"}

    def attachment_create(self, context, volume_id, instance_id, connector=None,
                          mountpoint=None):
        attachment_id = f"att-{len(self.attachments) + 1}"
        self.calls.append(("attachment_create", volume_id))
        self.attachments[attachment_id] = {"volume_id": volume_id, "status": "reserved"}
        self.volumes[volume_id]["status"] = "reserved"
        return {"id": attachment_id, "connection_info": {}}

    def attachment_update(self, context, attachment_id, connector, mountpoint=None):
        self.calls.append(("attachment_update", attachment_id, connector["host"], mountpoint))
        if self.fail_update:
            raise self.fail_update
        attachment = self.attachments[attachment_id]
        attachment["status"] = "attaching"
        self.volumes[attachment["volume_id"]]["status"] = "attaching"
        return {"id": attachment_id, "connection_info": {
            "driver_volume_type": "nbd",
            "data": {"host": "127.0.0.1", "port": 10809,
                     "name": f"volume-{attachment['volume_id']}"}}}

    def attachment_complete(self, context, attachment_id):
        self.calls.append(("attachment_complete", attachment_id))
        attachment = self.attachments[attachment_id]
        attachment["status"] = "attached"
        self.volumes[attachment["volume_id"]]["status"] = "in-use"

    def attachment_delete(self, context, attachment_id):
        self.calls.append(("attachment_delete", attachment_id))
        attachment = self.attachments.pop(attachment_id)
        self.volumes[attachment["volume_id"]]["status"] = "available"


class FakeDriver:
    def __init__(self):
        self.attached = []
        self.detached = []

    def get_volume_connector(self, instance):
        return {"host": "compute1", "ip": "127.0.0.1"}

    def attach_volume(self, context, connection_info, instance, mountpoint, disk_bus=None,
                      device_type=None):
        self.attached.append((connection_info["serial"], mountpoint))

    def detach_volume(self, context, connection_info, instance, mountpoint):
        self.detached.append((connection_info["serial"], mountpoint))


class FakeConductor:
    def __init__(self):
        self.updates = []

    def block_device_mapping_update(self, context, bdm_id, values):
        self.updates.append((bdm_id, dict(values)))


def _row(bdm_id=1, **values):
    row = {"id": bdm_id, "source_type": "volume", "destination_type": "volume",
           "boot_index": None, "device_name": "/dev/vdb", "volume_id": None,
           "snapshot_id": None, "image_id": None, "volume_size": None,
           "delete_on_termination": False, "guest_format": None, "disk_bus": None,
           "device_type": "disk", "attachment_id": None, "connection_info": None,
           "no_device": None, "volume_type": None}
    row.update(values)
    return row


@pytest.fixture(autouse=True)
def quick_waits():
    CONF.set_override("block_device_allocate_retries_interval", 0)
    yield
    CONF.clear_override("block_device_allocate_retries_interval")


def test_rows_become_the_classes_of_nova_table():
    rows = [
        _row(1, source_type="image", destination_type="local", boot_index=0),
        _row(2, source_type="blank", destination_type="local", volume_size=1,
             guest_format="ext4"),
        _row(3, source_type="blank", destination_type="local", volume_size=512,
             guest_format="swap"),
        _row(4, volume_id="v"),
        _row(5, source_type="snapshot", snapshot_id="s"),
        _row(6, source_type="image", image_id="i", volume_size=1),
        _row(7, source_type="blank", volume_size=1),
        _row(8, no_device=True),
    ]
    assert [type(d) for d in block_device.convert_volumes(rows)] == [
        block_device.DriverVolumeBlockDevice, block_device.DriverVolSnapshotBlockDevice,
        block_device.DriverVolImageBlockDevice, block_device.DriverVolBlankBlockDevice]
    (ephemeral,) = block_device.convert_ephemerals(rows)
    assert ephemeral["size"] == 1 and ephemeral["guest_format"] == "ext4"
    swap = block_device.get_swap(block_device.convert_swap(rows))
    assert swap["swap_size"] == 512
    assert not block_device.is_boot_from_volume(rows)
    assert block_device.is_boot_from_volume([_row(9, boot_index=0)])


def test_block_device_info_names_the_root_volume():
    rows = [_row(1, volume_id="v", boot_index=0, device_name="/dev/vda",
                 connection_info={"driver_volume_type": "nbd"})]
    info = block_device.get_block_device_info(INSTANCE, rows)
    assert info["root_device_name"] == "/dev/vda"
    assert info["swap"] is None and info["ephemerals"] == []
    (volume,) = info["block_device_mapping"]
    assert volume["mount_device"] == "/dev/vda"
    assert volume["connection_info"] == {"driver_volume_type": "nbd"}


def test_attach_existing_volume_at_boot_uses_the_reserved_attachment(caplog):
    volumes, driver, conductor = FakeVolumeAPI(), FakeDriver(), FakeConductor()
    volumes.add_volume("v1")
    volumes.attachment_create(None, "v1", INSTANCE["uuid"])   # the API's reservation
    volumes.calls.clear()
    device = block_device.convert_volume(_row(1, volume_id="v1", attachment_id="att-1",
                                              device_name="/dev/vda", boot_index=0))
    with caplog.at_level(logging.INFO):
        device.attach(None, INSTANCE, volumes, driver, conductor)
    assert "Booting with volume v1 at /dev/vda" in caplog.text
    assert volumes.calls == [("attachment_update", "att-1", "compute1", "/dev/vda"),
                             ("attachment_complete", "att-1")]
    assert volumes.volumes["v1"]["status"] == "in-use"
    assert driver.attached == []   # a boot: the disk goes in the domain XML
    assert device["connection_info"]["serial"] == "v1"
    assert conductor.updates == [(1, {"connection_info": device["connection_info"]})]


@pytest.mark.parametrize("row, line, create", [
    (_row(1, source_type="blank", volume_size=1),
     "Booting with blank volume at /dev/vdb",
     ("create", 1, f"{INSTANCE['uuid']}-blank-vol", None, None)),
    (_row(1, source_type="image", image_id="img", volume_size=1),
     "Booting with volume-backed-image img at /dev/vdb", ("create", 1, "", None, "img")),
    (_row(1, source_type="snapshot", snapshot_id="snap"),
     "Booting with volume snapshot snap at /dev/vdb", ("create", 2, "", "snap", None)),
])
def test_volumes_made_first_are_waited_for_then_attached(caplog, row, line, create):
    volumes = FakeVolumeAPI(statuses_after_create=("creating", "downloading", "available"))
    conductor = FakeConductor()
    (device,) = block_device.convert_volumes([row])
    with caplog.at_level(logging.INFO):
        block_device.attach_block_devices([device], None, INSTANCE, volumes, FakeDriver(),
                                          conductor)
    assert line in caplog.text
    assert volumes.calls[0] == create
    assert [c[0] for c in volumes.calls[1:]] == [
        "attachment_create", "attachment_update", "attachment_complete"]
    assert volumes.volumes["vol-1"]["status"] == "in-use"
    # volume_id saved before the wait, then the attachment, then the connection.
    assert [list(values) for _, values in conductor.updates] == [
        ["volume_id"], ["attachment_id"], ["connection_info"]]
    assert device.volume_id == "vol-1" and device["attachment_id"] == "att-1"


def test_a_volume_in_error_fails_the_wait_at_once():
    volumes = FakeVolumeAPI(statuses_after_create=("error",))
    (device,) = block_device.convert_volumes([_row(1, source_type="blank", volume_size=1)])
    with pytest.raises(exception.VolumeNotCreated, match="its status is error"):
        device.attach(None, INSTANCE, volumes, FakeDriver(), FakeConductor())
    # The volume is known to the row (the build's clean-up deletes it).
    assert device.volume_id == "vol-1"
    assert not volumes.attachments


def test_the_wait_is_bounded():
    CONF.set_override("block_device_allocate_retries", 3)
    try:
        volumes = FakeVolumeAPI(statuses_after_create=["creating"] * 10)
        volumes.create(None, 1, "", "")
        with pytest.raises(exception.VolumeNotCreated, match="4 attempts"):
            block_device.wait_for_volume(None, volumes, "vol-1")
    finally:
        CONF.clear_override("block_device_allocate_retries")


def test_hot_plug_calls_the_driver_and_a_failure_gives_the_volume_back():
    volumes, driver, conductor = FakeVolumeAPI(), FakeDriver(), FakeConductor()
    volumes.add_volume("v1")
    device = block_device.convert_volume(_row(1, volume_id="v1"))
    device.attach(None, INSTANCE, volumes, driver, conductor, do_driver_attach=True)
    assert driver.attached == [("v1", "/dev/vdb")]
    assert volumes.volumes["v1"]["status"] == "in-use"

    volumes.add_volume("v2")
    volumes.fail_update = exception.CinderConnectionFailed(reason="HTTP 500")
    device = block_device.convert_volume(_row(2, volume_id="v2"))
    with pytest.raises(exception.CinderConnectionFailed):
        device.attach(None, INSTANCE, volumes, driver, conductor, do_driver_attach=True)
    assert volumes.volumes["v2"]["status"] == "available"
    assert ("attachment_delete", "att-2") in volumes.calls
    assert device["attachment_id"] is None


def test_detach_takes_the_disk_out_then_deletes_the_attachment():
    volumes, driver = FakeVolumeAPI(), FakeDriver()
    volumes.add_volume("v1")
    device = block_device.convert_volume(_row(1, volume_id="v1"))
    device.attach(None, INSTANCE, volumes, driver, None, do_driver_attach=True)
    device.detach(None, INSTANCE, volumes, driver)
    assert driver.detached == [("v1", "/dev/vdb")]
    assert volumes.volumes["v1"]["status"] == "available" and not volumes.attachments
