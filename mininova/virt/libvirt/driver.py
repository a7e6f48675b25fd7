"""The libvirt driver (mirrors ``nova/virt/libvirt/driver.py``).

``spawn`` does what a student can then find on disk and in ``virsh``::

    $instances_path/<uuid>/                 mkdir
    "Creating image"
    $instances_path/_base/<sha1(image id)>  download + convert, once per host
    $instances_path/<uuid>/disk             qcow2 overlay on it
    $instances_path/<uuid>/disk.info        {"<disk path>": "qcow2"}
    $instances_path/<uuid>/libvirt.xml      the domain we define
    virsh define + start                    instance-0000000N
    $instances_path/<uuid>/console.log      serial console, written by virtlogd
    "Instance spawned successfully."

``destroy`` undoes all of it but the base file, which the image cache
keeps for the next boot of the same image, until the image cache manager
removes it unused.

Several compute services may share one libvirtd (two "hosts" on one
machine): each guest records its compute host in its metadata, and a
service only lists the guests that name it.

Left out: networking (no <interface> yet), volumes, config drive,
snapshots, resize, migration, rescue, the event thread.
"""

import datetime
import os
import platform
import shutil
import xml.etree.ElementTree as ET
from importlib import metadata

import libvirt
from oslo_log import log as logging

from mininova.compute import power_state
from mininova.conf import CONF
from mininova.virt import driver
from mininova.virt.libvirt import config as vconfig
from mininova.virt.libvirt import host as libvirt_host
from mininova.virt.libvirt import imagebackend, imagecache
from mininova.virt.libvirt import utils as libvirt_utils

LOG = logging.getLogger(__name__)

# libvirt's domain states → Nova's power states.
LIBVIRT_POWER_STATE = {
    libvirt.VIR_DOMAIN_NOSTATE: power_state.NOSTATE,
    libvirt.VIR_DOMAIN_RUNNING: power_state.RUNNING,
    libvirt.VIR_DOMAIN_BLOCKED: power_state.RUNNING,
    libvirt.VIR_DOMAIN_PAUSED: power_state.PAUSED,
    libvirt.VIR_DOMAIN_SHUTDOWN: power_state.SHUTDOWN,
    libvirt.VIR_DOMAIN_SHUTOFF: power_state.SHUTDOWN,
    libvirt.VIR_DOMAIN_CRASHED: power_state.CRASHED,
    libvirt.VIR_DOMAIN_PMSUSPENDED: power_state.SUSPENDED,
}

GiB = 1024 ** 3


class LibvirtDriver(driver.ComputeDriver):
    def __init__(self):
        self._host = libvirt_host.Host(CONF.libvirt.connection_uri)
        self.virt_type = None
        self.host = None
        self._hypervisor_version = 0
        self._disk_cache_mode = "none"
        self.image_cache_manager = imagecache.ImageCacheManager()

    # --- start and stop ------------------------------------------------------

    def init_host(self, host):
        self.host = host
        os.makedirs(CONF.instances_path, exist_ok=True)
        self.virt_type = self._choose_virt_type()
        conn = self._host.get_connection()
        # Asked once: libvirtd answers getVersion() slowly (it re-probes QEMU).
        self._hypervisor_version = conn.getVersion()
        LOG.info("Connected to libvirt %s at %s (QEMU %s); guests will be "
                 "<domain type='%s'>", _version(conn.getLibVersion()), self._host.uri,
                 _version(self._hypervisor_version), self.virt_type)
        blocked = libvirt_utils.unreachable_parent(CONF.instances_path)
        if blocked:
            LOG.warning("%s is not searchable by other users: QEMU, which libvirt runs "
                        "as its own user, will not reach the disks under %s (chmod o+x %s)",
                        blocked, CONF.instances_path, blocked)
        if not libvirt_utils.supports_direct_io(CONF.instances_path):
            # Some filesystems (tmpfs) refuse O_DIRECT; Nova falls back the same way.
            self._disk_cache_mode = "writethrough"

    def _choose_virt_type(self):
        configured = CONF.libvirt.virt_type
        detected, why = libvirt_utils.detect_virt_type()
        if configured == "auto":
            LOG.info("virt_type auto-detected: %s (%s)", detected, why)
            return detected
        if configured == "kvm" and detected != "kvm":
            LOG.warning("virt_type=kvm is configured but this host lacks hardware "
                        "virtualisation (%s); guests may fail to start", why)
        LOG.info("virt_type %s (from [libvirt] virt_type)", configured)
        return configured

    def cleanup_host(self, host):
        self._host.close()

    # --- resources -------------------------------------------------------------

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
            "local_gb": disk.f_blocks * disk.f_frsize // GiB,
            "cpu_info": _cpu_info(sockets, cores, threads),
            "stats": {"cpu_arch": platform.machine(), "virt_type": self.virt_type,
                      "supported_instances": self._supported_instances()},
        }

    def _supported_instances(self):
        """(architecture, hypervisor type, vm mode) this host can run, for the
        ImagePropertiesFilter: a 64-bit x86 host runs 32-bit guests too."""
        arch = platform.machine()
        archs = [arch, "i686"] if arch == "x86_64" else [arch]
        return [[guest_arch, self.virt_type, "hvm"] for guest_arch in archs]

    # --- spawn ---------------------------------------------------------------

    def spawn(self, context, instance, image_meta):
        instance_dir = self._instance_dir(instance)
        os.makedirs(instance_dir, exist_ok=True)
        LOG.info("Creating image", instance=instance)
        disk_path = imagebackend.create_root_disk(context, instance, image_meta,
                                                  instance_dir, self._disk_cache_mode)
        xml = self._guest_config(instance, disk_path, instance_dir).to_xml()
        with open(os.path.join(instance_dir, "libvirt.xml"), "w") as f:
            f.write(xml)
        self._create_domain(xml)
        LOG.info("Instance spawned successfully.", instance=instance)

    def _guest_config(self, instance, disk_path, instance_dir):
        flavor = instance["flavor"]
        return vconfig.GuestConfig(
            virt_type=self.virt_type,
            uuid=instance["uuid"],
            name=instance_name(instance),
            memory_mb=flavor["memory_mb"],
            vcpus=flavor["vcpus"],
            disk_path=disk_path,
            disk_cache_mode=self._disk_cache_mode,
            console_log_path=os.path.join(instance_dir, "console.log"),
            display_name=instance["display_name"] or "",
            creation_time=datetime.datetime.now(datetime.timezone.utc).strftime(
                "%Y-%m-%d %H:%M:%S"),
            flavor=flavor,
            user_id=instance["user_id"] or "",
            project_id=instance["project_id"] or "",
            image_id=instance["image_ref"] or "",
            host=self.host,
            package_version=_package_version(),
        )

    def _create_domain(self, xml):
        conn = self._host.get_connection()
        domain = conn.defineXML(xml)
        try:
            domain.createWithFlags(0)
        except libvirt.libvirtError:
            # A defined domain that never started is still a leak.
            domain.undefineFlags(libvirt.VIR_DOMAIN_UNDEFINE_NVRAM)
            raise
        return domain

    # --- destroy -----------------------------------------------------------------

    def destroy(self, context, instance, destroy_disks=True):
        domain = self._host.lookup(instance["uuid"])
        if domain is not None:
            self._destroy_domain(domain)
            domain.undefineFlags(libvirt.VIR_DOMAIN_UNDEFINE_NVRAM
                                 | libvirt.VIR_DOMAIN_UNDEFINE_MANAGED_SAVE)
            LOG.info("Instance destroyed successfully.", instance=instance)
        if destroy_disks:
            self._delete_instance_files(instance)

    @staticmethod
    def _destroy_domain(domain):
        try:
            if domain.isActive():
                domain.destroy()
        except libvirt.libvirtError as exc:
            # It may have stopped between the two calls.
            if exc.get_error_code() != libvirt.VIR_ERR_OPERATION_INVALID:
                raise

    def _delete_instance_files(self, instance):
        target = self._instance_dir(instance)
        if not os.path.exists(target):
            return
        LOG.info("Deleting instance files %s", target, instance=instance)
        # Rename first, as Nova does: a half-deleted directory must not look
        # like a live instance's directory to anyone who looks meanwhile.
        doomed = f"{target}_del"
        os.rename(target, doomed)
        shutil.rmtree(doomed)
        LOG.info("Deletion of %s complete", doomed, instance=instance)

    # --- the image cache -------------------------------------------------------------

    def manage_image_cache(self, context, all_instances):
        self.image_cache_manager.update(context, all_instances)

    def get_image_cache(self, context, all_instances, next_pass_at):
        return self.image_cache_manager.report(context, all_instances, next_pass_at)

    # --- questions ------------------------------------------------------------------

    def get_power_state(self, instance):
        domain = self._host.lookup(instance["uuid"])
        if domain is None:
            return power_state.NOSTATE
        state, _reason = domain.state()
        return LIBVIRT_POWER_STATE.get(state, power_state.NOSTATE)

    def get_console_output(self, context, instance):
        path = os.path.join(self._instance_dir(instance), "console.log")
        try:
            with open(path, "rb") as f:
                f.seek(0, os.SEEK_END)
                f.seek(max(0, f.tell() - CONF.console_log_max_bytes))
                return f.read()
        except FileNotFoundError:
            return b""

    def list_instance_uuids(self):
        """UUIDs of the guests that name this compute host in their metadata."""
        uuids = []
        for domain in self._host.get_connection().listAllDomains():
            if self._owner(domain) == self.host:
                uuids.append(domain.UUIDString())
        return uuids

    @staticmethod
    def _owner(domain):
        try:
            element = ET.fromstring(domain.metadata(libvirt.VIR_DOMAIN_METADATA_ELEMENT,
                                                    vconfig.NOVA_NS))
        except libvirt.libvirtError:
            return None
        # libvirt hands the element back without its namespace.
        return element.findtext("host")

    @staticmethod
    def _instance_dir(instance):
        return os.path.join(CONF.instances_path, instance["uuid"])


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


def instance_name(instance):
    """``instance-0000002a``: the name a student finds in ``virsh list``."""
    return CONF.instance_name_template % instance["id"]


def _version(number):
    major, rest = divmod(number, 1000000)
    minor, micro = divmod(rest, 1000)
    return f"{major}.{minor}.{micro}"


def _package_version():
    try:
        return metadata.version("mininova")
    except metadata.PackageNotFoundError:
        return "0"

