"""A libvirt guest's disks beyond the root: volumes over NBD, ephemeral and
swap files, volumes added and removed while it runs (mirrors the block
device parts of ``nova/virt/libvirt/driver.py``: ``_create_ephemeral``,
``_create_swap``, ``_get_guest_storage_config``, ``get_volume_connector``,
``attach_volume``, ``detach_volume`` and its ``_detach_with_retry``; and
``nova/virt/libvirt/volume/net.py``, the network volume driver).

A mixin of :class:`~mininova.virt.libvirt.driver.LibvirtDriver`, as
guest_network.py is. Nothing is connected on the host for a volume: QEMU
speaks NBD itself, so "connecting" is putting the export's address in the
disk's ``<source protocol='nbd'>`` (no os-brick, no /dev/nbdX).

Detaching from a running guest needs the guest's help (the kernel lets go
of the PCI device when ACPI tells it to), so the request is repeated, as
Nova does, until the disk is gone from the live domain or the attempts run
out (DeviceDetachFailed; the definition has lost the disk either way).

Left out: every other volume driver (iSCSI, RBD, FC...), encryption,
multipath, the device-removed events (the live XML is polled instead),
volume extend, swap_volume.
"""

import os
import platform
import sys
import time
import xml.etree.ElementTree as ET

import libvirt
from oslo_log import log as logging

from mininova import exception
from mininova.virt.libvirt import blockinfo, imagebackend
from mininova.virt.libvirt import config as vconfig
from mininova.virt.libvirt import utils as libvirt_utils

LOG = logging.getLogger(__name__)

# Nova's [libvirt] device_detach_attempts and device_detach_timeout (s).
DEVICE_DETACH_ATTEMPTS = 8
DEVICE_DETACH_TIMEOUT = 20
DETACH_POLL_SECONDS = 0.5


class GuestVolumesMixin:
    # --- names and the disks of a boot ------------------------------------------------

    def default_device_names_for_instance(self, instance, bdms):
        return blockinfo.default_device_names(instance, bdms)

    def get_device_name_for_instance(self, instance, bdms, requested=None):
        return blockinfo.get_device_name_for_instance(instance, bdms, requested)

    def _guest_disks(self, instance, instance_dir, block_device_info, create=False):
        """(root disk path or None, [the other disks for config.disk_element]).
        With ``create``, the ephemeral and swap files are made (a boot)."""
        bdms = (block_device_info or {}).get("mappings") or []
        # The driver block devices (virt/block_device.py) carry their row's
        # id as an attribute, not a key.
        volumes = {device.id: device for device in
                   (block_device_info or {}).get("block_device_mapping") or []
                   if getattr(device, "id", None) is not None}
        root_path = os.path.join(instance_dir, "disk")
        disks = []
        for disk in blockinfo.get_disk_mapping(instance, bdms):
            if disk.kind == "root" and (disk.bdm is None
                                        or disk.bdm.get("destination_type") == "local"):
                continue    # the image's qcow2 overlay, config.py's own
            if disk.kind == "root":
                root_path = None
            if disk.bdm is not None and disk.bdm.get("destination_type") == "volume":
                connection_info = (volumes.get(disk.bdm["id"]) or {}).get(
                    "connection_info") or disk.bdm.get("connection_info")
                if not connection_info:
                    LOG.warning("Volume %s has no connection yet: left out of the guest",
                                disk.bdm.get("volume_id"), instance=instance)
                    continue
                disks.append(volume_disk(connection_info, disk.dev, disk.bdm.get("disk_bus")))
            else:
                disks.append(self._local_disk(instance, instance_dir, disk, create))
        return root_path, disks

    def _local_disk(self, instance, instance_dir, disk, create):
        """An ephemeral or swap disk file; made now on a boot."""
        flavor = instance.get("flavor") or {}
        bdm = disk.bdm or {}
        if disk.kind == "swap":
            name = "disk.swap"
            size = bdm.get("volume_size") or flavor.get("swap") or 0
        elif disk.kind == "local":
            name, size = "disk.local", flavor.get("ephemeral_gb") or 0
        else:
            name = f"disk.eph{disk.index}"
            size = bdm.get("volume_size") or flavor.get("ephemeral_gb") or 0
        path = os.path.join(instance_dir, name)
        if create and not os.path.exists(path):
            if disk.kind == "swap":
                imagebackend.create_swap(path, size)
            else:
                # The flavor's disk is left unformatted, as Nova with no
                # [DEFAULT] default_ephemeral_format on a guest whose OS it
                # does not know; a mapping's is formatted as it asks.
                imagebackend.create_ephemeral(path, size, bdm.get("guest_format"),
                                              f"ephemeral{disk.index}")
            libvirt_utils.add_disk_info(instance_dir, path, "raw")
        return {"type": "file", "path": path, "format": "raw", "dev": disk.dev,
                "bus": bdm.get("disk_bus")}

    # --- attach and detach ---------------------------------------------------------------

    def get_volume_connector(self, instance):
        """What the volume service is told about this host (os-brick's
        connector properties, of which only ``host`` matters for NBD)."""
        return {"host": self.host, "ip": "127.0.0.1", "initiator": None,
                "platform": platform.machine(), "os_type": sys.platform,
                "multipath": False}

    def attach_volume(self, context, connection_info, instance, mountpoint, disk_bus=None,
                      device_type=None):
        """Add the volume's <disk> to the guest: live if it runs, and to its
        definition either way (a stopped server gets it at its next start)."""
        domain = self._host.lookup(instance["uuid"])
        if domain is None:
            raise exception.InstanceNotFound(instance_id=instance["uuid"])
        dev = mountpoint.rsplit("/", 1)[-1]
        xml = vconfig.disk_xml(volume_disk(connection_info, dev, disk_bus))
        LOG.info("Attaching volume %s at %s", connection_info.get("serial"), mountpoint,
                 instance=instance)
        domain.attachDeviceFlags(xml, _affect(domain))
        self._rewrite_xml_file(domain, instance)

    def detach_volume(self, context, connection_info, instance, mountpoint):
        """Take the volume's <disk> out of the definition and, if the guest
        runs, out of the guest (waiting for it to let go)."""
        domain = self._host.lookup(instance["uuid"])
        if domain is None:
            LOG.warning("Detaching volume from unknown instance", instance=instance)
            return
        dev = mountpoint.rsplit("/", 1)[-1]
        live = bool(domain.isActive())
        if _has_disk(domain, dev, libvirt.VIR_DOMAIN_XML_INACTIVE):
            xml = _disk_xml_of(domain, dev, libvirt.VIR_DOMAIN_XML_INACTIVE)
            domain.detachDeviceFlags(xml, libvirt.VIR_DOMAIN_AFFECT_CONFIG)
        if live and _has_disk(domain, dev, 0):
            self._detach_live_with_retry(domain, dev, instance)
        self._rewrite_xml_file(domain, instance)

    def _detach_live_with_retry(self, domain, dev, instance):
        for attempt in range(1, DEVICE_DETACH_ATTEMPTS + 1):
            xml = _disk_xml_of(domain, dev, 0)
            if xml is None:
                return
            LOG.debug("Detaching %s from the live guest (attempt %d of %d)", dev, attempt,
                      DEVICE_DETACH_ATTEMPTS, instance=instance)
            try:
                domain.detachDeviceFlags(xml, libvirt.VIR_DOMAIN_AFFECT_LIVE)
            except libvirt.libvirtError as exc:
                # A request already under way: wait for it as for ours.
                LOG.debug("Detach request: %s", exc, instance=instance)
            deadline = time.monotonic() + DEVICE_DETACH_TIMEOUT / DEVICE_DETACH_ATTEMPTS * 2
            while time.monotonic() < deadline:
                if not _has_disk(domain, dev, 0):
                    LOG.info("Successfully detached device %s from instance %s from the "
                             "live domain config.", dev, instance["uuid"], instance=instance)
                    return
                time.sleep(DETACH_POLL_SECONDS)
        raise exception.DeviceDetachFailed(
            device=dev, reason=f"the guest still had it after {DEVICE_DETACH_ATTEMPTS} "
                               "detach requests")


def volume_disk(connection_info, dev, disk_bus=None):
    """The <disk> of a volume from its ``connection_info`` (Nova's
    ``LibvirtNetVolumeDriver.get_config``: ``name``, ``hosts``, ``ports``;
    the protocol is the ``driver_volume_type``)."""
    data = connection_info.get("data") or {}
    hosts = data.get("hosts") or [data["host"]]
    ports = data.get("ports") or [data["port"]]
    return {"type": "network", "protocol": connection_info["driver_volume_type"],
            "name": data["name"], "hosts": hosts, "ports": ports, "dev": dev,
            "bus": disk_bus, "serial": connection_info.get("serial")}


def _disk_xml_of(domain, dev, flags):
    """The guest's own <disk> at target ``dev`` (as libvirt wrote it, so a
    detach matches it exactly), or None."""
    tree = ET.fromstring(domain.XMLDesc(flags))
    for disk in tree.findall("./devices/disk"):
        target = disk.find("target")
        if target is not None and target.get("dev") == dev:
            return ET.tostring(disk, encoding="unicode")
    return None


def _has_disk(domain, dev, flags):
    return _disk_xml_of(domain, dev, flags) is not None


def _affect(domain):
    flags = libvirt.VIR_DOMAIN_AFFECT_CONFIG
    if domain.isActive():
        flags |= libvirt.VIR_DOMAIN_AFFECT_LIVE
    return flags
