"""libvirt/blockinfo.py: Nova's disk naming order, and the <disk> of a volume."""

import logging
import xml.etree.ElementTree as ET

from mininova.virt.libvirt import blockinfo, guest_volumes
from mininova.virt.libvirt import config as vconfig

INSTANCE = {"uuid": "u", "flavor": {"ephemeral_gb": 0, "swap": 0}}


def _row(bdm_id, source, dest, boot_index=None, device_name=None, guest_format=None,
         **extra):
    return dict(id=bdm_id, source_type=source, destination_type=dest, boot_index=boot_index,
                device_name=device_name, guest_format=guest_format, **extra)


def test_boot_names_in_nova_order_and_warns_for_supplied_names(caplog):
    rows = [_row(1, "volume", "volume", 0, "/dev/vda"),
            _row(2, "blank", "volume", None, "/dev/vdz"),
            _row(3, "blank", "local", None, None, "swap"),
            _row(4, "blank", "local", None, None, "ext4")]
    with caplog.at_level(logging.WARNING):
        names = blockinfo.default_device_names(INSTANCE, rows)
    # root, ephemerals, swap, the other volumes
    assert names == {1: "/dev/vda", 4: "/dev/vdb", 3: "/dev/vdc", 2: "/dev/vdd"}
    assert ("Ignoring supplied device name: /dev/vda. Libvirt can't honour "
            "user-supplied dev names") in caplog.text
    assert "Ignoring supplied device name: /dev/vdz" in caplog.text


def test_flavor_disks_take_names_no_row_holds():
    instance = {"uuid": "u", "flavor": {"ephemeral_gb": 1, "swap": 256}}
    rows = [_row(1, "image", "local", 0), _row(2, "volume", "volume")]
    names = blockinfo.default_device_names(instance, rows)
    assert names == {1: "/dev/vda", 2: "/dev/vdd"}
    for row in rows:
        row["device_name"] = names[row["id"]]
    mapping = blockinfo.get_disk_mapping(instance, rows)
    assert [(d.kind, d.dev) for d in mapping] == [
        ("root", "vda"), ("local", "vdb"), ("swap", "vdc"), ("volume", "vdd")]
    # An attach takes the first name nobody holds.
    assert blockinfo.get_device_name_for_instance(instance, rows, "/dev/vdb") == "/dev/vde"


def test_image_boot_without_rows_keeps_vda_for_the_root():
    assert blockinfo.get_device_name_for_instance(INSTANCE, []) == "/dev/vdb"


def test_volume_disk_is_nova_network_disk():
    connection_info = {"driver_volume_type": "nbd", "serial": "vol-1",
                       "data": {"host": "127.0.0.1", "port": 10809, "name": "volume-vol-1",
                                "hosts": ["127.0.0.1"], "ports": ["10809"]}}
    disk = ET.fromstring(vconfig.disk_xml(guest_volumes.volume_disk(connection_info, "vdb")))
    assert disk.get("type") == "network" and disk.get("device") == "disk"
    assert disk.find("driver").attrib == {"name": "qemu", "type": "raw", "cache": "none",
                                          "discard": "unmap"}
    source = disk.find("source")
    assert source.attrib == {"protocol": "nbd", "name": "volume-vol-1"}
    assert source.find("host").attrib == {"name": "127.0.0.1", "port": "10809"}
    assert disk.find("target").attrib == {"dev": "vdb", "bus": "virtio"}
    assert disk.findtext("serial") == "vol-1"


def test_guest_without_root_file_boots_from_its_first_disk():
    config = vconfig.GuestConfig(
        virt_type="qemu", uuid="u", name="instance-00000001", memory_mb=64, vcpus=1,
        disk_path=None, console_log_path="/x/console.log", root_type="volume",
        disks=[{"type": "network", "protocol": "nbd", "name": "volume-v",
                "hosts": ["127.0.0.1"], "ports": [10809], "dev": "vda", "serial": "v"},
               {"type": "file", "path": "/x/disk.swap", "format": "raw", "dev": "vdb"}])
    domain = ET.fromstring(config.to_xml())
    disks = domain.findall("./devices/disk")
    assert [d.find("target").get("dev") for d in disks] == ["vda", "vdb"]
    assert disks[0].get("type") == "network" and disks[1].find("source").get("file") == \
        "/x/disk.swap"


def test_the_guest_disks_of_a_boot_from_volume_as_the_manager_gives_them(tmp_path):
    from mininova.virt import block_device
    from mininova.virt.libvirt import driver as libvirt_driver

    connection_info = {"driver_volume_type": "nbd", "serial": "v",
                       "data": {"host": "127.0.0.1", "port": 10809, "name": "volume-v"}}
    rows = [_row(1, "image", "volume", 0, "/dev/vda", volume_id="v",
                 connection_info=connection_info, image_id="i"),
            _row(2, "blank", "local", None, "/dev/vdb", "swap", volume_size=16)]
    info = block_device.get_block_device_info(INSTANCE, rows)
    info["mappings"] = rows
    drv = libvirt_driver.LibvirtDriver.__new__(libvirt_driver.LibvirtDriver)
    root, disks = drv._guest_disks(INSTANCE, str(tmp_path), info)
    assert root is None
    assert [(d["type"], d["dev"]) for d in disks] == [("network", "vda"), ("file", "vdb")]
    assert disks[0]["name"] == "volume-v" and disks[0]["serial"] == "v"
