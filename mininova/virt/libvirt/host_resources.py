"""What this hypervisor host has, for the resource tracker (mirrors
``get_available_resource`` and the disk accounting of
``nova/virt/libvirt/driver.py``): CPUs, memory, disk, how much the qcow2
overlays may still grow (``disk_available_least``), and which guests it
can run.

A mixin of :class:`~mininova.virt.libvirt.driver.LibvirtDriver`.
"""

import os
import platform

import libvirt
from oslo_log import log as logging
from oslo_utils import units

from mininova.conf import CONF
from mininova.virt.libvirt import utils as libvirt_utils

LOG = logging.getLogger(__name__)


class HostResourcesMixin:
    def get_available_resource(self):
        conn = self._host.get_connection()
        _arch, _numa_memory_mb, cpus, _mhz, _nodes, sockets, cores, threads = conn.getInfo()
        # getInfo()'s memory is NUMA node 0's on some hosts; the node memory
        # stats over all cells are the whole machine's.
        memory_kb = conn.getMemoryStats(libvirt.VIR_NODE_MEMORY_STATS_ALL_CELLS)["total"]
        disk = os.statvfs(CONF.instances_path)
        return {
            "hypervisor_hostname": self.host,
            "hypervisor_type": "QEMU",
            "hypervisor_version": self._hypervisor_version,
            "vcpus": cpus,
            "memory_mb": memory_kb // 1024,
            "local_gb": disk.f_blocks * disk.f_frsize // units.Gi,
            "disk_available_least": self._disk_available_least(disk),
            "cpu_info": _cpu_info(sockets, cores, threads),
            "stats": {"cpu_arch": platform.machine(), "virt_type": self.virt_type,
                      "supported_instances": self._supported_instances()},
        }

    def _disk_available_least(self, disk):
        """Nova's ``disk_available_least``, in whole GB: the space really free
        where instances live (``df``'s Avail), minus what this host's qcow2
        overlays may still grow into (each one's virtual size minus what it
        already holds). It can be negative: the disk is over-committed.

        Nova counts the disks of every guest of the hypervisor; a driver here
        knows only its own guests (several computes may share one libvirtd).
        """
        free = disk.f_bavail * disk.f_frsize
        return (free - self._disk_over_committed()) // units.Gi

    def _disk_over_committed(self):
        """Bytes this host's disks may still grow by (Nova's
        ``_get_disk_over_committed_size_total``), read from the files
        themselves: a qcow2 header's virtual size, no qemu-img process."""
        total = 0
        for instance_uuid in self.list_instance_uuids():
            instance_dir = self._instance_dir({"uuid": instance_uuid})
            for path, disk_format in libvirt_utils.read_disk_info(instance_dir).items():
                try:
                    total += libvirt_utils.disk_growth_room(path, disk_format)
                except OSError:
                    # Removed since listed (a delete, a resize): nothing to grow.
                    LOG.debug("Disk %s is gone; not counted in disk_available_least", path)
        return total

    def _supported_instances(self):
        """(architecture, hypervisor type, vm mode) this host can run, for the
        ImagePropertiesFilter: a 64-bit x86 host runs 32-bit guests too."""
        arch = platform.machine()
        archs = [arch, "i686"] if arch == "x86_64" else [arch]
        return [[guest_arch, self.virt_type, "hvm"] for guest_arch in archs]


def _cpu_info(sockets, cores, threads):
    """The host CPU, from /proc/cpuinfo. (libvirt's getCapabilities() has it
    too, but takes seconds on some hosts: too slow for a periodic task.)"""
    fields = {}
    try:
        with open(libvirt_utils.CPUINFO) as f:
            for line in f:
                key, _sep, value = line.partition(":")
                fields.setdefault(key.strip(), value.strip())
    except OSError:
        pass
    return {"arch": platform.machine(), "model": fields.get("model name"),
            "vendor": fields.get("vendor_id"),
            "topology": {"sockets": sockets, "cores": cores, "threads": threads}}
