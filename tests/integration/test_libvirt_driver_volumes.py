"""The libvirt driver's block devices on real libvirt + QEMU, called
directly, without the services: a guest booted from a volume (a raw file
served over NBD by qemu-storage-daemon, the volume service's own export
class) with an ephemeral and a swap disk, a blank volume hot-plugged into
it, written by the guest and unplugged, and a volume added to and removed
from a stopped guest's definition.

What the guest sees is told by its user_data script (from its config drive)
on its serial console: the disks it has, the ephemeral disk's filesystem,
the swap it turned on, the hot-plugged disk arriving and leaving.
"""

import base64
import random
import subprocess
import uuid
import xml.etree.ElementTree as ET
from pathlib import Path

import libvirt
import pytest

from mininova import context as mn_context
from mininova.conf import CONF
from mininova.virt.libvirt import driver as libvirt_driver
from mininova.volume.service import nbd
from tests.integration import deployment as dep
from tests.waiting import wait_until

NANO = {"name": "m1.nano", "flavorid": "42", "memory_mb": 64, "vcpus": 1, "root_gb": 0,
        "ephemeral_gb": 0, "swap": 0}
MARKER = "mininova-bdm-marker-0123456789"

# Runs in the guest at boot. /dev is devtmpfs: a hot-plugged disk's node
# appears (and goes) by itself.
USER_DATA = f"""#!/bin/sh
# Straight to the console: the user-data runner's pipe would hold the
# lines of a script that never ends in its buffer.
exec > /dev/console 2>&1
echo "DISKS:$(ls /sys/block | grep vd | tr '\\n' ' ')"
echo "EPHEMERAL $(findfs LABEL=ephemeral0)"
swapon /dev/vdc; echo "SWAPON-STATUS $?"
echo "SWAPS $(grep vdc /proc/swaps)"
while [ ! -b /dev/vdd ]; do sleep 1; done
echo "VDD-ARRIVED sectors=$(cat /sys/block/vdd/size)"
echo {MARKER} > /tmp/marker
dd if=/tmp/marker of=/dev/vdd conv=fsync 2>/dev/null && echo WROTE-VDD
while [ -b /dev/vdd ]; do sleep 1; done
echo VDD-GONE
"""


class Volumes:
    """Raw volume files and their NBD exports (qemu-storage-daemon), as
    mininova-volume makes them; every export stopped at the end."""

    def __init__(self, root):
        self.root = root
        port_min = random.randrange(21000, 29000, 50)
        self.target = nbd.NbdTarget(volumes_path=str(root), host="127.0.0.1",
                                    port_min=port_min, port_max=port_min + 49)
        self.attachments = []

    def make(self, name, size_bytes=None, from_image=None):
        path = self.root / f"volume-{name}"
        if from_image:
            subprocess.run(["qemu-img", "convert", "-f", "qcow2", "-O", "raw",
                            str(from_image), str(path)], check=True)
        else:
            with open(path, "wb") as f:
                f.truncate(size_bytes)
        return path

    def export(self, name):
        attachment_id = str(uuid.uuid4())
        export = self.target.create_export(str(self.root / f"volume-{name}"),
                                           f"volume-{name}", attachment_id)
        self.attachments.append(attachment_id)
        connection_info = self.target.initialize_connection(export, name)
        connection_info["serial"] = name
        return connection_info

    def close(self):
        for attachment_id in self.attachments:
            self.target.remove_export(attachment_id)


@pytest.fixture
def env(work_root):
    try:
        libvirt.open("qemu:///system").close()
    except libvirt.libvirtError as exc:
        pytest.fail(f"libvirtd is not reachable at qemu:///system ({exc})")
    root = work_root / f"driver_volumes_{uuid.uuid4().hex[:6]}"
    root.mkdir(mode=0o755)
    (root / "volumes").mkdir(mode=0o755)
    prefix = f"mntest-{uuid.uuid4().hex[:6]}"
    CONF([], project="mininova", default_config_files=[])
    CONF.set_override("state_path", str(root))
    CONF.set_override("instances_path", str(root / "instances"))
    CONF.set_override("instance_name_template", f"{prefix}-%08x")
    driver = libvirt_driver.LibvirtDriver()
    volumes = Volumes(root / "volumes")
    try:
        driver.init_host(f"{prefix}-host")
        yield driver, volumes, root, prefix
    finally:
        driver.cleanup_host(driver.host)
        remove_domains(prefix)
        volumes.close()
        CONF.reset()
    assert not list((root / "volumes" / nbd.EXPORTS_DIR).glob("*.pid"))


def remove_domains(prefix):
    conn = libvirt.open("qemu:///system")
    try:
        for domain in conn.listAllDomains():
            if domain.name().startswith(prefix):
                if domain.isActive():
                    domain.destroy()
                domain.undefineFlags(libvirt.VIR_DOMAIN_UNDEFINE_MANAGED_SAVE
                                     | libvirt.VIR_DOMAIN_UNDEFINE_NVRAM)
    finally:
        conn.close()


def instance(number, user_data=None):
    return {"uuid": str(uuid.uuid4()), "id": number, "display_name": f"bdm-{number}",
            "flavor": dict(NANO), "user_id": "demo", "project_id": "demo",
            "image_ref": "", "config_drive": "True" if user_data else "",
            "user_data": base64.b64encode(user_data.encode()).decode() if user_data else None,
            "hostname": f"bdm-{number}"}


def row(bdm_id, source, dest, device, **values):
    bdm = {"id": bdm_id, "source_type": source, "destination_type": dest,
           "device_name": device, "boot_index": None, "guest_format": None,
           "volume_size": None, "volume_id": None, "connection_info": None,
           "disk_bus": None, "delete_on_termination": False}
    bdm.update(values)
    return bdm


def block_device_info(rows):
    return {"root_device_name": "/dev/vda", "mappings": rows,
            "block_device_mapping": [], "ephemerals": [], "swap": None}


def domain_disks(inst, flags=0):
    conn = libvirt.open("qemu:///system")
    try:
        xml = conn.lookupByUUIDString(inst["uuid"]).XMLDesc(flags)
    finally:
        conn.close()
    return {d.find("target").get("dev"): d for d in ET.fromstring(xml).findall("devices/disk")}


def console(root, inst):
    path = Path(CONF.instances_path) / inst["uuid"] / "console.log"
    return path.read_text(errors="replace") if path.exists() else ""


def wait_console(root, inst, text, timeout=400):
    return wait_until(lambda: console(root, inst), lambda out: text in out, timeout,
                      interval=0.5, what=f"{text!r} on the console of {inst['uuid']}")


def test_boot_from_volume_with_ephemeral_swap_and_a_hot_plugged_volume(env):
    driver, volumes, root, _prefix = env
    ctx = mn_context.get_admin_context()
    volumes.make("root", from_image=dep.TINY_IMAGE)
    volumes.make("data", size_bytes=1024 ** 3)
    inst = instance(1, USER_DATA)
    rows = [row(1, "volume", "volume", "/dev/vda", boot_index=0, volume_id="root",
                connection_info=volumes.export("root")),
            row(2, "blank", "local", "/dev/vdb", guest_format="ext4", volume_size=1),
            row(3, "blank", "local", "/dev/vdc", guest_format="swap", volume_size=32)]
    driver.spawn(ctx, inst, {}, block_device_info=block_device_info(rows))
    try:
        instance_dir = Path(CONF.instances_path) / inst["uuid"]
        # Boot from volume: no root disk file, no image cache.
        assert not (instance_dir / "disk").exists()
        assert not (Path(CONF.instances_path) / "_base").exists()
        assert (instance_dir / "disk.eph0").stat().st_size == 1024 ** 3
        assert (instance_dir / "disk.swap").stat().st_size == 32 * 1024 ** 2
        disks = domain_disks(inst)
        vda = disks["vda"]
        assert vda.get("type") == "network"
        assert vda.find("source").get("protocol") == "nbd"
        assert vda.find("source").get("name") == "volume-root"
        assert vda.findtext("serial") == "root"
        assert disks["vdb"].find("source").get("file") == str(instance_dir / "disk.eph0")
        assert disks["vdc"].find("source").get("file") == str(instance_dir / "disk.swap")

        out = wait_console(root, inst, "SWAPS")
        assert "DISKS:vda vdb vdc" in out
        # The ext4 label mkfs gave it, read by the guest's findfs.
        assert "EPHEMERAL /dev/vdb" in out
        assert "SWAPON-STATUS 0" in out and "SWAPS /dev/vdc" in out

        # Hot-plug a blank 1 GiB volume: the guest sees vdd and writes it.
        data = volumes.export("data")
        driver.attach_volume(ctx, data, inst, "/dev/vdd")
        assert "vdd" in domain_disks(inst)
        assert "vdd" in domain_disks(inst, libvirt.VIR_DOMAIN_XML_INACTIVE)
        out = wait_console(root, inst, "WROTE-VDD")
        assert f"VDD-ARRIVED sectors={1024 ** 3 // 512}" in out

        driver.detach_volume(ctx, data, inst, "/dev/vdd")
        assert "vdd" not in domain_disks(inst)
        assert "vdd" not in domain_disks(inst, libvirt.VIR_DOMAIN_XML_INACTIVE)
        wait_console(root, inst, "VDD-GONE")
        with open(volumes.root / "volume-data", "rb") as f:
            assert f.read(len(MARKER)).decode() == MARKER
    finally:
        driver.destroy(ctx, inst, destroy_disks=True)
    assert not (Path(CONF.instances_path) / inst["uuid"]).exists()


def test_attach_and_detach_on_a_stopped_guest_change_its_definition_only(env):
    driver, volumes, root, _prefix = env
    ctx = mn_context.get_admin_context()
    volumes.make("root2", from_image=dep.TINY_IMAGE)
    volumes.make("cold", size_bytes=64 * 1024 ** 2)
    inst = instance(2)
    rows = [row(1, "volume", "volume", "/dev/vda", boot_index=0, volume_id="root2",
                connection_info=volumes.export("root2"))]
    driver.spawn(ctx, inst, {}, block_device_info=block_device_info(rows))
    try:
        driver.power_off(inst)
        cold = volumes.export("cold")
        driver.attach_volume(ctx, cold, inst, "/dev/vdb")
        assert "vdb" in domain_disks(inst, libvirt.VIR_DOMAIN_XML_INACTIVE)
        # Started again from the instance's rows, the volume among them.
        rows.append(row(2, "volume", "volume", "/dev/vdb", volume_id="cold",
                        connection_info=cold))
        driver.power_on(ctx, inst, block_device_info=block_device_info(rows))
        assert "vdb" in domain_disks(inst)
        assert driver.get_power_state(inst) == 1
        driver.power_off(inst)
        driver.detach_volume(ctx, cold, inst, "/dev/vdb")
        assert "vdb" not in domain_disks(inst, libvirt.VIR_DOMAIN_XML_INACTIVE)
    finally:
        driver.destroy(ctx, inst, destroy_disks=True)
